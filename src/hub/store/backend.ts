/**
 * The store contract (kine-style): a key/value log where every write appends a row whose
 * id is the new global revision. The revision of an object's last write is its
 * resourceVersion; a list's resourceVersion is the store's current revision.
 *
 * Design notes
 * - Values are opaque strings (the API server's canonical JSON *without* metadata.resourceVersion,
 *   which it splices in on read), so the store never parses objects on the hot path.
 * - Writes are optimistic: update/delete name the revision the caller read; a mismatch
 *   rejects with ConflictError carrying the current value.
 * - Watches replay from the log, so a watcher that names revision N sees every event with
 *   revision > N in order, or CompactedError when N is older than the retained window.
 * - Every method is async so that a network database (PostgreSQL) can implement the same
 *   contract later; the SQLite backend resolves writes in batches (group commit).
 */

export interface KeyValue {
  readonly key: string;
  readonly value: string;
  /** revision of the write that produced this value (its resourceVersion) */
  readonly revision: number;
  /** revision at which the key was (last) created */
  readonly createRevision: number;
}

export type WatchEventType = "create" | "update" | "delete";

export interface WatchEvent {
  readonly type: WatchEventType;
  /** for delete: the last value, with `revision` = the delete's revision */
  readonly kv: KeyValue;
  /** the value before this event (update and delete), for selector transitions */
  readonly prev?: KeyValue;
}

export interface ListOptions {
  /** return at most this many items (0 or undefined = all) */
  readonly limit?: number;
  /** exclusive start key, for continue tokens */
  readonly startAfter?: string;
  /**
   * called once, before any item is read, with the revision the result will carry: a
   * consumer can start its reply (a list's metadata.resourceVersion comes first) while the
   * items are still being read
   */
  readonly onRevision?: (revision: number) => void;
}

export interface ListResult {
  readonly items: KeyValue[];
  /** the store revision the list is consistent with */
  readonly revision: number;
  /** true when `limit` cut the result */
  readonly more: boolean;
  /** items left after this page (0 when !more) */
  readonly remaining: number;
}

/**
 * One listed item handed to a scan's visitor: the stored value (JSON without
 * metadata.resourceVersion) and the revision to splice in. Returning a promise pauses the
 * scan until it settles (the consumer's output must drain first); the scan then goes on
 * with the next item of the same snapshot.
 */
export type ScanVisitor = (key: string, value: string, revision: number) => unknown;

export interface ScanResult {
  /** the store revision the items are consistent with */
  readonly revision: number;
  /** items visited */
  readonly count: number;
  /** key of the last item visited ("" when none), for continue tokens */
  readonly lastKey: string;
  /** true when `limit` cut the result */
  readonly more: boolean;
  /** items left after this page (0 when !more) */
  readonly remaining: number;
}

export interface Watch {
  /** stop delivering events; idempotent */
  cancel(): void;
  /** continue delivery after `onEvents` returned false (call it on the consumer's 'drain') */
  resume(): void;
}

export interface WatchOptions {
  /** deliver events with revision > fromRevision (0 = only new events from now) */
  readonly fromRevision: number;
  /**
   * called in revision order; one call per tick with every event of that tick (replay comes
   * in pages). Return false when the consumer is congested (like `stream.write`): the store
   * then holds further events, up to its backlog cap, until `resume()`; past the cap the
   * watch ends with WatchOverflowError.
   */
  readonly onEvents: (events: readonly WatchEvent[]) => unknown;
  /** called once if the watch is ended by the store (compaction, shutdown) */
  readonly onError?: (err: Error) => void;
}

export interface Backend {
  start(signal?: AbortSignal): Promise<void>;
  stop(): Promise<void>;

  /** newest revision written (0 on an empty store) */
  currentRevision(): number;
  /** oldest revision still replayable; watches/lists below it get CompactedError */
  compactRevision(): number;

  get(key: string): Promise<KeyValue | undefined>;
  /** every live key with the prefix, sorted by key */
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  count(prefix: string): Promise<number>;
  /**
   * list() for a consumer that copies each item out as it goes (a list reply): `visit` gets
   * every item in key order and nothing is collected. No item outlives its visit, so every
   * value dies young (lists are the hub's largest allocations otherwise, and values kept for
   * the whole list are what its scavenges copy). Same snapshot, limit, startAfter and
   * onRevision rules as list(), and the items are the list at that revision even when the
   * visitor pauses the scan and writes happen meanwhile.
   */
  scan(prefix: string, opts: ListOptions, visit: ScanVisitor): Promise<ScanResult>;

  /** rejects KeyExistsError when the key is live */
  create(key: string, value: string): Promise<KeyValue>;
  /** rejects NotFoundError, or ConflictError when the live revision != expectedRevision */
  update(key: string, value: string, expectedRevision: number): Promise<KeyValue>;
  /** deletes; expectedRevision 0 = unconditional. Resolves the deleted value at the delete revision */
  delete(key: string, expectedRevision?: number): Promise<KeyValue>;

  /** throws CompactedError at once when opts.fromRevision < compactRevision() */
  watch(prefix: string, opts: WatchOptions): Watch;

  /** drop history below `revision` (never the live rows) */
  compact(revision: number): Promise<void>;
}

export class KeyExistsError extends Error {
  constructor(readonly key: string) {
    super(`key ${key} already exists`);
    this.name = "KeyExistsError";
  }
}

export class NotFoundError extends Error {
  constructor(readonly key: string) {
    super(`key ${key} not found`);
    this.name = "NotFoundError";
  }
}

export class ConflictError extends Error {
  constructor(
    readonly key: string,
    readonly current: KeyValue,
  ) {
    super(`key ${key} was modified: live revision ${current.revision}`);
    this.name = "ConflictError";
  }
}

export class CompactedError extends Error {
  constructor(
    readonly requested: number,
    readonly compacted: number,
  ) {
    super(`revision ${requested} has been compacted (oldest available ${compacted})`);
    this.name = "CompactedError";
  }
}

export class StoreClosedError extends Error {
  constructor() {
    super("the store is stopped (hub shutting down); retry against a running hub");
    this.name = "StoreClosedError";
  }
}

export class WatchOverflowError extends Error {
  constructor(readonly backlogBytes: number) {
    super(
      `watcher fell too far behind (${backlogBytes} bytes of events buffered); list again and watch from the list's revision`,
    );
    this.name = "WatchOverflowError";
  }
}
