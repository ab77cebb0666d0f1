/**
 * CoalescingWriter: the bytes of one watch stream, written at most once per interval while
 * events keep coming, at once after a quiet spell.
 *
 * Design notes
 * - Why: under a burst of writes the store publishes one batch per event-loop turn (its group
 *   commit), hundreds a second, and each batch was one write on every watcher's socket: a
 *   chunk header, a TLS record and a send() each. With 100 watchers that fan-out cost the hub
 *   more CPU than the creates (bench/api: hub CPU per create with 100 watchers 0.74 ms, 0.65 ms
 *   with writes coalesced; the raw-socket test in watch.test.ts: 39 chunks for a burst of 300
 *   creates without, 14 with).
 * - Latency: the first send after `intervalMs` without a write goes out at once, so a watch
 *   that sees one change now and then gets it with no delay; within a burst an event waits at
 *   most `intervalMs` (10 ms in watch.ts), which no watch client can tell from network jitter.
 * - `maxPendingBytes` waiting goes at once, so a replay's large pages are not held back.
 * - Order is kept: everything goes through one queue, bookmarks and errors included, and
 *   `close()` hands back what is still pending for the final write before the stream ends.
 * - Backpressure stays the caller's: `send` answers whether the last real write was accepted
 *   without queueing (the store pauses the watcher on false); `drained()` resets it.
 * - Clock and timers are injected for the unit test.
 */

export interface CoalescingWriterOptions {
  /** writes one Buffer to the stream; returns false when the stream buffers it (backpressure) */
  write: (data: Buffer) => boolean;
  intervalMs: number;
  maxPendingBytes: number;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
}

export class CoalescingWriter {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #lastWriteAt = Number.NEGATIVE_INFINITY;
  #timer: unknown;
  #writable = true;
  #closed = false;
  readonly #o: Required<CoalescingWriterOptions>;

  constructor(o: CoalescingWriterOptions) {
    this.#o = {
      now: () => performance.now(),
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (t) => clearTimeout(t as NodeJS.Timeout),
      ...o,
    };
  }

  /** Queues `data`; false when the stream is congested (or closed): pause until drained(). */
  send(data: Buffer): boolean {
    if (this.#closed) return false;
    if (data.length === 0) return this.#writable;
    this.#pending.push(data);
    this.#pendingBytes += data.length;
    const wait = this.#o.intervalMs - (this.#o.now() - this.#lastWriteAt);
    if (wait <= 0 || this.#pendingBytes >= this.#o.maxPendingBytes) {
      this.#cancelTimer();
      this.flush();
    } else if (this.#timer === undefined) {
      this.#timer = this.#o.setTimer(() => {
        this.#timer = undefined;
        this.flush();
      }, wait);
    }
    return this.#writable && !this.#closed;
  }

  /** Writes what is pending now. */
  flush(): void {
    if (this.#closed || this.#pending.length === 0) return;
    const data = this.#take();
    this.#lastWriteAt = this.#o.now();
    this.#writable = this.#o.write(data);
  }

  /** The stream drained: sends are welcome again. */
  drained(): void {
    this.#writable = true;
  }

  /** Stops writing; returns what was still pending (for the stream's final write). */
  close(): Buffer | undefined {
    if (this.#closed) return undefined;
    this.#closed = true;
    this.#cancelTimer();
    return this.#pending.length > 0 ? this.#take() : undefined;
  }

  #take(): Buffer {
    const data =
      this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    return data;
  }

  #cancelTimer(): void {
    if (this.#timer !== undefined) this.#o.clearTimer(this.#timer);
    this.#timer = undefined;
  }
}
