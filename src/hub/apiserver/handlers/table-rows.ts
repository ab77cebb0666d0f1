/**
 * TableRows: the JSON of a listed object's Table rows, remembered per object revision so that
 * the next `kubectl get` of the same objects neither parses nor re-encodes them.
 *
 * Design notes
 * - Why: a Table list of 10,000 ConfigMaps spent ≈45 ms of the hub's CPU in JSON.parse of the
 *   stored objects (mostly building the metadata's objects, not reading the payload) and
 *   ≈20 ms in JSON.stringify of the rows, against ≈25 ms for reading the rows from SQLite:
 *   a printer needs any field of the object, so a partial parse cannot be had in general, but
 *   the row of one revision of one object is always the same, except for its ages.
 * - Ages: cells are printed twice, at `now` and at a probe time 30.5 s after the object's
 *   creationTimestamp (where an age has one-second resolution). A cell equal at both is
 *   fixed. A cell that differs and equals the age (time since creationTimestamp) at both is an
 *   age: the entry keeps the row's JSON around it and prints the age anew on every hit. A row
 *   with any other time-dependent cell (LAST SEEN, DURATION of a running Job …) is not kept.
 *   Same printer object and includeObject mode too: a CRD's printer is replaced with its
 *   columns, and includeObject=Object (the whole object) is never kept.
 * - Kept on second sight: the first time a revision of an object is listed, only its key and
 *   revision are noted and the row is printed as before; the second time the row is printed
 *   twice and kept; from the third on it is reused. Keeping costs ≈1.5× a plain print (more
 *   while that code is not yet optimized: the hub's first Table list after a start took
 *   ≈4× longer when every row was kept at once), and a one-off list should not pay it.
 * - Bounded: `budgetBytes` of JSON characters (plus a fixed overhead per entry, noted or
 *   kept). Past it the oldest entries go first; entries of deleted objects leave that way too.
 *   A list larger than the budget gains nothing (its rows evict each other).
 */
import type { KubeObject } from "../../../api/object.js";
import { decodeStored } from "../codec.js";
import { humanDuration } from "../printers/duration.js";
import { buildTable, type IncludeObject, type TablePrinter } from "../printers/index.js";

/**
 * The hub's budget: the rows of ≈10,000–18,000 small objects (a ConfigMap's row with its
 * PartialObjectMetadata is ≈450 bytes, a Pod's ≈800–1,500).
 */
export const TABLE_ROWS_BUDGET_BYTES = 8 * 1024 * 1024;

/** bytes an entry costs beside its JSON (the Map entry, the object, its fields) */
const ENTRY_OVERHEAD = 160;
const PROBE_AFTER_CREATION_MS = 30_500;
/** stands for an age cell while the row is encoded; cannot occur in a printed cell */
const AGE = "\u0000age\u0000";
const AGE_JSON = JSON.stringify(AGE);

interface Entry {
  revision: number;
  printer: TablePrinter;
  include: IncludeObject;
  /** the row's JSON cut at its age cells: parts.join(age) is the row; undefined when only noted */
  parts: string[] | undefined;
  /** creationTimestamp in ms (NaN when the row has no age cell) */
  created: number;
  /** printed with a time-dependent cell other than an age: never kept */
  never: boolean;
  bytes: number;
}

export interface TableRowStats {
  hits: number;
  misses: number;
  entries: number;
  bytes: number;
}

function print(parts: string[], created: number, now: Date): string {
  return parts.length === 1 ? parts[0]! : parts.join(JSON.stringify(humanDuration(now.getTime() - created)));
}

export class TableRows {
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;
  #hits = 0;
  #misses = 0;

  /** `budgetBytes` 0 keeps nothing (every call prints the object). */
  constructor(readonly budgetBytes: number) {}

  /** The object's rows as JSON, comma-separated (a printer may print several rows, or none). */
  rows(
    printer: TablePrinter,
    include: IncludeObject,
    key: string,
    value: string,
    revision: number,
    now: Date,
  ): string {
    const e = this.#entries.get(key);
    const seen = e !== undefined && e.revision === revision && e.printer === printer && e.include === include;
    if (seen && e.parts) {
      this.#hits++;
      return print(e.parts, e.created, now);
    }
    const keep = seen && !e.never;
    this.#misses++;
    const obj = decodeStored(value, revision);
    const rows = buildTable(printer, [obj], {
      includeObject: include,
      resourceVersion: "",
      now,
      noHeaders: true,
    }).rows as Array<Record<string, unknown>>;
    const row = rows[0];
    if (rows.length !== 1 || !row || include === "Object" || this.budgetBytes <= 0) {
      return rows.map((r) => JSON.stringify(r)).join(",");
    }
    const noted = {
      revision,
      printer,
      include,
      parts: undefined,
      created: Number.NaN,
      never: false,
      bytes: 0,
    };
    if (!keep) {
      if (!seen) this.#remember(key, noted);
      return JSON.stringify(row);
    }
    const kept = this.#cut(printer, obj, row, now);
    if (!kept) {
      // noted as never kept, or every other list would print it twice
      this.#remember(key, { ...noted, never: true });
      return JSON.stringify(row);
    }
    this.#remember(key, { revision, printer, include, ...kept, never: false, bytes: 0 });
    return print(kept.parts, kept.created, now);
  }

  stats(): TableRowStats {
    return { hits: this.#hits, misses: this.#misses, entries: this.#entries.size, bytes: this.#bytes };
  }

  /** The row's JSON cut at its age cells, or undefined when a cell depends on time otherwise. */
  #cut(
    printer: TablePrinter,
    obj: KubeObject,
    row: Record<string, unknown>,
    now: Date,
  ): { parts: string[]; created: number } | undefined {
    const cells = row.cells as unknown[];
    const created = Date.parse(String(obj.metadata?.creationTimestamp ?? ""));
    const probe = Number.isNaN(created)
      ? new Date(now.getTime() + 400 * 86_400_000)
      : new Date(created + PROBE_AFTER_CREATION_MS);
    const other = printer.rows(obj, probe)[0];
    if (!other || other.length !== cells.length) return undefined;
    let ages = 0;
    let timeDependent = false;
    const marked = cells.map((c, i) => {
      const o = other[i];
      if (c === o || (typeof c === "object" && JSON.stringify(c) === JSON.stringify(o))) return c;
      const isAge =
        !Number.isNaN(created) &&
        c === humanDuration(now.getTime() - created) &&
        o === humanDuration(probe.getTime() - created);
      if (!isAge) timeDependent = true;
      ages++;
      return AGE;
    });
    if (timeDependent) return undefined;
    const parts = JSON.stringify({ ...row, cells: marked }).split(AGE_JSON);
    return parts.length === ages + 1 ? { parts, created } : undefined;
  }

  #forget(key: string): void {
    const old = this.#entries.get(key);
    if (!old) return;
    this.#entries.delete(key);
    this.#bytes -= old.bytes;
  }

  #remember(key: string, e: Entry): void {
    e.bytes = ENTRY_OVERHEAD + key.length + (e.parts?.reduce((n, p) => n + p.length, 0) ?? 0);
    this.#forget(key);
    if (e.bytes > this.budgetBytes) return;
    for (const [k, v] of this.#entries) {
      if (this.#bytes + e.bytes <= this.budgetBytes) break;
      this.#entries.delete(k);
      this.#bytes -= v.bytes;
    }
    this.#entries.set(key, e);
    this.#bytes += e.bytes;
  }
}
