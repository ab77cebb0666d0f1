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
 * - Link lost (the broker saw the node's last connection close, or its last-will): the node's
 *   kubelet-owned conditions go Unknown/NodeStatusUnknown at once, without waiting for the lease
 *   to expire. Tainting stays with the node lifecycle controller.
 * - A connected node is alive: at every flush the Lease of each node with a live MQTT
 *   connection (`connected()`, from the broker) is renewed, and its last reported status is
 *   rewritten once `nodeStatusRefreshMs` passed (refreshing lastHeartbeatTime), so agents need
 *   not spend bytes on periodic lease and status reports (keepalive + last-will already tell
 *   the broker within 1.5× the keepalive when a link dies, and linkLost stops this at once).
 * - A flush writes its renewals and refreshes concurrently, FLUSH_BATCH at a time: the store
 *   commits the writes of one event-loop turn in one SQLite transaction (group commit), so a
 *   flush of 5,000 connected nodes is a handful of transactions instead of 5,000 (each of which
 *   rewrote the log's last pages into the WAL: on an SD card, most of an idle hub's writes).
 *   The writes are independent (one object each), and `serial` still keeps a flush from racing
 *   a node's own change. They go in name order: the store's index is by name, so a batch of
 *   neighbouring names dirties a few index pages where one of names in join order dirties most.
 * - Renewals take the store's owned-fields path (apiserver/owned-update.ts): the hub builds every
 *   value it writes there, so defaults, validation and admission are skipped, ≈ 17 → 10 KB of
 *   garbage per renewal (docs/hub-memory.md §7).
 * - Renewal times come from the hub's clock (a Pi without RTC may not know the date).
 * - State per node is bounded by the fleet: a node whose Node object is gone (a write or the
 *   link-lost mark answers NotFound) is forgotten, so device turnover does not accumulate.
 */
import type { KubeObject } from "../../api/object.js";
import { type Client, isNotFound, refs } from "../../client/client.js";
import type { Logger } from "../../lib/logger.js";
import { conditionsOf, mergeConditions, readyStatus, statusFingerprint } from "./conditions.js";
import { beforeLoss, healthyAgain, linkLostConditions } from "./link-conditions.js";

export { LINK_LOST_MESSAGE } from "./link-conditions.js";

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

export const LEASE_NAMESPACE = "kube-node-lease";
/** writes of one flush in flight together (one group-committed transaction, roughly) */
export const FLUSH_BATCH = 500;
/** restores wait for a quiet moment of this long, but never more than RESTORE_MAX_DELAY_MS */
const RESTORE_QUIET_MS = 300;
const RESTORE_MAX_DELAY_MS = 3_000;

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
  lost: boolean;
  /** whether a mark left by an earlier hub process was looked for (once per process) */
  marksChecked?: boolean;
}

