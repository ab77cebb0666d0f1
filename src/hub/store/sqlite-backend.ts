/**
 * SqliteBackend: the hub's store, a kine-style revision log in one SQLite file.
 *
 * Design notes
 * - Write path: create/update/delete only enqueue (write-queue.ts). On setImmediate the whole
 *   batch runs in one transaction: each op is decided against the in-memory "newest row per
 *   key" index plus the batch's own staged rows (so conflicts resolve in order), appended,
 *   and after COMMIT the index is updated, the bus gets the batch's events and the promises
 *   settle. A failed transaction changes nothing in memory.
 * - The file is the truth: the index and the revision counter are rebuilt from it on start.
 *   This process must be the file's only writer.
 * - Reads: get() looks the key up in the index and reads its row by id; list()/count() and
 *   watch replay use the read-only connection (sqlite-log.ts). A scan (a list reply) may
 *   pause between pages to let its socket send; it reads every page at its revision, so
 *   compaction never goes past the revision of a scan in progress (#pins).
 * - Maintenance runs on timers, between batches: compaction in chunks of `compactChunk`
 *   revisions (each its own short transaction, yielding to writes in between) up to the
 *   retained window, and a TRUNCATE checkpoint whenever a checkpoint interval passed with no
 *   writes, so the WAL does not sit at its high-water mark on an idle SD card.
 */
import type { Logger } from "../../lib/logger.js";
import { silentLogger } from "../../lib/logger.js";
import {
  type Backend,
  CompactedError,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type ScanResult,
  type ScanVisitor,
  StoreClosedError,
  type Watch,
  type WatchEvent,
  type WatchOptions,
} from "./backend.js";
import { decideWrite, type Latest, latestOfRow } from "./log-row.js";
import { PointReadCache } from "./point-read-cache.js";
import type { ReplayCacheStats } from "./replay-cache.js";
import { RetentionWindow } from "./retention.js";
import { SqliteLog } from "./sqlite-log.js";
import { WatchBus } from "./watch-bus.js";
import { type PendingWrite, WriteQueue } from "./write-queue.js";

export interface SqliteBackendOptions {
  /** the database file; its -wal and -shm files live beside it */
  readonly path: string;
  readonly logger?: Logger;
  /** revisions kept behind the current one for watch replay (default 10000) */
  readonly retainRevisions?: number;
  /** and never compact what is younger than this (default 0 = revisions only) */
  readonly retainMinAgeMs?: number;
  /** background compaction period (default 30 s; 0 disables the timer) */
  readonly compactIntervalMs?: number;
  /** idle TRUNCATE checkpoint period (default 30 s; 0 disables the timer) */
  readonly checkpointIntervalMs?: number;
  /** revisions per compaction transaction (default 2000) */
  readonly compactChunk?: number;
  /**
   * SQLite's automatic checkpoint threshold in pages (default 1000 ≈ 4 MiB of WAL). The
   * checkpoint runs inside the commit that crosses it, on the event loop, and ends in an fsync
   * of the database file, so its size is a stall every request in flight waits out: measured
   * here with 1.3 KB rows in batches of 32, 4000 pages stalled ≈40–105 ms once per ≈7,000 rows,
   * 1000 pages ≈20–30 ms four times as often (the same total). The API's p99 target is 50 ms.
   */
  readonly walAutocheckpointPages?: number;
  /** per-watcher cap on buffered events while its consumer is congested (default 16 MiB) */
  readonly watchBacklogBytes?: number;
  /** log rows read per watch-replay step (default 1000) */
  readonly replayPageSize?: number;
  /**
   * bytes of replayed log pages kept so that watchers catching up over the same range read
   * it once (replay-cache.ts; default 16 MiB; 0 disables)
   */
  readonly replayCacheBytes?: number;
  readonly now?: () => number;
}

export class SqliteBackend implements Backend {
  readonly #opts: SqliteBackendOptions;
  readonly #log: Logger;
  #db: SqliteLog | undefined;
  #bus: WatchBus | undefined;
  #queue: WriteQueue | undefined;
  #latest = new Map<string, Latest>();
  /** values of rows read by key lately (point-read-cache.ts) */
  readonly #pointReads = new PointReadCache();
  #revision = 0;
  #compactRevision = 0;
  #retention: RetentionWindow;
  #timers: NodeJS.Timeout[] = [];
  #writesSinceCheckpoint = 0;
  #writesAtLastTick = 0;
  #compacting: Promise<void> = Promise.resolve();
  /** revisions of scans in progress (count per revision): compaction stays at or below the lowest */
  #pins = new Map<number, number>();
  #started: Promise<void> | undefined;
  #stopped = false;

