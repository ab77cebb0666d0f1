/**
 * The revision log on SQLite: schema, pragmas and every prepared statement, over two
 * connections to one file.
 *
 * Design notes
 * - One table, kine's columns, and only the unique (name, prev_revision) index: it enforces
 *   "one successor per row" and, being ordered by name, also serves prefix scans and
 *   "newest row per name" (MAX(id) per name reads the index alone; rowid rides along).
 *   Compaction walks rowid ranges, so it needs no index of its own. The compact revision
 *   lives in a tiny `meta` table, written in the same transaction as the deletes.
 * - Revisions are assigned by the writer (id = current + 1) rather than read back, and
 *   AUTOINCREMENT keeps sqlite_sequence at the highest id ever used, so a revision is never
 *   reused even when compaction deletes the newest rows (tombstones).
 * - WAL + synchronous=NORMAL: a commit is an append to the WAL without fsync; a process
 *   crash loses nothing committed, a power cut may lose the last commits but never corrupts.
 *   The WAL is checkpointed at `walAutocheckpointPages` and truncated back to
 *   `journal_size_limit`; the backend adds TRUNCATE checkpoints when idle.
 * - Lists and replays use a second, read-only connection: a statement being iterated keeps
 *   its connection busy, and a read transaction there sees one committed snapshot, so a
 *   list is consistent with exactly one revision (read from sqlite_sequence in the same
 *   snapshot).
 * - Statements are prepared once; rows come back as arrays (`raw`) and values stay strings:
 *   nothing on the hot path parses JSON.
 */
