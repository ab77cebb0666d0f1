/**
 * MuxStream: one multiplexed byte stream as a Node Duplex, with credit-based flow control.
 *
 * Design notes
 * - Sending: writes are queued and cut into data frames of at most `chunkBytes`, sent only while
 *   the peer's credit lasts; small writes are coalesced until the next event-loop turn. Once a
 *   full chunk is queued (or credit ran out) the write callback is held until frames go out, so
 *   the Writable's own buffer fills and upstream `pipe()` pauses the producer. Nothing beyond
 *   about two chunks plus the Writable's buffer is ever held.
 * - Receiving: the readable buffer's high-water mark equals our window. Credit goes back to the
 *   peer only for bytes the consumer has taken out of that buffer (pushed − still buffered), in
 *   batches of a quarter window to keep `window` frames rare. A peer that sends past its credit
 *   breaks the protocol and the stream is aborted.
 * - `end()` sends `stream-end` after every written byte went out; the peer's `stream-end` ends
 *   our readable side. `destroy()` (or an error) sends `stream-close` unless the peer closed
 *   first, so an abandoned stream (kubectl hung up) stops the producer on the other side at once.
 * - Frames go out through an injected `send`; a failed send (link down) aborts the stream.
 */
import { Duplex } from "node:stream";
import { RemoteStreamError, type StreamErrorInfo, type StreamFrame, StreamProtocolError } from "./frames.js";

export interface MuxStreamOptions {
  /** bytes we let the peer send before it must wait for credit */
  window: number;
  /** bytes the peer lets us send (from its open/accept frame) */
  peerWindow: number;
  /** largest data frame payload */
  chunkBytes: number;
  send: (frame: StreamFrame) => Promise<void>;
  /** called once when the stream is finished or aborted, to drop it from its table */
  onDone: (id: string) => void;
}

/** a frame without its stream id (distributes Omit over the union) */
type Unaddressed<F> = F extends StreamFrame ? Omit<F, "streamId"> : never;

export class MuxStream extends Duplex {
  private credit: number;
  private sendSeq = 0;
  private recvSeq = 0;
  private pushed = 0;
  private granted = 0;
  private readonly out: Buffer[] = [];
  private outBytes = 0;
  private flushScheduled = false;
  private waitingDone: ((err?: Error | null) => void) | undefined;
  private finalDone: ((err?: Error | null) => void) | undefined;
  private remoteClosed = false;
  private ended = { sent: false, received: false };
  private doneCalled = false;
  /** largest number of bytes ever held in our receive buffer (for tests and benchmarks) */
  peakBuffered = 0;

  constructor(
    readonly id: string,
    private readonly opts: MuxStreamOptions,
  ) {
    super({
      readableHighWaterMark: opts.window,
      writableHighWaterMark: opts.chunkBytes,
      allowHalfOpen: true,
    });
    this.credit = opts.peerWindow;
  }

  /** Feeds one frame received for this stream. */
  receive(frame: StreamFrame): void {
    switch (frame.type) {
      case "stream-data":
        this.receiveData(frame.seq, Buffer.from(frame.data, "base64"));
        return;
      case "stream-window":
        this.credit += frame.credits;
        this.pump(true);
        return;
      case "stream-end":
        this.ended.received = true;
        this.push(null);
        this.maybeDone();
        return;
      case "stream-close":
        this.remoteClosed = true;
        if (frame.error) this.destroy(new RemoteStreamError(frame.error));
        else if (!this.ended.received) {
          // an abort without error: the reader sees the end of what arrived, the writer stops
          this.push(null);
          this.destroy();
        } else this.destroy();
        return;
      default:
        this.abort(new StreamProtocolError(`unexpected ${frame.type} on an open stream`));
    }
  }

  /** Aborts the stream, telling the peer why. */
  abort(err: Error, info?: StreamErrorInfo): void {
    if (this.destroyed) return;
    this.closeInfo = info ?? { code: 500, reason: "InternalError", message: err.message };
    this.destroy(err);
  }

  private closeInfo: StreamErrorInfo | undefined;

