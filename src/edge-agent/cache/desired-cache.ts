/**
 * DesiredCache: the agent's SQLite copy of its desired set (pods bound to this node, what they
 * reference, Services, EndpointSlices, Nodes). It is the DesiredSink of the sync protocol and the
 * only source the pod manager, DNS, LB and overlay read from, online or not.
 *
 * Design notes
 * - Offline autonomy rests here: after a reboot with the hub unreachable the agent restores pods,
 *   DNS and routes from this file alone. So every apply/replace is ONE transaction together with
 *   the watermark: after a crash the file holds a state the hub really had at that watermark, never
 *   half a delta, and the next hello resumes exactly there.
 * - Newest resourceVersion per key wins inside `apply`: the upsert only replaces a row with a
 *   higher revision, and a delete only removes a row at or below the delete's revision. The sync
 *   engine filters too; the cache enforces it again because it is the last line.
 * - `replace` (a snapshot) is authoritative: absent keys are deleted, present ones take the
 *   snapshot's object. Rows whose revision did not change are not rewritten and produce no change
 *   event, so resyncing after a reconnect is silent: nothing downstream restarts because the link
 *   came back (KubeEdge/OpenYurt users' main complaint).
 * - Change events are emitted once per transaction, after commit, as a batch: handlers only
 *   enqueue keys (STYLE.md), and a reader never sees a change the file does not hold yet.
 * - Objects are stored as the hub's JSON text and parsed on every read, so callers get their own
 *   copy and can never corrupt the cache by mutating a result.
 * - The set digest (set-digest.ts) is kept with the set: XOR of one hash per row over the JSON
 *   text the row holds, updated in the same transaction as the rows and persisted in cache_meta.
 *   The agent sends it with every hello, so after a hub restart (the hub's change history is in
 *   memory and starts over) an unchanged set is confirmed with an empty delta instead of being
 *   refetched as a snapshot. A cache written before the digest existed gets it computed once at
 *   open. If it were ever wrong, the only cost is the old path: a snapshot.
 * - WAL + synchronous=NORMAL: a power cut may lose the last transaction (the hub resends it from
 *   the older watermark), never corrupt the file. The watermark write rides in the same
 *   transaction, so there is no extra write per delta on the SD card.
 */
import type Database from "better-sqlite3";
import type { KubeObject } from "../../api/object.js";
import { openDatabase } from "../../lib/sqlite.js";
import type { DesiredChange, DesiredObject } from "../../transport/envelope.js";
import { entryHash, SetDigest } from "../../transport/set-digest.js";
import type { DesiredSink } from "../../transport/sync-agent.js";
import { parseKey, resourceOf } from "./keys.js";

export type CacheChange =
  | { type: "put"; key: string; resource: string; revision: number; object: KubeObject }
  | { type: "delete"; key: string; resource: string; revision: number };

export type ChangeHandler = (changes: readonly CacheChange[]) => void;

interface Row {
  key: string;
  revision: number;
  json: string;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS cache_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS objects (
    key TEXT PRIMARY KEY,
    resource TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    revision INTEGER NOT NULL,
    json TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS objects_by_resource ON objects (resource, namespace, name);`;

export class CacheFileError extends Error {
  constructor(path: string, cause: unknown) {
    super(
      `the agent cache ${path} cannot be opened (${(cause as Error).message}): check the data dir's permissions and free space; as a last resort delete the file and the agent refetches everything from the hub`,
      { cause },
    );
    this.name = "CacheFileError";
  }
}

export class DesiredCache implements DesiredSink {
  private readonly db: Database;
  private readonly handlers = new Set<ChangeHandler>();
  private readonly stmts: ReturnType<DesiredCache["prepare"]>;
  private readonly applyTx: (changes: DesiredChange[], watermark: number, sum: SetDigest) => CacheChange[];
  private readonly replaceTx: (objects: DesiredObject[], revision: number, sum: SetDigest) => CacheChange[];
  /** SetDigest of the rows, as committed (a failed transaction leaves it untouched) */
  private sum = new SetDigest();

