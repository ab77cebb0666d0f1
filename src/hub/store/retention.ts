/**
 * The retained window: which revision background compaction may advance to.
 *
 * Design notes
 * - Two knobs, both must agree: keep at least `retainRevisions` revisions (a watcher that
 *   fell that far behind relists, which is what informers do on 410), and optionally keep
 *   everything younger than `minAgeMs` so a short burst of writes cannot compact away what
 *   a briefly disconnected client still needs.
 * - Rows carry no timestamps (they would cost bytes in every row); instead the writer
 *   records a (revision, time) sample at most once per `sampleEveryMs`. After a restart the
 *   first sample is the revision found on disk at start-up time, which errs on keeping more.
 */

export interface RetentionOptions {
  readonly retainRevisions: number;
  readonly minAgeMs: number;
  readonly now: () => number;
  readonly sampleEveryMs?: number;
}

export class RetentionWindow {
  readonly #samples: Array<{ revision: number; at: number }> = [];
  readonly #sampleEvery: number;

  constructor(private readonly opts: RetentionOptions) {
    this.#sampleEvery = opts.sampleEveryMs ?? Math.max(1, Math.floor(opts.minAgeMs / 64));
  }

  /** Note that `revision` was committed now. Cheap: called on every flush. */
  record(revision: number): void {
    if (this.opts.minAgeMs <= 0) return;
    const at = this.opts.now();
    const last = this.#samples[this.#samples.length - 1];
    if (last && at - last.at < this.#sampleEvery) return;
    this.#samples.push({ revision, at });
  }

  /** Highest revision that may be compacted given the current revision (0 = none). */
  target(current: number): number {
    let target = current - this.opts.retainRevisions;
    if (this.opts.minAgeMs > 0) {
      const cutoff = this.opts.now() - this.opts.minAgeMs;
      let oldEnough = 0;
      let firstKept = 0;
      for (let i = 0; i < this.#samples.length; i++) {
        const s = this.#samples[i]!;
        if (s.at > cutoff) break;
        oldEnough = s.revision;
        firstKept = i;
      }
      // samples older than the newest old-enough one can never matter again
      if (firstKept > 0) this.#samples.splice(0, firstKept);
      target = Math.min(target, oldEnough);
    }
    return Math.max(0, target);
  }
}