  constructor(opts: SqliteBackendOptions) {
    this.#opts = opts;
    this.#log = (opts.logger ?? silentLogger()).child({ component: "store", path: opts.path });
    this.#retention = new RetentionWindow({
      retainRevisions: opts.retainRevisions ?? 10_000,
      minAgeMs: opts.retainMinAgeMs ?? 0,
      now: opts.now ?? Date.now,
    });
  }

  start(signal?: AbortSignal): Promise<void> {
    this.#started ??= this.#open(signal);
    return this.#started;
  }

  async #open(signal?: AbortSignal): Promise<void> {
    if (this.#stopped) throw new StoreClosedError();
    const db = new SqliteLog({
      path: this.#opts.path,
      walAutocheckpointPages: this.#opts.walAutocheckpointPages ?? 1000,
      journalSizeLimitBytes: 4 * 1024 * 1024,
    });
    this.#db = db;
    this.#latest = db.loadLatest();
    this.#revision = db.revision();
    this.#compactRevision = db.compactRevision();
    this.#retention.record(this.#revision);
    this.#bus = new WatchBus(
      {
        reader: db,
        logger: this.#log,
        maxBacklogBytes: this.#opts.watchBacklogBytes,
        replayPageSize: this.#opts.replayPageSize,
        replayCacheBytes: this.#opts.replayCacheBytes,
      },
      this.#revision,
    );
    this.#queue = new WriteQueue((batch) => this.#flush(batch));
    const compactMs = this.#opts.compactIntervalMs ?? 30_000;
    if (compactMs > 0) this.#every(compactMs, () => this.#backgroundCompact());
    const checkpointMs = this.#opts.checkpointIntervalMs ?? 30_000;
    if (checkpointMs > 0) this.#every(checkpointMs, () => this.#idleCheckpoint());
    signal?.addEventListener("abort", () => void this.stop(), { once: true });
    this.#log.info(
      { revision: this.#revision, compactRevision: this.#compactRevision, keys: this.#latest.size },
      "store opened",
    );
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#started?.catch(() => undefined);
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    this.#queue?.close();
    await this.#compacting;
    this.#bus?.close(new StoreClosedError());
    this.#db?.close();
    this.#pointReads.clear();
  }

  currentRevision(): number {
    return this.#revision;
  }

  /** counters of the watch replay pages shared between watchers (replay-cache.ts) */
  replayStats(): Readonly<ReplayCacheStats> | undefined {
    return this.#bus?.replayStats;
  }

  compactRevision(): number {
    return this.#compactRevision;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const db = this.#ready();
    const l = this.#latest.get(key);
    if (!l || l.deleted) return undefined;
    const value = this.#pointReads.get(l.revision, (r) => db.valueAt(r));
    return { key, value, revision: l.revision, createRevision: l.createRevision };
  }

  async list(prefix: string, opts?: ListOptions): Promise<ListResult> {
    return this.#ready().list(prefix, opts);
  }

  async scan(prefix: string, opts: ListOptions, visit: ScanVisitor): Promise<ScanResult> {
    // a paused scan reads its later pages at its revision: no compaction past it meanwhile
    const pin = this.#revision;
    this.#pins.set(pin, (this.#pins.get(pin) ?? 0) + 1);
    try {
      return await this.#ready().scan(prefix, opts, visit);
    } finally {
      const n = (this.#pins.get(pin) ?? 1) - 1;
      if (n > 0) this.#pins.set(pin, n);
      else this.#pins.delete(pin);
    }
  }

  async count(prefix: string): Promise<number> {
    return this.#ready().count(prefix);
  }

  async create(key: string, value: string): Promise<KeyValue> {
    return this.#enqueue().enqueue({ kind: "create", key, value });
  }

  async update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    return this.#enqueue().enqueue({ kind: "update", key, value, expectedRevision });
  }

  async delete(key: string, expectedRevision = 0): Promise<KeyValue> {
    return this.#enqueue().enqueue({ kind: "delete", key, expectedRevision });
  }

  watch(prefix: string, opts: WatchOptions): Watch {
    this.#ready();
    if (opts.fromRevision > 0 && opts.fromRevision < this.#compactRevision) {
      throw new CompactedError(opts.fromRevision, this.#compactRevision);
    }
    return this.#bus!.watch(prefix, opts);
  }

  async compact(revision: number): Promise<void> {
    this.#ready();
    const target = Math.min(revision, this.#revision);
    const run = this.#compacting.then(() => this.#compactTo(target));
    this.#compacting = run.catch(() => undefined);
    return run;
  }

  /** TRUNCATE checkpoint now (also run automatically when idle). */
  checkpoint(): void {
    const r = this.#ready().checkpoint();
    if (!r.busy) {
      this.#writesSinceCheckpoint = 0;
      this.#writesAtLastTick = 0;
    }
  }

  #flush(batch: readonly PendingWrite[]): void {
    const db = this.#db!;
    const staged = new Map<string, Latest>();
    const outcomes: Array<KeyValue | Error> = [];
    const events: WatchEvent[] = [];
    let rev = this.#revision;
    db.transaction(() => {
      for (const w of batch) {
        const key = w.op.key;
        const d = decideWrite(w.op, staged.get(key) ?? this.#latest.get(key), rev + 1, (l) => ({
          key,
          value: db.valueAt(l.revision),
          revision: l.revision,
          createRevision: l.createRevision,
        }));
        if (!d.ok) {
          outcomes.push(d.error);
          continue;
        }
        db.append(d.row);
        rev = d.row.id;
        staged.set(key, latestOfRow(d.row));
        events.push(d.event);
        outcomes.push(d.kv);
      }
    });
    // committed: only now does memory move forward
    for (const [k, l] of staged) this.#latest.set(k, l);
    this.#writesSinceCheckpoint += events.length;
    this.#revision = rev;
    this.#retention.record(rev);
    this.#bus!.publish(events, rev);
    batch.forEach((w, i) => {
      const o = outcomes[i]!;
      if (o instanceof Error) w.reject(o);
      else w.resolve(o);
    });
  }

  async #compactTo(target: number): Promise<void> {
    const chunk = Math.max(1, this.#opts.compactChunk ?? 2000);
    while (this.#compactRevision < target && this.#db && !this.#stopped) {
      const from = this.#compactRevision;
      const to = Math.min(target, from + chunk, ...this.#pins.keys());
      // a scan in progress needs the rows above its revision's predecessors: the next
      // background compaction goes on once it is over
      if (to <= from) return;
      const tombstones = this.#db.compactRange(from, to);
      for (const [id, name] of tombstones) {
        if (this.#latest.get(name)?.revision === id) this.#latest.delete(name);
      }
      this.#compactRevision = to;
      this.#bus!.compacted(to);
      if (to < target) await new Promise<void>((r) => setImmediate(r));
    }
  }

  #backgroundCompact(): void {
    const target = this.#retention.target(this.#revision);
    if (target <= this.#compactRevision) return;
    this.compact(target).catch((err: unknown) => this.#log.error({ err }, "background compaction failed"));
  }

  #idleCheckpoint(): void {
    // checkpoint only after a whole interval without writes: one right after a burst would
    // be redone soon, and an SD card pays for every rewrite
    const writes = this.#writesSinceCheckpoint;
    if (writes === 0) return;
    const quiet = writes === this.#writesAtLastTick;
    this.#writesAtLastTick = writes;
    if (!quiet || this.#queue!.size > 0) return;
    try {
      this.checkpoint();
    } catch (err) {
      this.#log.warn({ err }, "WAL checkpoint failed; will retry when idle");
    }
  }

  #every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.#timers.push(t);
  }

  #enqueue(): WriteQueue {
    if (!this.#queue) throw new Error("store not started: call start() first");
    return this.#queue;
  }

  #ready(): SqliteLog {
    if (this.#stopped) throw new StoreClosedError();
    if (!this.#db) throw new Error("store not started: call start() first");
    return this.#db;
  }
}
