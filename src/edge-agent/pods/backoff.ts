/**
 * Restart and image-pull back-off, as the kubelet's flowcontrol.Backoff is used for
 * CrashLoopBackOff and ImagePullBackOff.
 *
 * Design notes
 * - Keyed by something stable (pod uid + container name, or pod uid + image). The first failure
 *   restarts at once and arms the delay (10 s); a failure within the delay waits it out; each
 *   restart after waiting doubles the delay up to the cap (5 min). So messages read "back-off
 *   10s", "back-off 20s", … as on a real node.
 * - The delay goes back to the base once a container ran for `resetAfterMs` (10 min) before it
 *   failed, or when nothing happened for twice the cap (upstream's expiry), so one crash after
 *   a week of uptime is not punished with five minutes.
 * - Pure and driven by the injected clock: tests shrink the base or fake time.
 */
export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
  resetAfterMs?: number;
}

interface Entry {
  delayMs: number;
  /** time of the failure the current delay was armed for */
  lastUpdate: number;
}

export class Backoff {
  private readonly entries = new Map<string, Entry>();
  readonly baseMs: number;
  readonly maxMs: number;
  readonly resetAfterMs: number;

  constructor(
    private readonly now: () => number,
    opts: BackoffOptions = {},
  ) {
    this.baseMs = opts.baseMs ?? 10_000;
    this.maxMs = opts.maxMs ?? 300_000;
    this.resetAfterMs = opts.resetAfterMs ?? 600_000;
  }

  /** The armed delay of `key`, or undefined before its first failure. */
  delay(key: string): number | undefined {
    return this.entries.get(key)?.delayMs;
  }

  /**
   * Milliseconds left before `key` may be retried after a failure at `failedAt`; 0 = go now.
   * A failure that is not the one the delay was armed for is measured from its own time.
   */
  remaining(key: string, failedAt: number): number {
    const e = this.entries.get(key);
    if (!e || this.expired(e, failedAt)) return 0;
    return Math.max(0, e.delayMs - (this.now() - failedAt));
  }

  /**
   * Records that `key` is retried now after a failure at `failedAt`; `ranForMs` is how long the
   * failed attempt had been running (containers), so a long healthy run resets the delay.
   */
  next(key: string, failedAt: number, ranForMs = 0): number {
    const e = this.entries.get(key);
    const delayMs =
      !e || this.expired(e, failedAt) || ranForMs >= this.resetAfterMs
        ? this.baseMs
        : Math.min(this.maxMs, e.delayMs * 2);
    this.entries.set(key, { delayMs, lastUpdate: failedAt });
    return delayMs;
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Forgets every key with this prefix (a removed pod). */
  forgetPrefix(prefix: string): void {
    for (const k of [...this.entries.keys()]) if (k.startsWith(prefix)) this.entries.delete(k);
  }

  private expired(e: Entry, at: number): boolean {
    return at - e.lastUpdate > 2 * this.maxMs;
  }
}

/** Go's time.Duration String(): 400ms, 1.6s, 10s, 1m20s, 5m0s. */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Number(((ms % 60_000) / 1000).toFixed(3)).toString();
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
