/**
 * RestoreQueue: reconnected nodes whose status the hub writes back (NodeHeartbeats.linkRestored),
 * held until reconnects pause and then written together; plus `inBatches`, how NodeHeartbeats
 * writes many nodes at once.
 *
 * Design notes
 * - A site's outage ends with hundreds of agents reconnecting at once, and each restore is a Node
 *   write that every informer and controller then handles (≈ 1.2 ms of hub CPU per node at 5,000
 *   nodes, bench/sync's hub profile). Written inside the burst, the restores delayed the other
 *   agents' handshakes; so they wait for `quietMs` without another reconnect (never more than
 *   `maxDelayMs` after the first) and then go FLUSH_BATCH at a time, in name order. NodeHeartbeats
 *   uses 1 s and 5 s: a node reads Ready again about a second after its site's burst, where a
 *   kubelet would take up to its 10 s status period (bench/sync N = 5,000, whole fleet: 20.4 s to
 *   reconverge with the restores inline, 19.4 s after a 300 ms pause, 15.8 s after a 1 s pause).
 *   Holding them up to 15 s instead of 5 did not shorten it (13.3 s against 12.0 s the same hour):
 *   the window's hub profile shows the Node updates themselves at ≈ 0.25 s of 14.5 (docs/hub-memory.md §11).
 * - `add` resolves once the node's restore was written (or failed: the heartbeats log it and
 *   keep the status pending for the next flush); `flush` writes what waits now (hub shutdown).
 * - Batches: the store commits the writes of one event-loop turn in one SQLite transaction
 *   (group commit), so FLUSH_BATCH writes in flight together are one transaction instead of as
 *   many; in name order a batch of neighbours dirties few pages of the store's name index.
 * - 100 in flight, not 500 as before: every write in flight holds ≈ 10 KB of short-lived objects
 *   until its commit and watch events are through, and with the young generation at 2–4 MiB
 *   semi-spaces (young-generation-cap.ts) 500 of them (≈ 5 MB) outlived two scavenges and were
 *   promoted: old space grew ≈ 20 MB per 10 s at 5,000 idle nodes, ≈ 7 MB with 100 (bench/
 *   hub-memory --linger, docs/hub-memory.md §10). Disk written per revision did not change
 *   (4.67 vs 4.62 KB): the transactions are still a few dozen per flush.
 */

/** writes of one batch in flight together (one group-committed transaction, roughly) */
export const FLUSH_BATCH = 100;

export interface RestoreQueueOptions {
  /** how long no other node may come back before the batch is written (ms) */
  quietMs: number;
  /** the longest a restore waits after the first of its batch (ms) */
  maxDelayMs: number;
  /** writes the nodes' restores (in name order) */
  write: (nodes: string[]) => Promise<void>;
}

export class RestoreQueue {
  private readonly waiting = new Map<string, (() => void)[]>();
  private timer: NodeJS.Timeout | undefined;
  private since = 0;

  constructor(private readonly opts: RestoreQueueOptions) {}

  /** Queues the node's restore; resolves when it was written. */
  add(node: string): Promise<void> {
    return new Promise((resolve) => {
      const w = this.waiting.get(node);
      if (w) w.push(resolve);
      else this.waiting.set(node, [resolve]);
      const now = Date.now();
      if (!this.timer) this.since = now;
      clearTimeout(this.timer);
      const wait = Math.min(this.opts.quietMs, Math.max(0, this.since + this.opts.maxDelayMs - now));
      this.timer = setTimeout(() => void this.flush(), wait);
    });
  }

  /** Writes every queued restore now. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const due = [...this.waiting].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    this.waiting.clear();
    if (due.length === 0) return;
    try {
      await this.opts.write(due.map(([node]) => node));
    } finally {
      for (const [, resolvers] of due) for (const resolve of resolvers) resolve();
    }
  }
}

/**
 * Runs `write` for every node, FLUSH_BATCH in flight at a time. A failed write keeps its own
 * state for the next flush (NodeHeartbeats' writeLease/writeStatus); the first failure of a
 * batch ends the run (a stopped store would fail every other write the same way) and is thrown.
 */
export async function inBatches(nodes: string[], write: (node: string) => Promise<void>): Promise<void> {
  for (let i = 0; i < nodes.length; i += FLUSH_BATCH) {
    const results = await Promise.allSettled(nodes.slice(i, i + FLUSH_BATCH).map(write));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }
}
