/**
 * ReplayCache: the revision log's recent pages, read once and shared by every watcher that
 * catches up over the same range.
 *
 * Design notes
 * - After a hub restart every informer re-watches from its last resourceVersion, and a
 *   hundred `kubectl get -w` start from a list's: many watchers replay the same stretch of
 *   the log. Read per watcher, that stretch is read, parsed and encoded once per watcher.
 *   Here a page read for one watcher becomes a *chunk*: the events of one key prefix with
 *   revision in (lo, hi], exact with respect to the log (every committed event of the
 *   prefix in that range, nothing else). Later readers standing inside a chunk are served
 *   from it without touching the log.
 * - A chunk's events array is handed out as is to a reader standing at its `lo`, so readers
 *   that move in step receive the very same array, and the API server's WatchFrames encodes
 *   that array's lines once for all of them (it memoizes on array identity). A reader
 *   standing inside a chunk gets a slice: the events are still the shared objects (their
 *   lines are encoded once), only the batch is its own. After that partial first page it is
 *   on chunk boundaries and shares arrays too. Chunks are never mutated once made, so a
 *   memo keyed by identity can never go stale.
 * - `hi` is what makes the hand-over to live delivery exact: a full page covers up to its
 *   last event; a short page covers everything committed when it was read (the caller passes
 *   the committed revision, and reads, commits and publishes all run synchronously on one
 *   thread, so nothing commits between the read and that revision). A reader whose position
 *   reaches the committed revision has seen every event there is and can switch to live
 *   publishes: no gap, no duplicate, whether its pages came from the log or from the cache.
 * - Chunks of one prefix never overlap: a log read that runs into the next chunk is cut at
 *   that chunk's `lo`. Reads that extend the newest chunk simply add the next chunk.
 * - Bounded memory: chunks are charged their events' bytes (eventBytes, plus a fixed
 *   overhead per chunk) against a byte budget. Past it the *oldest* ranges (lowest
 *   revision) make room, and a new range older than everything cached is not kept at all.
 *   Readers move upward through the log, so a range further ahead is still needed by every
 *   reader behind it: the newest ranges serve the most readers. (LRU was measured worse:
 *   with 100 watchers spread over more than the budget it evicted ranges the slow readers
 *   were about to need, their re-reads evicted others', and nearly every read missed.) A
 *   range not kept is read from the log per reader, as before this cache existed. Chunks
 *   nobody read for `idleMs` are dropped by a sweep, so an idle hub holds nothing. The
 *   encoded batch WatchFrames memoizes on a chunk's array lives as long as the chunk does,
 *   so actual memory is roughly twice the budget.
 * - Compaction drops chunks that end at or below the compact revision (no watcher may stand
 *   there any more); chunks straddling it still serve readers above it, whose events are
 *   untouched by compaction.
 */
import type { WatchEvent } from "./backend.js";
import { eventBytes } from "./log-row.js";

export interface LogReader {
  /** committed events with revision > after and a key starting with prefix, oldest first */
  readEvents(prefix: string, after: number, limit: number): WatchEvent[];
}

export interface ReplayPage {
  /** the events of the prefix with revision in (after, through], oldest first */
  readonly events: readonly WatchEvent[];
  /** the revision up to which `events` accounts for every event of the prefix */
  readonly through: number;
}

export interface ReplayCacheOptions {
  readonly reader: LogReader;
  /** events read per log read, and the most a chunk holds */
  readonly pageSize: number;
  /** bytes of cached events (0 disables the cache: every read goes to the log) */
  readonly budgetBytes: number;
  /** drop chunks nobody read for this long (default 30 s) */
  readonly idleMs?: number;
}

export interface ReplayCacheStats {
  hits: number;
  logReads: number;
  evictions: number;
  bytes: number;
  chunks: number;
}

interface Chunk {
  readonly prefix: string;
  readonly lo: number;
  readonly hi: number;
  readonly events: readonly WatchEvent[];
  readonly bytes: number;
  usedAt: number;
}

const CHUNK_OVERHEAD = 256;

export class ReplayCache {
  /** per prefix, chunks sorted by lo, non-overlapping */
  readonly #byPrefix = new Map<string, Chunk[]>();
  /** every chunk */
  readonly #all = new Set<Chunk>();
  readonly #opts: ReplayCacheOptions;
  readonly #idleMs: number;
  #sweepTimer: NodeJS.Timeout | undefined;
  readonly stats: ReplayCacheStats = { hits: 0, logReads: 0, evictions: 0, bytes: 0, chunks: 0 };

