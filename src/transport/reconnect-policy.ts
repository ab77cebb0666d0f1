/**
 * ReconnectPolicy: when the edge link tries again after a failed or lost connection.
 *
 * Design notes
 * - Two kinds of failure need opposite answers, so every failure is classified first:
 *   - "unreachable": the TCP connect got no answer at all (SYN black-holed by a dead uplink, a
 *     pulled cable, a cellular dead zone: our own TCP connect timeout, ETIMEDOUT) or the network
 *     said there is no route (EHOSTUNREACH, ENETUNREACH, ENETDOWN, EAI_AGAIN from an offline
 *     resolver). Nothing at the hub spent anything on it, so the agent probes again after a small
 *     bounded jittered interval, full jitter in [0.5, 2] s from the start of the failed probe,
 *     with short probe dials (below): a returned link is noticed within about half a second on
 *     average and about 1 s at worst, and a probe costs one or two SYNs on a link that carries
 *     nothing else. k3s's agent retries its tunnel
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
 * - Probing widens after a long outage. A device offline for days (out of coverage, hub site
 *   without power) would otherwise dial every 1–2 s for days: each probe is three SYNs (the
 *   3.5 s connect retransmits at 1 s and 3 s) or, with no route, an immediate failure and a log
 *   line, and on a metered cellular modem every probe keeps the radio awake. So the probe window
 *   stays [0.5, 2] s for the first 2 min of an outage, then both bounds grow linearly until, at
 *   5 min, they reach [5, 15] s, where they stay. Why these numbers:
 *   - 2 min is twice the 60 s partition bench/sync heals (that heal must be seen within about a
 *     second) and covers what usually ends by itself (Wi-Fi roaming, a cell handover, a DHCP
 *     renewal); what lasts longer is a router reboot or a long loss of coverage.
 *   - 15 s: the extra wait for a heal is then at most 5 % of a 5 min outage and stays below the
 *     30 s keepalive at which the hub itself notices a dead link. A probe every 10 s on average
 *     (3 SYNs in its 3.5 s dial) sends ≈ 4× fewer SYNs than the fast phase's 2 every ≈ 1.75 s
 *     (≈ 8× fewer attempts and log lines when each fails at once with no route), and a fleet that lost the hub
 *     together comes back spread over 10 s instead of 1.5 s.
 *   - Linear in between, so the cadence changes gradually, not in one step.
 *   The outage clock starts at the first "unreachable" failure in a row and is reset by any sign
 *   that the network to the hub works: a connection that came up, or an "answered"/"auth"
 *   failure (TCP got through). It is monotonic (performance.now by default): a Pi has no RTC and
 *   steps its wall clock when NTP syncs, which must not read as a long outage.
 * - Dials are short unless an outage is old. What decides how soon a healed link is seen is
 *   the gap between two SYNs: a 3.5 s dial sends them at 0, 1 and 3 s (the kernel's
 *   retransmissions), so a heal just after the 1 s one waited 2 s for the next. A dial therefore
 *   gives up after `dialTimeoutMs()`: 4 × the fastest of the link's last 8 successful TCP
 *   connects, at least 1.5 s (two SYNs, so a lossy link still gets a second chance), at most the
 *   full timeout. The fastest, not the slowest: a connect's time is the path's round trip plus
 *   whatever queue it met (a hub taking a reconnect storm answered SYNs after seconds in
 *   bench/sync, and with the slowest of the last 8 its agents kept dialing 3.5 s); the round trip
 *   is what says when an unanswered SYN is lost. That includes the first dial after a live link died (a keepalive timeout is
 *   usually the black hole itself, found up to 2 × keepalive after it began, so that first dial
 *   often runs into the heal). With no connect measured yet (an agent started offline), and
 *   once the probe window widens, dials get the full timeout. The probe window is measured between the starts of two probes
 *   (`next(kind, attemptMs)` subtracts the time the failed attempt took), so a heal is seen
 *   within about 1 s of the SYN that follows it, and the SYN rate stays about one a second.
 *   The cost is on links whose round trip grows past the short timeout during an
 *   outage (a device falling back from LTE to GPRS): their probes fail until the window widens
 *   at 2 min and dials get the full 3.5 s again.
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
  /**
   * After an outage (consecutive "unreachable" failures) of `widenAfterMs` (default 2 min) the
   * probe bounds grow linearly until, at `wideAfterMs` (default 5 min), they are
   * [`wideMinMs`, `wideMaxMs`] (defaults 5 s and 15 s). See the design notes for the numbers.
   */
  probeWiden?: { widenAfterMs?: number; wideAfterMs?: number; wideMinMs?: number; wideMaxMs?: number };
  /** reset the backoff after a connection stayed up this long (default 10 s) */
  stableMs?: number;
  /** the full TCP connect timeout (default 3.5 s, dialer.ts) and the short probe dial's floor (1.5 s) */
  dialMs?: number;
  probeDialMinMs?: number;
}