  private receiveData(seq: number, buf: Buffer): void {
    if (this.destroyed) return;
    if (seq !== this.recvSeq) {
      this.abort(
        new StreamProtocolError(`stream ${this.id}: data frame ${seq} arrived, expected ${this.recvSeq}`),
      );
      return;
    }
    this.recvSeq++;
    const outstanding = this.pushed - this.granted + buf.length;
    if (outstanding > this.opts.window) {
      this.abort(
        new StreamProtocolError(
          `stream ${this.id}: the peer sent ${outstanding} bytes against a ${this.opts.window}-byte window`,
        ),
      );
      return;
    }
    this.pushed += buf.length;
    this.push(buf);
    if (this.readableLength > this.peakBuffered) this.peakBuffered = this.readableLength;
    process.nextTick(() => this.grant());
  }

  /** Returns credit for what the consumer has read, in batches. */
  private grant(): void {
    if (this.destroyed || this.ended.received) return;
    const consumed = this.pushed - this.readableLength - this.granted;
    if (consumed <= 0) return;
    if (consumed < this.opts.window / 4 && this.readableLength > 0) return;
    this.granted += consumed;
    this.emitFrame({ type: "stream-window", credits: consumed });
  }

  // Readable calls _read before it removes the chunk being read, and not again until we push,
  // so consumption is observed on read() itself (flowing mode, pipe and iterators all use it).
  override _read(): void {}

  override read(size?: number): Buffer | null {
    const chunk = super.read(size) as Buffer | null;
    if (chunk !== null) process.nextTick(() => this.grant());
    return chunk;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.out.push(chunk);
    this.outBytes += chunk.length;
    this.pump(false);
    if (this.outBytes < this.opts.chunkBytes) done();
    else this.waitingDone = done;
  }

  /**
   * Sends full frames while credit lasts; with `force`, also the remainder. Small writes (Docker
   * hands over one log line per chunk) are coalesced until the next turn of the event loop, so a
   * chatty log costs one MQTT message per `chunkBytes`, not one per line.
   */
  private pump(force: boolean): void {
    if (this.destroyed) return;
    while (this.credit > 0 && this.outBytes > 0 && (force || this.outBytes >= this.opts.chunkBytes)) {
      const n = Math.min(this.outBytes, this.credit, this.opts.chunkBytes);
      const part = this.takeOut(n);
      this.credit -= n;
      this.emitFrame({ type: "stream-data", seq: this.sendSeq++, data: part.toString("base64") });
    }
    if (this.outBytes > 0 && this.credit > 0 && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.pump(true);
      });
    }
    const w = this.waitingDone;
    if (w && this.outBytes < this.opts.chunkBytes) {
      this.waitingDone = undefined;
      w();
    }
    const f = this.finalDone;
    if (f && this.outBytes === 0) {
      this.finalDone = undefined;
      this.ended.sent = true;
      this.emitFrame({ type: "stream-end" });
      f();
      this.maybeDone();
    }
  }

  /** removes the first `n` queued bytes */
  private takeOut(n: number): Buffer {
    const parts: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const head = this.out[0]!;
      if (head.length <= need) {
        parts.push(head);
        this.out.shift();
        need -= head.length;
      } else {
        parts.push(head.subarray(0, need));
        this.out[0] = head.subarray(need);
        need = 0;
      }
    }
    this.outBytes -= n;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  override _final(done: (err?: Error | null) => void): void {
    this.finalDone = done;
    this.pump(true);
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    const w = this.waitingDone ?? this.finalDone;
    this.waitingDone = undefined;
    this.finalDone = undefined;
    this.out.length = 0;
    this.outBytes = 0;
    const finished = this.ended.sent && this.ended.received;
    if (!this.remoteClosed && !finished) {
      const info =
        this.closeInfo ?? (err ? { code: 500, reason: "InternalError", message: err.message } : undefined);
      this.emitFrame(info ? { type: "stream-close", error: info } : { type: "stream-close" });
    }
    this.callDone();
    w?.(err ?? new Error(`stream ${this.id} was closed`));
    done(err);
  }

  private maybeDone(): void {
    if (this.ended.sent && this.ended.received) this.callDone();
  }

  private callDone(): void {
    if (this.doneCalled) return;
    this.doneCalled = true;
    this.opts.onDone(this.id);
  }

  private emitFrame(frame: Unaddressed<StreamFrame>): void {
    const full = { ...frame, streamId: this.id } as StreamFrame;
    this.opts.send(full).catch((err: unknown) => {
      if (!this.destroyed) {
        this.remoteClosed = true; // the link is gone: nothing to tell the peer
        this.destroy(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }
}
