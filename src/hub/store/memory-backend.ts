/**
 * MemoryBackend: the store contract in memory, for unit tests of higher layers (apiserver
 * handlers, controllers) that need real store semantics without a file.
 *
 * Design notes
 * - Same mechanisms as the SQLite backend, minus the file: the log is an array of rows in
 *   revision order, writes go through the same group-commit queue and the same
 *   `decideWrite`, and watches go through the same WatchBus, so batching, ordering,
 *   conflicts, replay, backpressure and CompactedError behave identically.
 * - Lookups by revision binary-search the log; compaction filters it with the same rule as
 *   SQLite (drop rows superseded at or below the compact revision, and such tombstones).
 * - Nothing persists: a new instance is an empty store.
 */

import { type Logger, silentLogger } from "../../lib/logger.js";
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
import { decideWrite, eventOfRow, type Latest, type LogRow, latestOfRow } from "./log-row.js";
import type { ReplayCacheStats } from "./replay-cache.js";
import { WatchBus } from "./watch-bus.js";
import { type PendingWrite, WriteQueue } from "./write-queue.js";

export interface MemoryBackendOptions {
  readonly logger?: Logger;
  readonly watchBacklogBytes?: number;
  /** log rows per replay page (small values exercise paging in tests) */
  readonly replayPageSize?: number;
  /** bytes of replayed log pages shared between watchers (default 16 MiB; 0 disables) */
  readonly replayCacheBytes?: number;
}

export class MemoryBackend implements Backend {
  #rows: LogRow[] = [];
  readonly #latest = new Map<string, Latest>();
  #revision = 0;
  #compactRevision = 0;
  readonly #bus: WatchBus;
  readonly #queue: WriteQueue;
  #started = false;
  #stopped = false;

  constructor(opts: MemoryBackendOptions = {}) {
    this.#bus = new WatchBus(
      {
        reader: { readEvents: (prefix, after, limit) => this.#readEvents(prefix, after, limit) },
        logger: opts.logger ?? silentLogger(),
        maxBacklogBytes: opts.watchBacklogBytes,
        replayPageSize: opts.replayPageSize,
        replayCacheBytes: opts.replayCacheBytes,
      },
      0,
    );
    this.#queue = new WriteQueue((batch) => this.#flush(batch));
  }

  async start(): Promise<void> {
    if (this.#stopped) throw new StoreClosedError();
    this.#started = true;
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#queue.close();
    this.#bus.close(new StoreClosedError());
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
    this.#ready();
    const l = this.#latest.get(key);
    return l && !l.deleted ? this.#kvAt(key, l) : undefined;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.#ready();
    opts.onRevision?.(this.#revision);
    const keys: string[] = [];
    for (const [k, l] of this.#latest) {
      if (!l.deleted && k.startsWith(prefix) && (opts.startAfter === undefined || k > opts.startAfter))
        keys.push(k);
    }
    keys.sort();
    const limit = opts.limit && opts.limit > 0 ? opts.limit : keys.length;
    const page = keys.slice(0, limit);
    const items = page.map((k) => this.#kvAt(k, this.#latest.get(k)!));
    const more = keys.length > page.length;
    return { items, revision: this.#revision, more, remaining: keys.length - page.length };
  }

  async scan(prefix: string, opts: ListOptions, visit: ScanVisitor): Promise<ScanResult> {
    const r = await this.list(prefix, opts);
    for (const kv of r.items) {
      const pause = visit(kv.key, kv.value, kv.revision);
      if (pause instanceof Promise) await pause;
    }
    const lastKey = r.items[r.items.length - 1]?.key ?? "";
    return { revision: r.revision, count: r.items.length, lastKey, more: r.more, remaining: r.remaining };
  }

  async count(prefix: string): Promise<number> {
    this.#ready();
    let n = 0;
    for (const [k, l] of this.#latest) if (!l.deleted && k.startsWith(prefix)) n++;
    return n;
  }

  async create(key: string, value: string): Promise<KeyValue> {
    this.#ready();
    return this.#queue.enqueue({ kind: "create", key, value });
  }

  async update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    this.#ready();
    return this.#queue.enqueue({ kind: "update", key, value, expectedRevision });
  }

  async delete(key: string, expectedRevision = 0): Promise<KeyValue> {
    this.#ready();
    return this.#queue.enqueue({ kind: "delete", key, expectedRevision });
  }

  watch(prefix: string, opts: WatchOptions): Watch {
    this.#ready();
    if (opts.fromRevision > 0 && opts.fromRevision < this.#compactRevision) {
      throw new CompactedError(opts.fromRevision, this.#compactRevision);
    }
    return this.#bus.watch(prefix, opts);
  }

  async compact(revision: number): Promise<void> {
    this.#ready();
    const to = Math.min(revision, this.#revision);
    if (to <= this.#compactRevision) return;
    const superseded = new Set<number>();
    for (const r of this.#rows) if (r.id <= to && r.prevRevision > 0) superseded.add(r.prevRevision);
    this.#rows = this.#rows.filter((r) => {
      const gone = superseded.has(r.id) || (r.deleted && r.id <= to);
      if (gone && r.deleted && this.#latest.get(r.name)?.revision === r.id) this.#latest.delete(r.name);
      return !gone;
    });
    this.#compactRevision = to;
    this.#bus.compacted(to);
  }

  #flush(batch: readonly PendingWrite[]): void {
    const events: WatchEvent[] = [];
    const outcomes: Array<KeyValue | Error> = [];
    for (const w of batch) {
      const key = w.op.key;
      const d = decideWrite(w.op, this.#latest.get(key), this.#revision + 1, (l) => this.#kvAt(key, l));
      if (!d.ok) {
        outcomes.push(d.error);
        continue;
      }
      this.#rows.push(d.row);
      this.#latest.set(key, latestOfRow(d.row));
      this.#revision = d.row.id;
      events.push(d.event);
      outcomes.push(d.kv);
    }
    this.#bus.publish(events, this.#revision);
    batch.forEach((w, i) => {
      const o = outcomes[i]!;
      if (o instanceof Error) w.reject(o);
      else w.resolve(o);
    });
  }

  #readEvents(prefix: string, after: number, limit: number): WatchEvent[] {
    const out: WatchEvent[] = [];
    for (let i = this.#indexAfter(after); i < this.#rows.length && out.length < limit; i++) {
      const r = this.#rows[i]!;
      if (!r.name.startsWith(prefix)) continue;
      const p = r.created ? undefined : this.#rowAt(r.prevRevision);
      const prev = p && { key: p.name, value: p.value, revision: p.id, createRevision: p.createRevision };
      out.push(eventOfRow(r, prev));
    }
    return out;
  }

  /** index of the first row with id > revision */
  #indexAfter(revision: number): number {
    let lo = 0;
    let hi = this.#rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#rows[mid]!.id <= revision) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #rowAt(revision: number): LogRow | undefined {
    const r = this.#rows[this.#indexAfter(revision - 1)];
    return r?.id === revision ? r : undefined;
  }

  #kvAt(key: string, l: Latest): KeyValue {
    const r = this.#rowAt(l.revision);
    if (!r) throw new Error(`memory store: row ${l.revision} of ${key} is missing`);
    return { key, value: r.value, revision: r.id, createRevision: r.createRevision };
  }

  #ready(): void {
    if (this.#stopped) throw new StoreClosedError();
    if (!this.#started) throw new Error("store not started: call start() first");
  }
}
