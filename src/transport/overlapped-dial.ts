/**
 * OverlappedDialer: while the hub is unreachable, TCP connects are started every ~0.5 s
 * (jittered) without waiting for the earlier ones to time out; the first to connect wins.
 *
 * Design notes
 * - Why: one dial at a time notices a healed link only at that dial's next SYN. Linux sends a
 *   connect's SYNs at +0, +1 and +3 s, then our 3.5 s timeout ends it and the probe delay
 *   (0.5–2 s) follows, so after a heal the next SYN came 1.0 s later on average and up to 2.4 s
 *   (bench/sync, 500 partitioned nodes: TCP reconnect p50 1.04 s, max 2.39 s). With a new dial
 *   every ~0.5 s and up to 4 in flight, the SYNs of the dials interleave and one leaves within
 *   about half a second of any moment.
 * - Each dial keeps its own `timeoutMs` (3.5 s by default): a 300 ms-RTT or lossy link still
 *   connects on the first dial, before the second even starts, and a SYN answered late by the
 *   kernel's retransmission is not thrown away by a newer dial.
 * - Cost on a dead link: at most `maxInFlight` connects waiting, ≈ 3.4 SYNs/s (≈ 200 bytes/s)
 *   instead of ≈ 0.6, and nothing at the hub. EdgeLink overlaps only during the first 2 min of
 *   an outage (ReconnectPolicy's fast window); after that it aborts the dials still waiting and
 *   probing widens as before, one dial at a time.
 * - Attempts and dials are decoupled. An attempt (`attempt`) ends after `spanMs` with a
 *   TcpConnectTimeoutError ("unreachable"), so EdgeLink still logs, reports its status and
 *   feeds the policy's outage clock every few seconds; but the dials still waiting are kept, not
 *   aborted: the next attempt adopts them, and one that connects between attempts is held and
 *   announced (`onReady`) so EdgeLink starts the next attempt at once. Aborting them at every
 *   attempt's end would leave a gap of 1–2.5 s without a SYN once per attempt, which is what
 *   sets the worst case of a fleet's reconvergence.
 * - A dial that fails at once with anything but a timeout (refused, reset: the hub answered;
 *   no route) ends the attempt with that error; EdgeLink then aborts the rest (`abort`):
 *   overlapping only helps against silence.
 * - First to connect wins; the others are aborted (the dialer destroys its socket) and a socket
 *   that connects after the winner (both SYN-ACKs in one tick) is destroyed here.
 * - Timers are the process's (tests use fake timers); random is injected.
 */
import type { Socket } from "node:net";
import { type Dialer, type DialTarget, dialWithTimeout, TcpConnectTimeoutError } from "./dialer.js";

export interface OverlapPlan {
  /** each dial's TCP connect timeout */
  timeoutMs: number;
  /** this attempt ends (unreachable) after this long without a connect */
  spanMs: number;
  /** gap between dial starts: uniform in [staggerMinMs, staggerMaxMs] (defaults 400–600 ms) */
  staggerMinMs?: number;
  staggerMaxMs?: number;
  /** most dials waiting for a SYN-ACK at once (default 4) */
  maxInFlight?: number;
}

/** default gap between overlapped dials and how many may wait at once (see the design notes) */
export const OVERLAP_DEFAULTS = { staggerMinMs: 400, staggerMaxMs: 600, maxInFlight: 4 } as const;

interface Waiter {
  resolve(s: Socket): void;
  reject(err: unknown): void;
}

export class OverlappedDialer {
  private inFlight = 0;
  /** aborts every dial of this generation (abort() starts a new one) */
  private dials = new AbortController();
  private waiter: Waiter | undefined;
  /** a socket that connected while no attempt was waiting */
  private ready: Socket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private plan: OverlapPlan | undefined;
  private target: DialTarget | undefined;

  constructor(
    private readonly dial: Dialer,
    private readonly random: () => number = Math.random,
    /** a dial connected between attempts: start the next attempt now */
    private readonly onReady: () => void = () => {},
  ) {}