  constructor(opts: ReplayCacheOptions) {
    this.#opts = opts;
    this.#idleMs = opts.idleMs ?? 30_000;
  }

  /**
   * The next page for a reader of `prefix` standing at `after`; `committed` is the newest
   * committed (and published) revision. Returns events with revision > after, at most a page.
   */
  read(prefix: string, after: number, committed: number): ReplayPage {
    const chunks = this.#byPrefix.get(prefix);
    const at = chunks ? lastAtOrBelow(chunks, after) : -1;
    const c = at >= 0 ? chunks![at] : undefined;
    if (c && after < c.hi) {
      this.stats.hits++;
      c.usedAt = Date.now();
      const i = firstAbove(c.events, after);
      return { events: i === 0 ? c.events : c.events.slice(i), through: c.hi };
    }
    this.stats.logReads++;
    const { pageSize } = this.#opts;
    let events = this.#opts.reader.readEvents(prefix, after, pageSize);
    let through = events.length === pageSize ? events[events.length - 1]!.kv.revision : committed;
    const next = chunks?.[at + 1];
    if (next && through > next.lo) {
      events = events.slice(0, firstAbove(events, next.lo));
      through = next.lo;
    }
    if (through > after) this.#insert(prefix, after, through, events);
    return { events, through };
  }

  /** History up to `revision` is gone: drop the chunks no reader may use any more. */
  compacted(revision: number): void {
    for (const c of [...this.#all]) if (c.hi <= revision) this.#drop(c);
  }

  /** Drop everything (store shutdown). */
  clear(): void {
    for (const c of [...this.#all]) this.#drop(c);
  }

  #insert(prefix: string, lo: number, hi: number, events: readonly WatchEvent[]): void {
    const budget = this.#opts.budgetBytes;
    let bytes = CHUNK_OVERHEAD;
    for (const e of events) bytes += eventBytes(e);
    if (bytes > budget) return;
    const over = this.stats.bytes + bytes - budget;
    if (over > 0) {
      // make room from ranges older than this one, oldest first, or do not keep it
      const older = [...this.#all].filter((c) => c.lo < lo).sort((a, b) => a.lo - b.lo);
      let freed = 0;
      let n = 0;
      while (freed < over && n < older.length) freed += older[n++]!.bytes;
      if (freed < over) return;
      for (const victim of older.slice(0, n)) this.#drop(victim);
      this.stats.evictions += n;
    }
    const c: Chunk = { prefix, lo, hi, events, bytes, usedAt: Date.now() };
    // looked up after eviction, which may have emptied (and removed) this prefix's list
    let list = this.#byPrefix.get(prefix);
    if (!list) {
      list = [];
      this.#byPrefix.set(prefix, list);
    }
    list.splice(lastAtOrBelow(list, lo) + 1, 0, c);
    this.#all.add(c);
    this.stats.bytes += bytes;
    this.stats.chunks++;
    this.#scheduleSweep();
  }

  #drop(c: Chunk): void {
    if (!this.#all.delete(c)) return;
    this.stats.bytes -= c.bytes;
    this.stats.chunks--;
    const list = this.#byPrefix.get(c.prefix);
    if (!list) return;
    const i = list.indexOf(c);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#byPrefix.delete(c.prefix);
    if (this.#all.size === 0 && this.#sweepTimer) {
      clearTimeout(this.#sweepTimer);
      this.#sweepTimer = undefined;
    }
  }

  #scheduleSweep(): void {
    if (this.#sweepTimer) return;
    this.#sweepTimer = setTimeout(() => {
      this.#sweepTimer = undefined;
      const cutoff = Date.now() - this.#idleMs;
      for (const c of [...this.#all]) if (c.usedAt <= cutoff) this.#drop(c);
      if (this.#all.size > 0) this.#scheduleSweep();
    }, this.#idleMs);
    this.#sweepTimer.unref();
  }
}

/** index of the last chunk with lo <= revision, or -1 */
function lastAtOrBelow(chunks: readonly Chunk[], revision: number): number {
  let lo = 0;
  let hi = chunks.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (chunks[mid]!.lo <= revision) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** index of the first event with revision > revision (events.length when none) */
function firstAbove(events: readonly WatchEvent[], revision: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid]!.kv.revision <= revision) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