  /** Opens (creating if needed) the cache at `path`; `readonly` for `edge-agent status`. */
  constructor(
    readonly path: string,
    opts: { readonly?: boolean } = {},
  ) {
    try {
      this.db = openDatabase(path, opts.readonly ? { readonly: true, fileMustExist: true } : {});
      if (!opts.readonly) {
        this.db.pragma("journal_mode = WAL");
        this.db.pragma("synchronous = NORMAL");
        this.db.exec(SCHEMA);
      }
      this.db.pragma("busy_timeout = 2000");
      this.stmts = this.prepare();
    } catch (err) {
      throw new CacheFileError(path, err);
    }
    this.applyTx = this.db.transaction((changes: DesiredChange[], watermark: number, sum: SetDigest) =>
      this.applyRows(changes, watermark, sum),
    );
    this.replaceTx = this.db.transaction((objects: DesiredObject[], revision: number, sum: SetDigest) =>
      this.replaceRows(objects, revision, sum),
    );
    if (!opts.readonly) this.sum = this.loadDigest();
  }

  /** The persisted digest, or (a cache from before digests) one computed from every row. */
  private loadDigest(): SetDigest {
    const stored = this.stmts.getMeta.get("digest");
    if (typeof stored === "string" && /^[0-9a-f]{32}$/.test(stored))
      return new SetDigest().toggle(Buffer.from(stored, "hex"));
    const sum = new SetDigest();
    for (const r of this.stmts.allRows.iterate() as IterableIterator<Row>)
      sum.toggle(entryHash(r.key, r.json));
    this.stmts.setMeta.run("digest", sum.hex());
    return sum;
  }

  private prepare() {
    const db = this.db;
    return {
      getMeta: db.prepare("SELECT value FROM cache_meta WHERE name = ?").pluck(),
      setMeta: db.prepare(
        "INSERT INTO cache_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
      ),
      version: db.prepare("SELECT revision FROM objects WHERE key = ?").pluck(),
      upsertNewer: db.prepare(
        `INSERT INTO objects (key, resource, namespace, name, revision, json) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET revision = excluded.revision, json = excluded.json
         WHERE excluded.revision > objects.revision`,
      ),
      upsert: db.prepare(
        `INSERT INTO objects (key, resource, namespace, name, revision, json) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET revision = excluded.revision, json = excluded.json`,
      ),
      deleteUpTo: db.prepare("DELETE FROM objects WHERE key = ? AND revision <= ?"),
      delete: db.prepare("DELETE FROM objects WHERE key = ?"),
      allVersions: db.prepare("SELECT key, revision FROM objects"),
      allRows: db.prepare("SELECT key, revision, json FROM objects"),
      get: db.prepare("SELECT key, revision, json FROM objects WHERE key = ?"),
      list: db.prepare("SELECT key, revision, json FROM objects WHERE resource = ? ORDER BY namespace, name"),
      listNs: db.prepare(
        "SELECT key, revision, json FROM objects WHERE resource = ? AND namespace = ? ORDER BY name",
      ),
      counts: db.prepare("SELECT resource, count(*) AS n FROM objects GROUP BY resource"),
    };
  }

  // ---- DesiredSink -------------------------------------------------------------------------

  watermark(): number {
    const v = this.stmts.getMeta.get("watermark");
    return typeof v === "string" ? Number(v) : 0;
  }

  version(key: string): number | undefined {
    const v = this.stmts.version.get(key);
    return typeof v === "number" ? v : undefined;
  }

  apply(changes: DesiredChange[], watermark: number): void {
    const sum = this.sum.clone();
    const out = this.applyTx(changes, watermark, sum);
    this.sum = sum;
    this.emit(out);
  }

  replace(objects: DesiredObject[], revision: number): void {
    const sum = new SetDigest();
    const out = this.replaceTx(objects, revision, sum);
    this.sum = sum;
    this.emit(out);
  }

  /** SetDigest (hex) of the whole set, for the hello (see set-digest.ts). */
  digest(): string {
    return this.sum.hex();
  }

  // ---- reads -------------------------------------------------------------------------------

  /** The object under `key` with its revision, or undefined. */
  getEntry(key: string): DesiredObject | undefined {
    const row = this.stmts.get.get(key) as Row | undefined;
    return row ? toEntry(row) : undefined;
  }

