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
 * - Writes that arrive together leave together (_writev): aedes' encoder (mqtt-packet) corks
 *   the stream and writes each packet in 3-6 pieces (type, length, topic, id, payload), then
 *   uncorks on the next tick. Forwarded piece by piece, every piece was its own TLS record
 *   (encrypted separately, 22+ bytes of overhead) and its own send() — ≈40 % of the hub's CPU
 *   in a reconnect storm went to these writes (bench/sync profile). Concatenated, a tick's
 *   packets to one node are one record and one syscall.
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

export class PacketSizeGuard extends Duplex {
  private readonly meter: FrameMeter;

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
    if (this.inner.write(chunk)) cb();
    else this.inner.once("drain", () => cb());
  }

  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    cb: (err?: Error | null) => void,
  ): void {
    const one = chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk));
    this._write(one, chunks[0]?.encoding ?? "utf8", cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.inner.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.inner.destroy();
    cb(err);
  }
}
