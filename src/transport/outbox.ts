/**
 * Outbox: the agent's durable queue of status updates for the hub, in SQLite.
 *
 * Design notes
 * - Coalesced per object key: only the newest status of an object matters to the hub, so a put
 *   replaces the key's previous row. A device offline for a day holds one row per object, not one
 *   per change (bounded by the number of objects, and few writes on the SD card).
 * - Every put gets a fresh sequence number from an AUTOINCREMENT key (`INSERT OR REPLACE` deletes
 *   the old row and inserts a new one), so numbers are never reused, even after every row was acked
 *   and deleted, and survive restarts. The hub keeps the last applied seq per key and drops
 *   anything not newer, so a resend after a lost ack is harmless.
 * - Rows leave only when the hub acknowledged them (`ack(upTo)`): a row whose seq is above upTo,
 *   which includes a newer status that replaced an in-flight one, stays.
 * - `epoch` (random, fixed at file creation) scopes the sequence numbers: if the agent's data dir is
 *   wiped, numbering restarts under a new epoch and the hub resets its per-key memory for the node.
 * - WAL with synchronous=NORMAL: a power cut may lose the last few puts, never corrupt the file;
 *   the agent recomputes status from the runtime after a reboot anyway.
 */
import { randomUUID } from "node:crypto";
import { openDatabase } from "../lib/sqlite.js";
import type { StatusUpdate } from "./envelope.js";

type SqliteDb = ReturnType<typeof openDatabase>;
type Statement = ReturnType<SqliteDb["prepare"]>;

interface Row {
  seq: number;
  key: string;
  observed: number | null;
  status: string;
}

/**
 * What the sync engine needs from a status outbox. Outbox (SQLite) is the agent's; lighter
 * implementations (e.g. in memory, for thousands of simulated agents in one process) must keep
 * the same semantics: coalesced per key, never-reused sequence numbers within one epoch.
 */
export interface StatusOutbox {
  readonly epoch: string;
  put(key: string, status: unknown, observedRevision?: number): number;
  pending(afterSeq?: number, limit?: number, maxBytes?: number): StatusUpdate[];
  ack(upTo: number): number;
  size(): number;
}

export class Outbox implements StatusOutbox {
  readonly epoch: string;
  private readonly db: SqliteDb;
  private readonly putStmt: Statement;
  private readonly pendingStmt: Statement;
  private readonly ackStmt: Statement;
  private readonly countStmt: Statement;

  /** Opens (creating if needed) the outbox in the SQLite file at `path`. */
  constructor(path: string) {
    this.db = openDatabase(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS outbox_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        observed INTEGER,
        status TEXT NOT NULL
      );`);
    this.db.prepare("INSERT OR IGNORE INTO outbox_meta (name, value) VALUES ('epoch', ?)").run(randomUUID());
    const epoch = this.db.prepare("SELECT value FROM outbox_meta WHERE name = 'epoch'").get() as
      | { value: string }
      | undefined;
    if (!epoch) throw new Error(`outbox ${path} has no epoch row: delete the file to recreate it`);
    this.epoch = epoch.value;
    this.putStmt = this.db.prepare(
      "INSERT OR REPLACE INTO outbox (key, observed, status) VALUES (?, ?, ?) RETURNING seq",
    );
    this.pendingStmt = this.db.prepare(
      "SELECT seq, key, observed, status FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
    );
    this.ackStmt = this.db.prepare("DELETE FROM outbox WHERE seq <= ?");
    this.countStmt = this.db.prepare("SELECT count(*) AS n FROM outbox");
  }

  /** Queues the newest status of `key`, replacing any older one; returns its sequence number. */
  put(key: string, status: unknown, observedRevision?: number): number {
    const row = this.putStmt.get(key, observedRevision ?? null, JSON.stringify(status)) as { seq: number };
    return row.seq;
  }

  /**
   * Up to `limit` updates with seq above `afterSeq`, oldest first, cut at `maxBytes` of status JSON
   * (at least one update is returned when any is pending).
   */
  pending(afterSeq = 0, limit = 200, maxBytes = 512 * 1024): StatusUpdate[] {
    const rows = this.pendingStmt.all(afterSeq, limit) as Row[];
    const out: StatusUpdate[] = [];
    let bytes = 0;
    for (const r of rows) {
      bytes += r.status.length + r.key.length;
      if (out.length > 0 && bytes > maxBytes) break;
      const u: StatusUpdate = { key: r.key, seq: r.seq, status: JSON.parse(r.status) as unknown };
      if (r.observed !== null) u.observedRevision = r.observed;
      out.push(u);
    }
    return out;
  }

  /** Drops every update the hub acknowledged (seq <= upTo); returns how many were removed. */
  ack(upTo: number): number {
    return this.ackStmt.run(upTo).changes;
  }

  /** Updates waiting for the hub. */
  size(): number {
    return (this.countStmt.get() as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }
}