  /** Every cached object of one `<group>/<resource>` (optionally one namespace), by namespace/name. */
  list(resource: string, namespace?: string): DesiredObject[] {
    const rows = (
      namespace === undefined ? this.stmts.list.all(resource) : this.stmts.listNs.all(resource, namespace)
    ) as Row[];
    return rows.map(toEntry);
  }

  /** Object counts per `<group>/<resource>`. */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.stmts.counts.all() as Array<{ resource: string; n: number }>) out[r.resource] = r.n;
    return out;
  }

  /** Called after every committed apply/replace that changed something; returns the unsubscribe. */
  onChange(handler: ChangeHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  close(): void {
    this.handlers.clear();
    if (this.db.open) this.db.close();
  }

  // ---- transactions ------------------------------------------------------------------------

  private applyRows(changes: DesiredChange[], watermark: number, sum: SetDigest): CacheChange[] {
    const out: CacheChange[] = [];
    for (const c of changes) {
      const k = parseKey(c.key);
      const resource = resourceOf(k);
      if (c.op === "put") {
        const json = JSON.stringify(c.object);
        const before = this.stmts.get.get(c.key) as Row | undefined;
        const r = this.stmts.upsertNewer.run(c.key, resource, k.namespace, k.name, c.revision, json);
        // the same object re-sent under a newer set revision (it re-entered this node's set) is
        // recorded, but is not a change: nothing downstream re-applies it
        if (r.changes > 0 && before?.json !== json) {
          if (before) sum.toggle(entryHash(c.key, before.json));
          sum.toggle(entryHash(c.key, json));
          out.push({ type: "put", key: c.key, resource, revision: c.revision, object: c.object });
        }
      } else {
        const before = this.stmts.get.get(c.key) as Row | undefined;
        if (before && this.stmts.deleteUpTo.run(c.key, c.revision).changes > 0) {
          sum.toggle(entryHash(c.key, before.json));
          out.push({ type: "delete", key: c.key, resource, revision: c.revision });
        }
      }
    }
    this.stmts.setMeta.run("watermark", String(watermark));
    this.stmts.setMeta.run("digest", sum.hex());
    return out;
  }

  private replaceRows(objects: DesiredObject[], revision: number, sum: SetDigest): CacheChange[] {
    // newest per key inside the snapshot itself (chunks may repeat a key)
    const incoming = new Map<string, DesiredObject>();
    for (const o of objects) {
      const prev = incoming.get(o.key);
      if (!prev || o.revision > prev.revision) incoming.set(o.key, o);
    }
    const have = new Map<string, number>();
    for (const r of this.stmts.allVersions.all() as Array<{ key: string; revision: number }>) {
      have.set(r.key, r.revision);
    }
    const out: CacheChange[] = [];
    for (const key of have.keys()) {
      if (incoming.has(key)) continue;
      this.stmts.delete.run(key);
      out.push({ type: "delete", key, resource: resourceOf(parseKey(key)), revision });
    }
    for (const o of incoming.values()) {
      const json = JSON.stringify(o.object);
      sum.toggle(entryHash(o.key, json));
      if (have.get(o.key) === o.revision) continue;
      const k = parseKey(o.key);
      const resource = resourceOf(k);
      const before = have.has(o.key) ? (this.stmts.get.get(o.key) as Row | undefined) : undefined;
      this.stmts.upsert.run(o.key, resource, k.namespace, k.name, o.revision, json);
      // same object under another set revision (a hub restart rebuilt the sets): not a change
      if (before?.json === json) continue;
      out.push({ type: "put", key: o.key, resource, revision: o.revision, object: o.object });
    }
    this.stmts.setMeta.run("watermark", String(revision));
    this.stmts.setMeta.run("digest", sum.hex());
    return out;
  }

  private emit(changes: CacheChange[]): void {
    if (changes.length === 0) return;
    for (const h of this.handlers) h(changes);
  }
}

function toEntry(row: Row): DesiredObject {
  return { key: row.key, revision: row.revision, object: JSON.parse(row.json) as KubeObject };
}
