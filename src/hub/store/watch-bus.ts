/**
 * The in-process watch bus: fans committed events out to watchers on key prefixes.
 *
 * Design notes
 * - A watcher is in one of two modes. *Replay*: it reads its events from the log (rows with
 *   revision > where it stands), a page per turn, and ignores live publishes because those
 *   are in the log too. Pages come through the ReplayCache (replay-cache.ts), so watchers
 *   catching up over the same range share one read of it, and each page says up to which
 *   revision it accounts for every event. When that reaches the committed revision the
 *   watcher has caught up and switches to *live*: from then on each publish (one per
 *   group-commit flush) becomes one onEvents call. Commit and publish run in the same
 *   synchronous step, so "everything committed" and "everything published" never differ
 *   when a watcher switches: no gap, no duplicate.
 * - A watcher whose prefix takes a whole published batch is handed that same array (not a
 *   copy), so consumers can encode a batch once for all such watchers (watch-frames.ts).
 * - Backpressure: onEvents returning false (a congested socket) pauses the watcher. A paused
 *   replayer simply stops reading the log; a paused live watcher queues whole batches, up to
 *   `maxBacklogBytes`, then is ended with WatchOverflowError (the client re-lists) rather
 *   than letting a stalled client grow the hub's memory without bound.
 * - Compaction can overtake a replayer that is paused or far behind: `compacted(rev)` ends
 *   those with CompactedError, like etcd does.
 * - A throwing onEvents ends only that watcher.
 */
import type { Logger } from "../../lib/logger.js";
import {
  CompactedError,
  type Watch,
  type WatchEvent,
  type WatchOptions,
  WatchOverflowError,
} from "./backend.js";
import { eventBytes } from "./log-row.js";
import { type LogReader, ReplayCache, type ReplayCacheStats, type ReplayPage } from "./replay-cache.js";

export type { LogReader } from "./replay-cache.js";

/** replay reads that find nothing new (a range without events of the prefix) tried per turn */
const EMPTY_READS_PER_STEP = 8;

export interface WatchBusOptions {
  readonly reader: LogReader;
  readonly logger: Logger;
  /** per-watcher cap on queued event bytes while paused (default 16 MiB) */
  readonly maxBacklogBytes?: number;
  /** log rows read per replay step (default 1000) */
  readonly replayPageSize?: number;
  /** bytes of replayed log pages kept for other watchers (default 16 MiB; 0 disables) */
  readonly replayCacheBytes?: number;
  /** drop cached replay pages nobody read for this long (default 30 s) */
  readonly replayCacheIdleMs?: number;
}

class Watcher implements Watch {
  live = false;
  paused = false;
  ended = false;
  queue: (readonly WatchEvent[])[] = [];
  queuedBytes = 0;
  replayTimer: NodeJS.Immediate | undefined;

  constructor(
    readonly bus: WatchBus,
    readonly prefix: string,
    readonly opts: WatchOptions,
    /** revision of the last event delivered or queued */
    public position: number,
  ) {}

  cancel(): void {
    this.bus.remove(this);
  }

  resume(): void {
    if (this.ended || !this.paused) return;
    this.paused = false;
    if (!this.live) {
      this.bus.scheduleReplay(this);
      return;
    }
    while (!this.paused && !this.ended && this.queue.length > 0) {
      const batch = this.queue.shift()!;
      for (const e of batch) this.queuedBytes -= eventBytes(e);
      this.bus.deliver(this, batch);
    }
  }
}

function takesAll(w: Watcher, events: readonly WatchEvent[]): boolean {
  if (events[0]!.kv.revision <= w.position) return false;
  if (w.prefix === "") return true;
  for (const e of events) if (!e.kv.key.startsWith(w.prefix)) return false;
  return true;
}

export class WatchBus {
  readonly #watchers = new Set<Watcher>();
  readonly #cache: ReplayCache;
  readonly #log: Logger;
  readonly #maxBacklog: number;
  #revision: number;

