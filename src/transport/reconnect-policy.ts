/**
 * ReconnectPolicy: when the edge link tries again after a failed or lost connection.
 *
 * Design notes
 * - Two kinds of failure need opposite answers, so every failure is classified first:
 *   - "unreachable": the TCP connect got no answer at all (SYN black-holed by a dead uplink, a
 *     pulled cable, a cellular dead zone: our own TCP connect timeout, ETIMEDOUT) or the network
 *     said there is no route (EHOSTUNREACH, ENETUNREACH, ENETDOWN, EAI_AGAIN from an offline
 *     resolver). Nothing at the hub spent anything on it, so the agent probes again after a small
 *     bounded jittered interval, full jitter in [0.5, 2] s: a returned link is noticed within
 *     about a second on average and 2 s at worst, and a probe costs one SYN (plus its
 *     retransmissions) on a link that carries nothing else. k3s's agent retries its tunnel
 *     every 5 s; we want reconvergence < 2 s after a heal, hence the shorter interval. Probing
 *     does not touch the backoff counter: a link that was unreachable says nothing about the
 *     hub's load.
 *   - "answered": something answered and it went wrong: connection refused (the hub is
 *     restarting), reset, a TLS error, a CONNACK timeout after TCP connected (the hub is busy
 *     with a storm of handshakes), CONNACK "server unavailable", or a link that dropped after it
 *     was up. Full-jitter exponential backoff, delay = random() × min(max, base × 2^attempt)
 *     (1 s base, 30 s cap): a restarting or overloaded hub is not stormed by a fleet in
 *     lock-step. The counter resets only after a connection stayed up `stableMs`.
 *   - "auth": CONNACK 4/5 (credentials refused) waits the maximum: the hub may be mid-rotation,
 *     but hammering it with a bad password helps nobody.
 * - An overloaded hub whose accept queue is full drops SYNs, which looks "unreachable" from the
 *   device; probing then costs the hub only kernel work (SYNs it drops), never a TLS handshake,
 *   and the connection that does get through is answered or times out at CONNACK, which backs
 *   off as "answered".
 * - Pure: the clock and the random source are passed in (unit tests use fakes).
 */

export type FailureKind = "unreachable" | "answered" | "auth";

export interface ReconnectPolicyOptions {
  /** exponential backoff for "answered" failures (defaults 1 s and 30 s) */
  baseMs?: number;
  maxMs?: number;
  /** probe interval bounds while the hub is unreachable (defaults 500 ms and 2 s) */
  probeMinMs?: number;
  probeMaxMs?: number;
  /** reset the backoff after a connection stayed up this long (default 10 s) */
  stableMs?: number;
}

/** error codes that mean "nothing answered" (see the design notes) */
const UNREACHABLE_CODES = new Set([
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTDOWN",
  "EAI_AGAIN",
]);

/** Full-jitter exponential backoff delay for the given 0-based attempt. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/**
 * Classifies why a connection attempt or a connection ended. `code` is the error's code: a
 * string from the socket layer, or the CONNACK return code (a number) from the broker.
 */
export function classifyFailure(err: (Error & { code?: unknown }) | undefined): FailureKind {
  const code = err?.code;
  if (code === 4 || code === 5) return "auth";
  if (typeof code === "string" && UNREACHABLE_CODES.has(code)) return "unreachable";
  return "answered";
}

export class ReconnectPolicy {
  private attempt = 0;
  private upSince = 0;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly probeMinMs: number;
  private readonly probeMaxMs: number;
  private readonly stableMs: number;

  constructor(
    opts: ReconnectPolicyOptions = {},
    private readonly random: () => number = Math.random,
    private readonly now: () => number = Date.now,
  ) {
    this.baseMs = opts.baseMs ?? 1000;
    this.maxMs = opts.maxMs ?? 30_000;
    this.probeMinMs = opts.probeMinMs ?? 500;
    this.probeMaxMs = Math.max(this.probeMinMs, opts.probeMaxMs ?? 2000);
    this.stableMs = opts.stableMs ?? 10_000;
    if (!(this.baseMs > 0 && this.maxMs >= this.baseMs && this.probeMinMs >= 0)) {
      throw new Error(
        `reconnect policy: need 0 < baseMs <= maxMs and probeMinMs >= 0 (got base ${this.baseMs}, max ${this.maxMs}, probe min ${this.probeMinMs})`,
      );
    }
  }

  /** The link is up (CONNACK and subscription done). */
  connected(): void {
    this.upSince = this.now();
  }

  /**
   * The attempt failed, or the connection that was up ended (`err` undefined for a plain close).
   * Returns the delay before the next attempt.
   */
  next(kind: FailureKind): number {
    if (this.upSince > 0 && this.now() - this.upSince >= this.stableMs) this.attempt = 0;
    this.upSince = 0;
    switch (kind) {
      case "auth":
        return this.maxMs;
      case "unreachable":
        return Math.floor(this.probeMinMs + this.random() * (this.probeMaxMs - this.probeMinMs));
      case "answered":
        return backoffDelay(this.attempt++, this.baseMs, this.maxMs, this.random);
    }
  }

  /** consecutive "answered" failures since the last stable connection (for logs and tests) */
  get failures(): number {
    return this.attempt;
  }
}