/** a short dial waits this many times the fastest recent TCP connect (see the design notes) */
const PROBE_DIAL_RTT_FACTOR = 4;
/** how many successful TCP connect times are remembered */
const CONNECT_TIMES_KEPT = 8;

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

/** defaults of `probeWiden` (see the design notes for why) */
export const PROBE_WIDEN_DEFAULTS = {
  widenAfterMs: 120_000,
  wideAfterMs: 300_000,
  wideMinMs: 5_000,
  wideMaxMs: 15_000,
} as const;

export class ReconnectPolicy {
  private attempt = 0;
  private upSince: number | undefined;
  /** when the current run of "unreachable" failures began (undefined: not in one) */
  private unreachableSince: number | undefined;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly probeMinMs: number;
  private readonly probeMaxMs: number;
  private readonly stableMs: number;
  private readonly widen: Required<NonNullable<ReconnectPolicyOptions["probeWiden"]>>;
  private readonly dialMs: number;
  private readonly probeDialMinMs: number;
  /** TCP connect times (ms) of the last successful connects, newest last */
  private readonly connectTimes: number[] = [];

  constructor(
    opts: ReconnectPolicyOptions = {},
    private readonly random: () => number = Math.random,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.baseMs = opts.baseMs ?? 1000;
    this.maxMs = opts.maxMs ?? 30_000;
    this.probeMinMs = opts.probeMinMs ?? 500;
    this.probeMaxMs = Math.max(this.probeMinMs, opts.probeMaxMs ?? 2000);
    this.stableMs = opts.stableMs ?? 10_000;
    this.dialMs = opts.dialMs ?? 3_500;
    this.probeDialMinMs = Math.min(this.dialMs, opts.probeDialMinMs ?? 1_500);
    if (!(this.baseMs > 0 && this.maxMs >= this.baseMs && this.probeMinMs >= 0 && this.dialMs > 0)) {
      throw new Error(
        `reconnect policy: need 0 < baseMs <= maxMs, probeMinMs >= 0 and dialMs > 0 (got base ${this.baseMs}, max ${this.maxMs}, probe min ${this.probeMinMs}, dial ${this.dialMs})`,
      );
    }
    // the wide defaults never narrow a fast window a caller configured wider than them
    const o = opts.probeWiden ?? {};
    const wideMinMs = o.wideMinMs ?? Math.max(PROBE_WIDEN_DEFAULTS.wideMinMs, this.probeMinMs);
    const w = {
      widenAfterMs: o.widenAfterMs ?? PROBE_WIDEN_DEFAULTS.widenAfterMs,
      wideAfterMs: o.wideAfterMs ?? Math.max(PROBE_WIDEN_DEFAULTS.wideAfterMs, o.widenAfterMs ?? 0),
      wideMinMs,
      wideMaxMs: o.wideMaxMs ?? Math.max(PROBE_WIDEN_DEFAULTS.wideMaxMs, this.probeMaxMs, wideMinMs),
    };
    this.widen = w;
    if (
      !(
        w.widenAfterMs >= 0 &&
        w.wideAfterMs >= w.widenAfterMs &&
        w.wideMinMs >= this.probeMinMs &&
        w.wideMaxMs >= Math.max(w.wideMinMs, this.probeMaxMs)
      )
    ) {
      throw new Error(
        "reconnect policy: probing may only widen: need 0 <= widenAfterMs <= wideAfterMs, " +
          "wideMinMs >= probeMinMs and wideMaxMs >= max(wideMinMs, probeMaxMs) " +
          `(got ${JSON.stringify(w)}, probe ${this.probeMinMs}–${this.probeMaxMs} ms)`,
      );
    }
  }