import type Database from "better-sqlite3";
import { openDatabase } from "../../lib/sqlite.js";
import type { KeyValue, ListOptions, ListResult, ScanResult, ScanVisitor, WatchEvent } from "./backend.js";
import { eventOfRow, type Latest, type LogRow, prefixEnd } from "./log-row.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS kv (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  created INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  value TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS kv_name_prev_revision ON kv (name, prev_revision);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
`;

/** Newest row (MAX(id)) of each name in [?1, ?2) after ?3: read from the (name, prev_revision) index alone. */
const LATEST_IN_RANGE =
  "SELECT MAX(id) AS id FROM kv WHERE name >= @lo AND name < @hi AND name > @after GROUP BY name ORDER BY name";

/**
 * A scan's page: the newest row at or below @rev of each name in the range, live ones only.
 * One lower bound per statement (`>= @lo` for the first page, `> @after` for the next): given
 * both, SQLite seeks on the first and filters the second, so every page re-read the index from
 * the range's start.
 */
const scanPage = (lower: string, cols: string) =>
  `SELECT ${cols} FROM (SELECT MAX(id) AS id FROM kv WHERE ${lower} AND name < @hi AND id <= @rev GROUP BY name ORDER BY name) AS l CROSS JOIN kv ON kv.id = l.id WHERE kv.deleted = 0`;

export interface SqliteLogOptions {
  readonly path: string;
  readonly walAutocheckpointPages: number;
  readonly journalSizeLimitBytes: number;
}

type Row = unknown[];

function num(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  throw new TypeError(`store row: expected an integer column, got ${typeof v}`);
}

function str(v: unknown): string {
  if (typeof v === "string") return v;
  throw new TypeError(`store row: expected a text column, got ${typeof v}`);
}

export class SqliteLog {
  readonly #w: Database;
  readonly #r: Database;
  readonly #insert;
  readonly #valueById;
  readonly #listPage;
  readonly #listCount;
  readonly #seqW;
  readonly #seqR;
  readonly #events;
  readonly #metaGet;
  readonly #metaSet;
  readonly #tombstonesIn;
  readonly #deleteSuperseded;
  readonly #deleteTombstones;
  readonly #compactTx;
  readonly #listTx;
  readonly #scanFrom;
  readonly #scanAfter;
  readonly #scanRemaining;

  constructor(opts: SqliteLogOptions) {
    this.#w = openDatabase(opts.path);
    this.#w.pragma("journal_mode = WAL");
    this.#w.pragma("synchronous = NORMAL");
    this.#w.pragma(`wal_autocheckpoint = ${Math.max(1, Math.floor(opts.walAutocheckpointPages))}`);
    this.#w.pragma(`journal_size_limit = ${Math.max(0, Math.floor(opts.journalSizeLimitBytes))}`);
    this.#w.exec(SCHEMA);
    this.#r = openDatabase(opts.path, { readonly: true, fileMustExist: true });

    const w = this.#w;
    const r = this.#r;
    this.#insert = w.prepare(
      "INSERT INTO kv (id, name, created, deleted, create_revision, prev_revision, value) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    this.#valueById = w.prepare("SELECT value FROM kv WHERE id = ?").pluck();
    this.#seqW = w.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'kv'").pluck();
    this.#metaGet = w.prepare("SELECT value FROM meta WHERE key = ?").pluck();
    this.#metaSet = w.prepare(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    );
    this.#tombstonesIn = w.prepare("SELECT id, name FROM kv WHERE id > ? AND id <= ? AND deleted = 1").raw();
    // a row superseded by a row at or below the compact revision is no longer replayable;
    // a row superseded above it is still some retained event's `prev`, so it stays
    this.#deleteSuperseded = w.prepare(
      "DELETE FROM kv WHERE id IN (SELECT prev_revision FROM kv WHERE id > ? AND id <= ? AND prev_revision > 0)",
    );
    this.#deleteTombstones = w.prepare("DELETE FROM kv WHERE id > ? AND id <= ? AND deleted = 1");
    this.#compactTx = w.transaction((from: number, to: number): Array<[number, string]> => {
      const tombs = this.#tombstonesIn.all(from, to).map((row) => {
        const a = row as Row;
        return [num(a[0]), str(a[1])] as [number, string];
      });
      this.#deleteSuperseded.run(from, to);
      this.#deleteTombstones.run(from, to);
      this.#metaSet.run("compact_revision", to);
      return tombs;
    });

    this.#seqR = r.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'kv'").pluck();
    this.#listPage = r
      .prepare(
        // CROSS JOIN keeps the name-ordered subquery as the outer loop, so rows come out sorted
        // without a temp b-tree full of values (checked in list(); sorted in JS if ever not)
        `SELECT kv.name, kv.value, kv.id, kv.create_revision FROM (${LATEST_IN_RANGE}) AS l CROSS JOIN kv ON kv.id = l.id WHERE kv.deleted = 0 LIMIT @limit`,
      )
      .raw();
    this.#scanFrom = r.prepare(`${scanPage("name >= @lo", "kv.name, kv.value, kv.id")} LIMIT @limit`).raw();
    this.#scanAfter = r
      .prepare(`${scanPage("name > @after", "kv.name, kv.value, kv.id")} LIMIT @limit`)
      .raw();
    this.#scanRemaining = r.prepare(scanPage("name > @after", "COUNT(*)")).pluck();
    this.#listCount = r
      .prepare(
        `SELECT COUNT(*) FROM (${LATEST_IN_RANGE}) AS l CROSS JOIN kv ON kv.id = l.id WHERE kv.deleted = 0`,
      )
      .pluck();
    this.#events = r
      .prepare(
        `SELECT kv.id, kv.name, kv.created, kv.deleted, kv.create_revision, kv.prev_revision, kv.value, p.value
         FROM kv LEFT JOIN kv AS p ON p.id = kv.prev_revision AND kv.created = 0
         WHERE kv.id > ? AND kv.name >= ? AND kv.name < ? ORDER BY kv.id LIMIT ?`,
      )
      .raw();
    this.#listTx = r.transaction((prefix: string, opts: ListOptions): ListResult => {
      // the first read fixes the snapshot: the revision read here is the one the rows match
      const revision = num(this.#seqR.get() ?? 0);
      opts.onRevision?.(revision);
      const end = prefixEnd(prefix);
      const after = opts.startAfter ?? "";
      const limit = opts.limit && opts.limit > 0 ? opts.limit : -1;
      const rows = this.#listPage.all({ lo: prefix, hi: end, after, limit: limit < 0 ? -1 : limit + 1 });
      const more = limit > 0 && rows.length > limit;
      if (more) rows.length = limit;
      const items: KeyValue[] = new Array(rows.length);
      let sorted = true;
      for (let i = 0; i < rows.length; i++) {
        const a = rows[i] as Row;
        items[i] = { key: str(a[0]), value: str(a[1]), revision: num(a[2]), createRevision: num(a[3]) };
        if (i > 0 && items[i - 1]!.key >= items[i]!.key) sorted = false;
      }
      if (!sorted) items.sort((x, y) => (x.key < y.key ? -1 : 1));
      const last = items[items.length - 1];
      const remaining = more && last ? num(this.#listCount.get({ lo: prefix, hi: end, after: last.key })) : 0;
      return { items, revision, more, remaining };
    });
  }

  /**
   * Rows are visited as they are stepped (iterate), so none outlives its visit: measured on
   * 10,000 ConfigMaps with the hub's heap settings, reading and copying them out costs ≈33 ms
   * of CPU this way against ≈45 ms with all() (every value survives the scavenges), and
   * values as BLOBs (Buffers) cost more than strings (≈40–50 ms). The order cannot be
   * repaired afterwards as list() does; the CROSS JOIN plan guarantees it, and a violation
   * throws rather than hand a client an unsorted list.
   *
   * A visit may return a promise to pause the scan (its reply's socket must send what it
   * has: a synchronous scan of 10,000 rows let nothing but the first chunk leave before the
   * last row was read). The statement is then ended and the scan goes on after the settled
   * promise from the last visited key, in a new statement. Every page reads the newest row
   * at or below the scan's revision, so the pages together are the list at that one revision
   * whatever was written in between, provided no row the list needs was compacted meanwhile:
   * the caller holds compaction at or below `revision` until the scan settles
   * (SqliteBackend pins it).
   */
  async scan(prefix: string, opts: ListOptions, visit: ScanVisitor): Promise<ScanResult> {
    // the writer is this thread: nothing commits between reading the revision and the rows
    const revision = num(this.#seqR.get() ?? 0);
    opts.onRevision?.(revision);
    const hi = prefixEnd(prefix);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : -1;
    let count = 0;
    let lastKey = "";
    let more = false;
    let after = opts.startAfter;
    for (;;) {
      const stmt = after === undefined ? this.#scanFrom : this.#scanAfter;
      const params = {
        lo: prefix,
        after: after ?? "",
        hi,
        rev: revision,
        limit: limit < 0 ? -1 : limit - count + 1,
      };
      let pause: unknown;
      for (const row of stmt.iterate(params)) {
        if (count === limit) {
          more = true;
          pause = undefined;
          break;
        }
        const a = row as Row;
        const key = str(a[0]);
        if (key <= lastKey)
          throw new Error(`store: list rows out of key order at ${key} (query plan changed?)`);
        pause = visit(key, str(a[1]), num(a[2]));
        lastKey = key;
        count++;
        if (pause instanceof Promise) break;
      }
      if (!(pause instanceof Promise)) break;
      await pause;
      after = lastKey;
    }
    const remaining = more ? num(this.#scanRemaining.get({ after: lastKey, hi, rev: revision })) : 0;
    return { revision, count, lastKey, more, remaining };
  }

  /** Runs `fn` in one write transaction (rolled back if it throws). */
  transaction<R>(fn: () => R): R {
    return this.#w.transaction(fn)();
  }

  append(row: LogRow): void {
    this.#insert.run(
      row.id,
      row.name,
      row.created ? 1 : 0,
      row.deleted ? 1 : 0,
      row.createRevision,
      row.prevRevision,
      row.value,
    );
  }

  valueAt(revision: number): string {
    const v = this.#valueById.get(revision);
    if (typeof v !== "string") throw new Error(`store: row ${revision} is missing (log inconsistent)`);
    return v;
  }

  /** Highest revision ever assigned (0 for a new file). */
  revision(): number {
    return num(this.#seqW.get() ?? 0);
  }

  compactRevision(): number {
    return num(this.#metaGet.get("compact_revision") ?? 0);
  }

  /** Newest row of every name, tombstones included: the writer's in-memory index. */
  loadLatest(): Map<string, Latest> {
    const m = new Map<string, Latest>();
    const stmt = this.#w
      .prepare(
        "SELECT id, name, create_revision, deleted FROM kv WHERE id IN (SELECT MAX(id) FROM kv GROUP BY name)",
      )
      .raw();
    for (const row of stmt.iterate()) {
      const a = row as Row;
      m.set(str(a[1]), { revision: num(a[0]), createRevision: num(a[2]), deleted: num(a[3]) === 1 });
    }
    return m;
  }

  list(prefix: string, opts: ListOptions = {}): ListResult {
    return this.#listTx(prefix, opts);
  }

  count(prefix: string): number {
    return num(this.#listCount.get({ lo: prefix, hi: prefixEnd(prefix), after: "" }));
  }

  readEvents(prefix: string, after: number, limit: number): WatchEvent[] {
    const rows = this.#events.all(after, prefix, prefixEnd(prefix), limit);
    return rows.map((row) => {
      const a = row as Row;
      const r: LogRow = {
        id: num(a[0]),
        name: str(a[1]),
        created: num(a[2]) === 1,
        deleted: num(a[3]) === 1,
        createRevision: num(a[4]),
        prevRevision: num(a[5]),
        value: str(a[6]),
      };
      const prev =
        a[7] === null || r.created
          ? undefined
          : { key: r.name, value: str(a[7]), revision: r.prevRevision, createRevision: r.createRevision };
      return eventOfRow(r, prev);
    });
  }

  /** Compact (from, to]; returns the tombstones removed so the writer can forget them. */
  compactRange(from: number, to: number): Array<[number, string]> {
    return this.#compactTx(from, to);
  }

  /** PRAGMA wal_checkpoint(TRUNCATE): folds the WAL into the db and empties it. */
  checkpoint(): { busy: boolean; logFrames: number; checkpointed: number } {
    const res = this.#w.pragma("wal_checkpoint(TRUNCATE)") as Array<Record<string, unknown>>;
    const r = res[0] ?? {};
    return {
      busy: r["busy"] === 1,
      logFrames: num(r["log"] ?? 0),
      checkpointed: num(r["checkpointed"] ?? 0),
    };
  }

  close(): void {
    if (this.#r.open) this.#r.close();
    if (this.#w.open) this.#w.close();
  }
}