/** MicroTime as upstream serializes it (Lease renewTime). */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export class NodeHeartbeats {
  private readonly nodes = new Map<string, NodeState>();
  private readonly now: () => Date;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** reconnected nodes whose status is to be written back, with who waits for it */
  private readonly restores = new Map<string, (() => void)[]>();
  private restoreTimer: NodeJS.Timeout | undefined;
  private restoreSince = 0;

  constructor(private readonly opts: NodeHeartbeatsOptions) {
    this.now = opts.now ?? (() => new Date());
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
    await this.writeRestores();
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
    s.pending = status;
    s.reported = status;
    s.lost = false;
    const changed = s.written !== statusFingerprint(status);
    if (changed) await this.serial(() => this.writeStatus(node));
  }

  /** The node's link is gone: conditions Unknown now, no more lease renewals from memory. */
  async linkLost(node: string): Promise<void> {
    const s = this.state(node);
    s.renewed = undefined;
    s.pending = undefined;
    s.lost = true;
    await this.serial(async () => {
      const at = this.now()
        .toISOString()
        .replace(/\.\d{3}Z$/, "Z");
      try {
        await this.opts.client.mutate(
          refs.nodes,
          undefined,
          node,
          (cur) => {
            const stored = conditionsOf(cur.status);
            // a hub restarted since the node's last report has nothing to restore on reconnect
            // but what this write hides (and a node that was not Ready gets no healthy guess)
            s.marksChecked = true;
            if (!s.reported) {
              const before = beforeLoss(stored);
              if (before) s.reported = { conditions: before };
            }
            const conditions = mergeConditions(stored, linkLostConditions(stored), at, { heartbeat: false });
            return { ...cur, status: { ...((cur.status as object | undefined) ?? {}), conditions } };
          },
          { status: true },
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
      await this.restoreSoon(node);
    } else if (!s.reported && !s.marksChecked) {
      s.marksChecked = true;
      await this.serial(() => this.undoEarlierLoss(node));
    }
  }

  /**
   * Writes a reconnected node's status back once reconnects pause (restoreQuietMs, at most
   * RESTORE_MAX_DELAY_MS after the first): after a site's outage hundreds of agents reconnect at
   * once, and each restore is a Node write every informer and controller then handles (≈ 1.2 ms
   * of hub CPU per node at 5,000, bench/sync profile). Written inside the burst, they delayed
   * the other agents' handshakes; after it, they go in FLUSH_BATCH group commits.
   */
  private restoreSoon(node: string): Promise<void> {
    return new Promise((resolve) => {
      const waiting = this.restores.get(node);
      if (waiting) waiting.push(resolve);
      else this.restores.set(node, [resolve]);
      const now = Date.now();
      if (!this.restoreTimer) this.restoreSince = now;
      clearTimeout(this.restoreTimer);
      const quiet = this.opts.restoreQuietMs ?? RESTORE_QUIET_MS;
      const wait = Math.min(quiet, Math.max(0, this.restoreSince + RESTORE_MAX_DELAY_MS - now));
      this.restoreTimer = setTimeout(() => void this.writeRestores(), wait);
    });
  }

  private writeRestores(): Promise<void> {
    clearTimeout(this.restoreTimer);
    this.restoreTimer = undefined;
    const due = [...this.restores].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    this.restores.clear();
    if (due.length === 0) return Promise.resolve();
    return this.serial(async () => {
      try {
        await inBatches(
          due.map(([node]) => node),
          (node) => this.writeStatus(node),
        );
      } finally {
        for (const [, waiting] of due) for (const resolve of waiting) resolve();
      }
    });
  }

  /** A node marked lost by an earlier hub process reconnected: its Unknown marks undone. */
  private async undoEarlierLoss(node: string): Promise<void> {
    const cur = await this.opts.client.get(refs.nodes, undefined, node);
    if (!cur || !healthyAgain(conditionsOf(cur.status))) return;
    const at = this.now()
      .toISOString()
      .replace(/\.\d{3}Z$/, "Z");
    await this.opts.client.mutate(
      refs.nodes,
      undefined,
      node,
      (latest) => {
        const stored = conditionsOf(latest.status);
        const healthy = healthyAgain(stored);
        if (!healthy) return latest;
        const conditions = mergeConditions(stored, healthy, at, { heartbeat: true });
        return { ...latest, status: { ...((latest.status as object | undefined) ?? {}), conditions } };
      },
      { status: true },
    );
    this.log.info({ node }, "node reconnected after a link loss an earlier hub recorded: Ready=True");
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
    const spec = {
      holderIdentity: node,
      leaseDurationSeconds: this.opts.leaseDurationSeconds ?? 40,
      renewTime: microTime(renewed),
    };
    try {
      // mutate reads the Lease itself: no separate get first (that read, parsed and dropped
      // once per connected node per flush, was a third of a renewal's cost and garbage);
      // only a node's very first renewal finds no Lease and creates it
      try {
        await this.opts.client.mutate(
          refs.leases,
          LEASE_NAMESPACE,
          node,
          (cur) => {
            cur.spec = Object.assign((cur.spec as object | undefined) ?? {}, spec);
            return cur;
          },
          { ownedFields: true },
        );
      } catch (err) {
        if (!isNotFound(err)) throw err;
        await this.opts.client.create(refs.leases, LEASE_NAMESPACE, leaseObject(node, spec));
      }
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
    const at = this.now()
      .toISOString()
      .replace(/\.\d{3}Z$/, "Z");
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
      s.written = statusFingerprint(status);
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

/**
 * Runs `write` for every node, FLUSH_BATCH in flight at a time. A failed write keeps its own
 * state for the next flush (writeLease/writeStatus); the first failure of a batch ends this
 * flush (a stopped store would fail every other write the same way) and is what `serial` logs.
 */
async function inBatches(nodes: string[], write: (node: string) => Promise<void>): Promise<void> {
  for (let i = 0; i < nodes.length; i += FLUSH_BATCH) {
    const results = await Promise.allSettled(nodes.slice(i, i + FLUSH_BATCH).map(write));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }
}

function leaseObject(node: string, spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: node, namespace: LEASE_NAMESPACE },
    spec,
  };
}
