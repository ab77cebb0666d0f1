/**
 * NodeHeartbeats: node leases and node status, coalesced in hub memory so an idle fleet writes
 * almost nothing to the SD card, plus "link lost" presence.
 *
 * Design notes
 * - Lease renewals (`lease/<node>` reports and heartbeat envelopes) only update a time in memory.
 *   A timer flushes renewed leases every `leaseFlushMs` (default 15 s): a Lease read through the
 *   API is then at most ~15 s + the agent's heartbeat interval old, well inside the 40 s lease
 *   duration the node lifecycle controller judges by, and the store sees one write per node per
 *   15 s instead of one per beat. A node's first renewal is written at once so its Lease exists
 *   right after join. Leases of nodes that stopped renewing are not rewritten: they expire.
 * - Node status is written at once when it changed (ignoring heartbeat/transition times; a Ready
 *   flip is a change), otherwise refreshed every `nodeStatusRefreshMs` (default 5 min, upstream's
 *   nodeStatusReportFrequency) so lastHeartbeatTime does not freeze.
 * - Link lost (last connection closed, or the last-will): the kubelet conditions go Unknown at
 *   once; link back: they are restored, after the reconnect burst (restore-queue.ts), from the
 *   node's last report or what link-conditions.ts says. Tainting stays with the node lifecycle
 *   controller.
 * - A connected node is alive: every flush renews the Lease of each node with a live MQTT
 *   connection (`connected()`) and rewrites its last reported status once `nodeStatusRefreshMs`
 *   passed, so agents spend no bytes on periodic reports (keepalive + last-will tell the broker
 *   within 1.5× the keepalive when a link dies, and linkLost stops this at once).
 * - A flush writes in name order, FLUSH_BATCH in flight (inBatches: one group-committed SQLite
 *   transaction each instead of one per node, the SD card's main load at 5,000 idle nodes);
 *   `serial` keeps a flush from racing a node's own change. Renewals take the store's
 *   owned-fields path (apiserver/owned-update.ts: no defaults, validation or admission for values
 *   the hub builds; ≈ 17 → 10 KB of garbage per renewal, docs/hub-memory.md §7).
 * - Renewal times come from the hub's clock (a Pi without RTC may not know the date).
 * - State per node is bounded by the fleet: a node whose Node object is gone (a write or the
 *   link-lost mark answers NotFound) is forgotten, so device turnover does not accumulate.
 */
import type { KubeObject } from "../../api/object.js";
import { metaTime } from "../../api/time.js";
import { type Client, isNotFound, refs } from "../../client/client.js";
import type { Logger } from "../../lib/logger.js";
import {
  type Condition,
  conditionsOf,
  mergeConditions,
  readyStatus,
  statusFingerprint,
} from "./conditions.js";
import { beforeLoss, healthyAgain, linkLostConditions } from "./link-conditions.js";
import { writeNodeLease } from "./node-lease.js";
import { inBatches, RestoreQueue } from "./restore-queue.js";

export { LINK_LOST_MESSAGE } from "./link-conditions.js";
export { LEASE_NAMESPACE } from "./node-lease.js";
export { FLUSH_BATCH } from "./restore-queue.js";

export interface NodeHeartbeatsOptions {
  client: Client;
  logger: Logger;
  now?: () => Date;
  leaseFlushMs?: number;
  nodeStatusRefreshMs?: number;
  leaseDurationSeconds?: number;
  /** nodes with a live link right now (the broker's view); their leases are renewed at flush */
  connected?: () => Iterable<string>;
  /** a reconnected node's status is written back once no other came back for this long (ms) */
  restoreQuietMs?: number;
}

/** restores wait for a quiet moment of this long, but never more than RESTORE_MAX_DELAY_MS */
const RESTORE_QUIET_MS = 1_000;
const RESTORE_MAX_DELAY_MS = 5_000;

interface NodeState {
  /** renewal not yet written */
  renewed?: Date;
  leaseWritten: boolean;
  /** newest reported status not yet written */
  pending?: Record<string, unknown>;
  /** fingerprint of the last status written and when */
  written?: string;
  writtenAt: number;
  /** newest status the node reported (restored when its link comes back) */
  reported?: Record<string, unknown>;
  /** statusFingerprint of `reported` (undefined: not computed, e.g. a guess made at link loss) */
  reportedFp?: string;
  lost: boolean;
  /** whether a mark left by an earlier hub process was looked for (once per process) */
  marksChecked?: boolean;
}