  constructor(opts: WatchBusOptions, revision: number) {
    this.#cache = new ReplayCache({
      reader: opts.reader,
      pageSize: opts.replayPageSize ?? 1000,
      budgetBytes: opts.replayCacheBytes ?? 16 * 1024 * 1024,
      idleMs: opts.replayCacheIdleMs,
    });
    this.#log = opts.logger;
    this.#maxBacklog = opts.maxBacklogBytes ?? 16 * 1024 * 1024;
    this.#revision = revision;
  }

  get size(): number {
    return this.#watchers.size;
  }

  /** counters of the shared replay pages (hits, log reads, evictions, bytes held) */
  get replayStats(): Readonly<ReplayCacheStats> {
    return this.#cache.stats;
  }

  /** The caller checks compaction first; fromRevision 0 means "from now". */
  watch(prefix: string, opts: WatchOptions): Watch {
    const from = opts.fromRevision > 0 ? opts.fromRevision : this.#revision;
    const w = new Watcher(this, prefix, opts, from);
    this.#watchers.add(w);
    if (from < this.#revision) this.scheduleReplay(w);
    else w.live = true;
    return w;
  }

  /** Events of one committed flush, in revision order; `revision` is the new committed revision. */
  publish(events: readonly WatchEvent[], revision: number): void {
    this.#revision = revision;
    if (events.length === 0) return;
    for (const w of this.#watchers) {
      if (!w.live || w.ended) continue;
      // a watcher that takes the whole batch gets the batch array itself: consumers may share
      // work per batch across watchers by its identity (the API server encodes it once)
      const mine = takesAll(w, events)
        ? events
        : events.filter((e) => e.kv.revision > w.position && e.kv.key.startsWith(w.prefix));
      if (mine.length === 0) continue;
      w.position = mine[mine.length - 1]!.kv.revision;
      if (!w.paused) {
        this.deliver(w, mine);
        continue;
      }
      w.queue.push(mine);
      for (const e of mine) w.queuedBytes += eventBytes(e);
      if (w.queuedBytes > this.#maxBacklog) this.#end(w, new WatchOverflowError(w.queuedBytes));
    }
  }

  /** History up to `compactRevision` is gone: replayers standing below it cannot continue. */
  compacted(compactRevision: number): void {
    this.#cache.compacted(compactRevision);
    for (const w of this.#watchers) {
      if (!w.live && w.position < compactRevision) {
        this.#end(w, new CompactedError(w.position, compactRevision));
      }
    }
  }

  /** End every watcher with `err` (store shutdown). */
  close(err: Error): void {
    for (const w of [...this.#watchers]) this.#end(w, err);
    this.#cache.clear();
  }

  remove(w: Watcher): void {
    w.ended = true;
    w.queue = [];
    w.queuedBytes = 0;
    if (w.replayTimer) clearImmediate(w.replayTimer);
    w.replayTimer = undefined;
    this.#watchers.delete(w);
  }

  deliver(w: Watcher, events: readonly WatchEvent[]): void {
    let more: unknown;
    try {
      more = w.opts.onEvents(events);
    } catch (err) {
      this.#log.warn({ err, prefix: w.prefix }, "watch consumer threw; ending that watch");
      this.#end(w, err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (more === false && !w.ended) w.paused = true;
  }

  scheduleReplay(w: Watcher): void {
    w.replayTimer ??= setImmediate(() => {
      w.replayTimer = undefined;
      this.#replayStep(w);
    });
  }

  #replayStep(w: Watcher): void {
    if (w.ended || w.paused || w.live) return;
    let page: ReplayPage = { events: [], through: w.position };
    try {
      for (let i = 0; i < EMPTY_READS_PER_STEP && page.events.length === 0; i++) {
        page = this.#cache.read(w.prefix, w.position, this.#revision);
        w.position = Math.max(w.position, page.through);
        if (w.position >= this.#revision) break;
      }
    } catch (err) {
      this.#end(w, err instanceof Error ? err : new Error(String(err)));
      return;
    }
    // switch before delivering: the consumer may write from inside onEvents, and that flush
    // must reach this watcher live. The page accounts for every event up to `through`, so
    // reaching the committed revision means nothing is left to read.
    const caughtUp = w.position >= this.#revision;
    if (caughtUp) w.live = true;
    if (page.events.length > 0) this.deliver(w, page.events);
    if (!caughtUp) this.scheduleReplay(w);
  }

  #end(w: Watcher, err: Error): void {
    if (w.ended) return;
    this.remove(w);
    try {
      w.opts.onError?.(err);
    } catch (e) {
      this.#log.warn({ err: e }, "watch onError threw");
    }
  }
}