  /** The link is up (CONNACK and subscription done). */
  connected(): void {
    this.upSince = this.now();
    this.unreachableSince = undefined;
  }

  /** A TCP connect succeeded after `ms` (what the next probe dials' timeout is made from). */
  tcpConnected(ms: number): void {
    if (!(ms >= 0)) return;
    this.connectTimes.push(ms);
    if (this.connectTimes.length > CONNECT_TIMES_KEPT) this.connectTimes.shift();
  }

  /** The TCP connect timeout for the next attempt (see the design notes: short probe dials). */
  dialTimeoutMs(): number {
    if (this.connectTimes.length === 0) return this.dialMs;
    if (
      this.unreachableSince !== undefined &&
      this.now() - this.unreachableSince >= this.widen.widenAfterMs
    ) {
      return this.dialMs;
    }
    const roundTrip = Math.min(...this.connectTimes);
    return Math.min(this.dialMs, Math.max(this.probeDialMinMs, Math.ceil(PROBE_DIAL_RTT_FACTOR * roundTrip)));
  }

  /**
   * The attempt failed, or the connection that was up ended (`err` undefined for a plain close).
   * `attemptMs`: how long the failed attempt took (0 for a connection that was up); an
   * unreachable hub's probe window runs from the start of the failed probe.
   * Returns the delay before the next attempt.
   */
  next(kind: FailureKind, attemptMs = 0): number {
    const now = this.now();
    if (this.upSince !== undefined && now - this.upSince >= this.stableMs) this.attempt = 0;
    this.upSince = undefined;
    // the hub answered (TCP got through): whatever the outage was, it is over
    if (kind !== "unreachable") this.unreachableSince = undefined;
    switch (kind) {
      case "auth":
        return this.maxMs;
      case "unreachable": {
        this.unreachableSince ??= now;
        const [lo, hi] = this.probeBounds(now - this.unreachableSince);
        return Math.max(0, Math.floor(lo + this.random() * (hi - lo) - Math.max(0, attemptMs)));
      }
      case "answered":
        return backoffDelay(this.attempt++, this.baseMs, this.maxMs, this.random);
    }
  }

  /** probe window after an outage of `outageMs`: fast, then linearly wider, then wide */
  private probeBounds(outageMs: number): [number, number] {
    const { widenAfterMs, wideAfterMs, wideMinMs, wideMaxMs } = this.widen;
    if (outageMs < widenAfterMs) return [this.probeMinMs, this.probeMaxMs];
    const span = wideAfterMs - widenAfterMs;
    const f = span > 0 ? Math.min(1, (outageMs - widenAfterMs) / span) : 1;
    return [
      this.probeMinMs + f * (wideMinMs - this.probeMinMs),
      this.probeMaxMs + f * (wideMaxMs - this.probeMaxMs),
    ];
  }

  /** how long the hub has been unreachable without a break (0 when it is not), for logs */
  get unreachableForMs(): number {
    return this.unreachableSince === undefined ? 0 : this.now() - this.unreachableSince;
  }

  /** consecutive "answered" failures since the last stable connection (for logs and tests) */
  get failures(): number {
    return this.attempt;
  }
}
