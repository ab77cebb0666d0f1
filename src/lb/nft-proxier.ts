/**
 * NftProxier: keeps table `ip edgekube-lb` equal to the plan for the latest ServiceState.
 *
 * Design notes
 * - The first sync (and any sync after a failed transaction) replaces the whole table in one
 *   `nft -f -` transaction: `add table; delete table; add …` is atomic, so packets never see a
 *   half-built table. Leftovers from a previous agent run are dropped the same way.
 * - Later syncs diff the rendered rules per service port against what was applied and send one
 *   transaction with only the differences: an endpoint change flushes and refills that service's
 *   chains and swaps its map elements, while every other service's chains (handles, counters,
 *   affinity sets with their sticky clients) stay untouched.
 * - What was applied is remembered in memory only. After an agent restart the first sync is a full
 *   replace, which is also what makes the state in memory trustworthy again.
 * - Syncs are serialized; a caller may fire sync() on every cache change and the calls queue.
 * - stop() leaves the rules in place on purpose: services must keep working while the agent
 *   restarts and while the hub is away. reset() (edge-agent reset) removes the table.
 * - All commands run through the injected Exec (host in production, a netns in tests).
 */
import type { Exec } from "../cni/exec.js";
import { CommandError } from "../cni/exec.js";
import type { Logger } from "../lib/logger.js";
import { silentLogger } from "../lib/logger.js";
import { diffScript, fullScript, LB_TABLE, type NftServiceRules, renderAll } from "./nft-rules.js";
import { planServices } from "./planner.js";
import type { LbPlan, ServiceState } from "./types.js";

export interface SyncResult {
  mode: "full" | "incremental" | "unchanged";
  /** service port ids whose rules were (re)written or removed */
  changed: string[];
  warnings: string[];
}

export class LbUnavailableError extends Error {
  constructor(cause: unknown) {
    super("nftables is not usable on this node (`nft --version` failed): install the nftables package", {
      cause,
    });
    this.name = "LbUnavailableError";
  }
}

export class LbApplyError extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = "LbApplyError";
  }
}

export interface NftProxierDeps {
  exec: Exec;
  logger?: Logger;
}

export class NftProxier {
  private readonly exec: Exec;
  private readonly log: Logger;
  private applied: Map<string, NftServiceRules> | undefined;
  private appliedCIDR = "";
  private lastPlan: LbPlan | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(deps: NftProxierDeps) {
    this.exec = deps.exec;
    this.log = (deps.logger ?? silentLogger()).child({ component: "lb" });
  }

  /** Checks that nft works; rejects with LbUnavailableError otherwise. Programs nothing yet. */
  async start(signal?: AbortSignal): Promise<void> {
    try {
      await this.exec("nft", ["--version"]);
    } catch (err) {
      throw new LbUnavailableError(err);
    }
    this.stopped = false;
    signal?.addEventListener("abort", () => this.stop(), { once: true });
  }

  /** Stops accepting syncs. Rules stay in the kernel (see design notes). Idempotent. */
  stop(): void {
    this.stopped = true;
  }

  /** The plan of the last successful sync. */
  plan(): LbPlan | undefined {
    return this.lastPlan;
  }

  /** Programs the rules for `state`; queued behind any sync still running. */
  sync(state: ServiceState): Promise<SyncResult> {
    const run = this.queue.then(() => this.syncNow(state));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Removes the table and forgets what was applied (edge-agent reset). Safe when nothing exists. */
  reset(): Promise<void> {
    const run = this.queue.then(async () => {
      await this.exec("nft", ["delete", "table", "ip", LB_TABLE]).catch((err: unknown) => {
        if (!(err instanceof CommandError && /No such file or directory/i.test(err.stderr))) throw err;
      });
      this.applied = undefined;
      this.lastPlan = undefined;
      this.log.info("service rules removed");
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async syncNow(state: ServiceState): Promise<SyncResult> {
    if (this.stopped) throw new LbApplyError("the service proxy is stopped: start() it before sync()", null);
    const plan = planServices(state);
    for (const w of plan.warnings) this.log.warn({ warning: w }, "service skipped");
    const rules = renderAll(plan);
    let result: SyncResult;
    if (this.applied && this.appliedCIDR === plan.clusterCIDR) {
      const { script, changed } = diffScript(this.applied, rules);
      if (!script) {
        result = { mode: "unchanged", changed: [], warnings: plan.warnings };
      } else {
        try {
          await this.nft(script);
          result = { mode: "incremental", changed, warnings: plan.warnings };
        } catch (err) {
          // The kernel state is not what we believed (someone edited the table?): rebuild it.
          this.log.warn({ err }, "incremental update failed; replacing the whole table");
          await this.full(rules);
          result = { mode: "full", changed: [...rules.keys()], warnings: plan.warnings };
        }
      }
    } else {
      await this.full(rules);
      result = { mode: "full", changed: [...rules.keys()], warnings: plan.warnings };
    }
    this.applied = rules;
    this.appliedCIDR = plan.clusterCIDR;
    this.lastPlan = plan;
    if (result.mode !== "unchanged") {
      this.log.debug({ mode: result.mode, changed: result.changed.length }, "service rules programmed");
    }
    return result;
  }

  private async full(rules: Map<string, NftServiceRules>): Promise<void> {
    this.applied = undefined;
    try {
      await this.nft(fullScript(rules.values()));
    } catch (err) {
      throw new LbApplyError(
        `programming table ip ${LB_TABLE} failed; service traffic is not proxied on this node. ` +
          "Check that the kernel has nf_tables and nft_nat (modprobe nft_nat) and see the nft error",
        err,
      );
    }
  }

  private async nft(script: string): Promise<void> {
    await this.exec("nft", ["-f", "-"], { input: script, timeoutMs: 60_000 });
  }
}
