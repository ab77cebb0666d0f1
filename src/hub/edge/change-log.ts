/**
 * ChangeLog: the in-memory history of one desired set (one node's scoped objects, or the
 * objects every node shares) as `(op, key, revision)` entries, with a floor below which the
 * history is gone.
 *
 * Design notes
 * - Entries hold keys, not objects: a delta is built from the newest op per key, and a put's
 *   object is read from the current index at that moment (a put that is still the newest op
 *   for its key is exactly the current object). Memory stays proportional to the number of
 *   changes, not their size.
 * - Bounded: past `maxEntries` the oldest half is dropped and the floor moves up to the last
 *   dropped revision; an agent whose watermark is below the floor gets a snapshot instead.
 *   A hub restart starts every log empty with the floor at the start revision, for the same
 *   reason (nothing before it is known).
 */
export interface LogEntry {
  op: "put" | "delete";
  key: string;
  revision: number;
}

export class ChangeLog {
  private entries: LogEntry[] = [];

  constructor(
    /** history at or below this revision is not in the log */
    public floor: number,
    private readonly maxEntries = 4096,
  ) {}

  append(e: LogEntry): void {
    this.entries.push(e);
    if (this.entries.length > this.maxEntries) {
      const cut = Math.floor(this.entries.length / 2);
      this.floor = Math.max(this.floor, this.entries[cut - 1]?.revision ?? this.floor);
      this.entries = this.entries.slice(cut);
    }
  }

  /** Starts over (after a relist): nothing at or below `floor` is known. */
  reset(floor: number): void {
    this.entries = [];
    this.floor = floor;
  }

  covers(watermark: number): boolean {
    return watermark >= this.floor;
  }

  /** The newest entry per key with revision > watermark (caller checked covers()). */
  since(watermark: number): Map<string, LogEntry> {
    const out = new Map<string, LogEntry>();
    // entries are in revision order, so scanning from the end finds each key's newest first
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (e.revision <= watermark) break;
      if (!out.has(e.key)) out.set(e.key, e);
    }
    return out;
  }

  get size(): number {
    return this.entries.length;
  }
}
