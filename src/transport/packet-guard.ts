/**
 * PacketSizeGuard: a duplex wrapper that cuts a connection whose next MQTT packet declares a
 * length above the limit, before the broker buffers a single byte of it.
 *
 * Design notes
 * - aedes (1.2) parses with mqtt-packet, which has no maximum packet size: a client could
 *   declare a 256 MiB PUBLISH and the parser would buffer it all. MQTT's fixed header puts the
 *   remaining length up front (1-4 varint bytes after the type byte), so a tiny state machine over
 *   the inbound bytes knows every packet's size as soon as it starts, at no parsing cost.
 * - The wrapper forwards bytes unchanged and keeps backpressure both ways (pause the inner socket
 *   when the broker's side is full; wait for `drain` on writes). It works for TLS sockets and for
 *   WebSocket streams alike.
 * - Writes of one event-loop turn leave together, as one write at the turn's end (setImmediate):
 *   aedes' encoder (mqtt-packet) writes each packet in 3-6 pieces (type, length, topic, id,
 *   payload), and one node's packets of a turn (a PUBACK, then the delta its hello asked for)
 *   are written from different ticks. Forwarded as they came, every piece was its own TLS
 *   record (encrypted separately, 22+ bytes of overhead) and its own send(): the largest share
 *   of the hub's CPU in a reconnect storm (bench/sync profile). The delay is the rest of the
 *   current turn. Backpressure holds: past TURN_BYTES, or while the connection has not drained,
 *   the write callback waits, so the broker stops writing to a slow node.
 */
import { Duplex } from "node:stream";

export class PacketTooLargeError extends Error {
  constructor(
    readonly declaredBytes: number,
    readonly maxBytes: number,
  ) {
    super(
      `MQTT packet of ${declaredBytes} bytes exceeds the ${maxBytes}-byte limit; connection closed ` +
        "(objects over 1 MiB cannot be synced: shrink the object)",
    );
    this.name = "PacketTooLargeError";
  }
}

export class MalformedPacketError extends Error {
  constructor() {
    super("malformed MQTT fixed header (remaining length longer than 4 bytes); connection closed");
    this.name = "MalformedPacketError";
  }
}

enum State {
  Type = 0,
  Length = 1,
  Body = 2,
}

/** Tracks MQTT framing over a byte stream; returns an error when a packet breaks the limit. */
export class FrameMeter {
  private state = State.Type;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;

  constructor(private readonly maxBytes: number) {}

  feed(chunk: Buffer): Error | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === State.Type) {
        i++;
        this.state = State.Length;
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
      } else if (this.state === State.Length) {
        const b = chunk[i++] ?? 0;
        this.length += (b & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        this.lengthBytes++;
        if (b & 0x80) {
          if (this.lengthBytes >= 4) return new MalformedPacketError();
          continue;
        }
        // total packet = type byte + length bytes + remaining length
        const total = 1 + this.lengthBytes + this.length;
        if (total > this.maxBytes) return new PacketTooLargeError(total, this.maxBytes);
        this.remaining = this.length;
        this.state = this.remaining === 0 ? State.Type : State.Body;
      } else {
        const take = Math.min(this.remaining, chunk.length - i);
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.state = State.Type;
      }
    }
    return undefined;
  }
}

/** bytes a turn may gather before the writer is held back (one full-size TLS record = 16 KiB) */
const TURN_BYTES = 64 * 1024;

export class PacketSizeGuard extends Duplex {
  private readonly meter: FrameMeter;
  /** this turn's writes, sent as one at setImmediate (see the design notes) */
  private out: Buffer[] = [];
  private outBytes = 0;
  /** the callback of a write held back (TURN_BYTES reached, or the connection not drained) */
  private held: ((err?: Error | null) => void) | undefined;
  private blocked = false;

  constructor(
    private readonly inner: Duplex,
    maxBytes: number,
    private readonly onViolation: (err: Error) => void = () => {},
  ) {
    super({ allowHalfOpen: false });
    this.meter = new FrameMeter(maxBytes);
    inner.on("data", (chunk: Buffer) => {
      const err = this.meter.feed(chunk);
      if (err) {
        this.onViolation(err);
        this.destroy(err);
        return;
      }
      if (!this.push(chunk)) inner.pause();
    });
    inner.on("end", () => this.push(null));
    inner.on("error", (err) => this.destroy(err));
    inner.on("close", () => this.destroy());
    inner.pause();
  }

  override _read(): void {
    this.inner.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.inner.destroyed) {
      cb(new Error("connection closed"));
      return;
    }
    this.out.push(chunk);
    this.outBytes += chunk.length;
    if (this.out.length === 1) setImmediate(this.flushOut);
    if (this.blocked || this.outBytes >= TURN_BYTES) this.held = cb;
    else cb();
  }

  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    cb: (err?: Error | null) => void,
  ): void {
    const one = chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk));
    this._write(one, chunks[0]?.encoding ?? "utf8", cb);
  }

  private readonly flushOut = (): void => {
    const out = this.out;
    this.out = [];
    this.outBytes = 0;
    if (out.length === 0 || this.inner.destroyed) return;
    const ok = this.inner.write(out.length === 1 ? out[0]! : Buffer.concat(out));
    if (ok) {
      this.release();
      return;
    }
    this.blocked = true;
    this.inner.once("drain", () => {
      this.blocked = false;
      this.release();
    });
  };

  private release(): void {
    const held = this.held;
    this.held = undefined;
    held?.();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.flushOut();
    this.inner.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // what this turn wrote goes out first, as it did when writes were passed on at once: aedes
    // writes a refusing CONNACK and destroys the connection right after
    this.flushOut();
    this.held = undefined;
    this.inner.destroy();
    cb(err);
  }
}
