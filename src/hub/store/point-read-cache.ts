/**
 * PointReadCache: the stored values of the last few rows read by key (`Backend.get`), so a
 * row read on every request is not fetched from SQLite each time.
 *
 * Design notes
 * - Why: every create in a namespace reads that Namespace (is it being terminated?), and a
 *   read-modify-write reads its object first; under a burst of creates the same Namespace row
 *   was fetched from SQLite thousands of times a second (≈3% of the hub's CPU per create in
 *   bench/api's profile).
 * - Keyed by revision, not by name: a row of the append-only log never changes, so an entry
 *   can never be stale. The backend looks up the key's newest revision in its in-memory index
 *   first; a write gives the key a new revision, which simply misses here. Compacted rows are
 *   never asked for again and age out.
 * - Small and bounded: at most `maxEntries` values of at most `maxValueChars` characters each
 *   (defaults 128 × 4 KiB ≤ 512 KiB, in practice a few KiB of Namespaces), least recently used
 *   out first (a Map keeps insertion order; a hit re-inserts). Large objects are not worth
 *   holding: their SELECT is cheap beside their JSON parse.
 */

export interface PointReadCacheOptions {
  maxEntries?: number;
  maxValueChars?: number;
}

export class PointReadCache {
  readonly #values = new Map<number, string>();
  readonly #maxEntries: number;
  readonly #maxValueChars: number;

  constructor(opts: PointReadCacheOptions = {}) {
    this.#maxEntries = opts.maxEntries ?? 128;
    this.#maxValueChars = opts.maxValueChars ?? 4096;
  }

  /** the value of row `revision`, from the cache or from `read` (then kept if small) */
  get(revision: number, read: (revision: number) => string): string {
    const hit = this.#values.get(revision);
    if (hit !== undefined) {
      // most recently used goes last
      this.#values.delete(revision);
      this.#values.set(revision, hit);
      return hit;
    }
    const v = read(revision);
    if (v.length <= this.#maxValueChars && this.#maxEntries > 0) {
      if (this.#values.size >= this.#maxEntries) {
        const oldest = this.#values.keys().next();
        if (!oldest.done) this.#values.delete(oldest.value);
      }
      this.#values.set(revision, v);
    }
    return v;
  }

  get size(): number {
    return this.#values.size;
  }

  clear(): void {
    this.#values.clear();
  }
}