  /** dials waiting for their SYN-ACK (for tests and logs) */
  get pending(): number {
    return this.inFlight;
  }

  /**
   * One attempt: resolves the first socket that connects (adopting dials started by earlier
   * attempts); rejects with a non-timeout dial error, with TcpConnectTimeoutError after
   * `spanMs`, or with `cancel`'s reason (which aborts every dial).
   */
  attempt(target: DialTarget, plan: OverlapPlan, cancel?: AbortSignal): Promise<Socket> {
    this.waiter?.reject(new Error("edge link: a newer overlapped attempt replaced this one"));
    this.plan = plan;
    this.target = target;
    return new Promise<Socket>((resolve, reject) => {
      if (cancel?.aborted) {
        this.abort();
        reject(cancel.reason);
        return;
      }
      const onCancel = (): void => {
        done(undefined, cancel?.reason);
        this.abort();
      };
      const span = setTimeout(
        () => done(undefined, new TcpConnectTimeoutError(target, plan.timeoutMs)),
        plan.spanMs,
      );
      const done = (socket: Socket | undefined, err?: unknown): void => {
        if (this.waiter !== waiter) return;
        this.waiter = undefined;
        clearTimeout(span);
        cancel?.removeEventListener("abort", onCancel);
        if (socket) resolve(socket);
        else reject(err);
      };
      const waiter: Waiter = { resolve: (s) => done(s), reject: (e) => done(undefined, e) };
      this.waiter = waiter;
      cancel?.addEventListener("abort", onCancel, { once: true });
      const ready = this.ready;
      if (ready) {
        this.ready = undefined;
        this.win(ready);
        return;
      }
      if (this.inFlight === 0) this.startOne();
      else if (this.timer === undefined && this.inFlight < this.cap()) this.schedule();
    });
  }

  /** Aborts every dial still waiting and drops a held socket (the link stopped or widened). */
  abort(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.dials.abort(new Error("edge link: overlapped dials no longer needed"));
    this.dials = new AbortController();
    this.inFlight = 0;
    this.ready?.destroy();
    this.ready = undefined;
    this.waiter?.reject(new Error("edge link: overlapped dials aborted"));
  }

  private cap(): number {
    return Math.max(1, this.plan?.maxInFlight ?? OVERLAP_DEFAULTS.maxInFlight);
  }

  private schedule(): void {
    clearTimeout(this.timer);
    const p = this.plan;
    if (!p) return;
    const min = p.staggerMinMs ?? OVERLAP_DEFAULTS.staggerMinMs;
    const max = Math.max(min, p.staggerMaxMs ?? OVERLAP_DEFAULTS.staggerMaxMs);
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        // between attempts the dials still waiting run out, but no new one starts
        if (this.waiter && this.inFlight < this.cap()) this.startOne();
        // full: the next dial starts when one of these times out
      },
      Math.floor(min + this.random() * (max - min)),
    );
  }

  private startOne(): void {
    const p = this.plan;
    const target = this.target;
    if (!p || !target) return;
    const gen = this.dials;
    this.inFlight++;
    dialWithTimeout(this.dial, target, p.timeoutMs, gen.signal).then(
      (socket) => {
        if (gen !== this.dials || this.ready) {
          socket.destroy(); // aborted meanwhile, or another won
          return;
        }
        this.inFlight--;
        this.win(socket);
      },
      (err: unknown) => {
        if (gen !== this.dials) return;
        this.inFlight--;
        if (!(err instanceof TcpConnectTimeoutError)) {
          this.waiter?.reject(err);
          return;
        }
        if (this.waiter && this.timer === undefined) this.startOne();
      },
    );
    this.schedule();
  }

  /** the first socket to connect: hand it over, abort the other dials */
  private win(socket: Socket): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.dials.abort(new Error("another dial to the hub connected first"));
    this.dials = new AbortController();
    this.inFlight = 0;
    const w = this.waiter;
    if (w) {
      w.resolve(socket);
      return;
    }
    this.ready = socket;
    this.onReady();
  }
}