export class NodeHeartbeats {
  private readonly nodes = new Map<string, NodeState>();
  private readonly now: () => Date;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** reconnected nodes whose status is to be written back */
  private readonly restores: RestoreQueue;

  constructor(private readonly opts: NodeHeartbeatsOptions) {
    this.now = opts.now ?? (() => new Date());
    this.restores = new RestoreQueue({
      quietMs: opts.restoreQuietMs ?? RESTORE_QUIET_MS,
      maxDelayMs: RESTORE_MAX_DELAY_MS,
      write: (nodes) => this.serial(() => inBatches(nodes, (node) => this.writeStatus(node))),
    });
    this.log = opts.logger.child({ component: "node-heartbeats" });
  }

  start(signal?: AbortSignal): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.opts.leaseFlushMs ?? 15_000);
    this.timer.unref();
    signal?.addEventListener("abort", () => void this.stop(), { once: true });
  }

  /** Stops the timer and writes what is still pending (call before the store closes). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.restores.flush();
    await this.flush();
  }

  /** how many nodes this keeps state for (connected, or lost with a Node still stored) */
  get tracked(): number {
    return this.nodes.size;
  }

  private state(node: string): NodeState {
    let s = this.nodes.get(node);
    if (!s) {
      s = { leaseWritten: false, writtenAt: 0, lost: false };
      this.nodes.set(node, s);
    }
    return s;
  }

  /** The node is alive (heartbeat or lease report). */
  renew(node: string): void {
    const s = this.state(node);
    s.renewed = this.now();
    if (!s.leaseWritten) void this.serial(() => this.writeLease(node));
  }

  /** The node reported its status; written now if it changed, else coalesced. */
  async reportStatus(node: string, status: Record<string, unknown>): Promise<void> {
    const s = this.state(node);
    const fp = statusFingerprint(status);
    // an unchanged report keeps the object already held: the times it differs in are not
    // written (the hub stamps its own), and replacing a long-lived object with an equal one
    // turns the old one into old-space garbage: a whole fleet's status objects every hour
    if (fp !== s.reportedFp) {
      s.reported = status;
      s.reportedFp = fp;
    }
    s.pending = s.reported;
    s.lost = false;
    if (s.written !== fp) await this.serial(() => this.writeStatus(node));
  }

  /** The node's link is gone: conditions Unknown now, no more lease renewals from memory. */
  async linkLost(node: string): Promise<void> {
    const s = this.state(node);
    s.renewed = undefined;
    s.pending = undefined;
    s.lost = true;
    await this.serial(async () => {
      try {
        await this.mutateConditions(
          node,
          (stored) => {
            // a hub restarted since the node's last report has nothing to restore on reconnect
            // but what this write hides (and a node that was not Ready gets no healthy guess)
            s.marksChecked = true;
            if (!s.reported) {
              const before = beforeLoss(stored);
              if (before) {
                s.reported = { conditions: before };
                s.reportedFp = undefined;
              }
            }
            return linkLostConditions(stored);
          },
          { heartbeat: false },
        );
        s.written = undefined;
        this.log.info({ node }, "node link lost: Ready=Unknown");
      } catch (err) {
        // a deleted Node's link went down: nothing to restore later, so forget its state
        if (isNotFound(err)) this.nodes.delete(node);
        else this.log.warn({ node, err: (err as Error).message }, "could not mark node link lost");
      }
    });
  }

  /**
   * The node's link is back: its lease is renewed again from now on, and its last reported
   * status (Ready=True) restored at once rather than at its next report (link-conditions.ts says
   * what is restored when this hub has no report of it).
   */
  async linkRestored(node: string): Promise<void> {
    const s = this.state(node);
    const wasLost = s.lost;
    // cleared even with nothing to restore: a lost node's lease is not renewed at flush
    s.lost = false;
    this.renew(node);
    if (wasLost && s.reported) {
      s.pending = s.reported;
      s.written = undefined;
      await this.restores.add(node);
    } else if (!s.reported && !s.marksChecked) {
      s.marksChecked = true;
      await this.serial(() => this.undoEarlierLoss(node));
    }
  }

  /** A node marked lost by an earlier hub process reconnected: its Unknown marks undone. */
  private async undoEarlierLoss(node: string): Promise<void> {
    const cur = await this.opts.client.get(refs.nodes, undefined, node);
    if (!cur || !healthyAgain(conditionsOf(cur.status))) return;
    await this.mutateConditions(node, healthyAgain, { heartbeat: true });
    this.log.info({ node }, "node reconnected after a link loss an earlier hub recorded: Ready=True");
  }

  /** Merges `change(stored)` into the Node's conditions (undefined: nothing to change). */
  private mutateConditions(
    node: string,
    change: (stored: Condition[]) => Condition[] | undefined,
    opts: { heartbeat: boolean },
  ): Promise<KubeObject> {
    const at = this.stamp();
    return this.opts.client.mutate(
      refs.nodes,
      undefined,
      node,
      (cur) => {
        const stored = conditionsOf(cur.status);
        const changed = change(stored);
        if (!changed) return cur;
        const conditions = mergeConditions(stored, changed, at, opts);
        return { ...cur, status: { ...((cur.status as object | undefined) ?? {}), conditions } };
      },
      { status: true },
    );
  }

  /** condition times: the hub's clock, to the second (upstream's metav1.Time) */
  private stamp(): string {
    return metaTime(this.now());
  }

  /** Writes renewed leases and node statuses due for a refresh. */
  flush(): Promise<void> {
    return this.serial(async () => {
      const due = this.now().getTime() - (this.opts.nodeStatusRefreshMs ?? 300_000);
      for (const node of this.opts.connected?.() ?? []) {
        const s = this.state(node);
        if (s.lost) continue;
        s.renewed = this.now();
        if (!s.pending && s.reported && s.writtenAt <= due) s.pending = s.reported;
      }
      const leases: string[] = [];
      const statuses: string[] = [];
      for (const [node, s] of this.nodes) {
        if (s.renewed) leases.push(node);
        if (s.pending && s.writtenAt <= due) statuses.push(node);
      }
      await inBatches(leases.sort(), (node) => this.writeLease(node));
      await inBatches(statuses.sort(), (node) => this.writeStatus(node));
    });
  }

  /** one writer at a time, so a flush and a change never race on the same object */
  private serial(fn: () => Promise<void>): Promise<void> {
    const run = this.flushing
      .then(fn)
      .catch((err: Error) => this.log.warn({ err: err.message }, "heartbeat write failed"));
    this.flushing = run;
    return run;
  }

  private async writeLease(node: string): Promise<void> {
    const s = this.state(node);
    const renewed = s.renewed;
    if (!renewed) return;
    s.renewed = undefined;
    try {
      await writeNodeLease(this.opts.client, node, renewed, this.opts.leaseDurationSeconds ?? 40);
      s.leaseWritten = true;
    } catch (err) {
      if (!s.renewed) s.renewed = renewed; // retried at the next flush
      throw err;
    }
  }

  private async writeStatus(node: string): Promise<void> {
    const s = this.state(node);
    const status = s.pending;
    if (!status) return;
    s.pending = undefined;
    const at = this.stamp();
    try {
      const updated = await this.opts.client.mutate(
        refs.nodes,
        undefined,
        node,
        (cur) => {
          const stored = (cur.status as Record<string, unknown> | undefined) ?? {};
          const conditions = mergeConditions(conditionsOf(stored), conditionsOf(status), at, {
            heartbeat: true,
          });
          return { ...cur, status: { ...stored, ...status, conditions } };
        },
        { status: true },
      );
      s.written = status === s.reported && s.reportedFp ? s.reportedFp : statusFingerprint(status);
      s.writtenAt = this.now().getTime();
      this.log.debug({ node, ready: readyStatus(updated.status) }, "node status written");
    } catch (err) {
      if (isNotFound(err)) {
        // the Node is gone: forget it, or a hub whose fleet turns over keeps every deleted
        // node's last status forever (a rejoin starts a fresh state)
        this.nodes.delete(node);
        this.log.warn({ node }, "status for a deleted Node dropped: re-join the node to register it again");
        return;
      }
      s.pending ??= status;
      throw err;
    }
  }
}
