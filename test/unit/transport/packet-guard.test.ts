import { Duplex } from "node:stream";
import { describe, expect, it, vi } from "vitest";
import { backoffDelay } from "../../../src/transport/client.js";
import {
  FrameMeter,
  MalformedPacketError,
  PacketSizeGuard,
  PacketTooLargeError,
} from "../../../src/transport/packet-guard.js";

function packet(bodyLength: number): Buffer {
  const len: number[] = [];
  let n = bodyLength;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    len.push(b);
  } while (n > 0);
  return Buffer.concat([Buffer.from([0x30, ...len]), Buffer.alloc(bodyLength, 1)]);
}

describe("FrameMeter", () => {
  it("passes packets up to the limit, however the bytes are split", () => {
    const m = new FrameMeter(20_000);
    const stream = Buffer.concat([packet(0), packet(127), packet(128), packet(16_000), packet(5)]);
    for (let i = 0; i < stream.length; i += 7) expect(m.feed(stream.subarray(i, i + 7))).toBeUndefined();
  });
  it("flags a packet whose declared length exceeds the limit from its header alone", () => {
    const m = new FrameMeter(1000);
    expect(m.feed(packet(10))).toBeUndefined();
    const err = m.feed(packet(5000).subarray(0, 3));
    expect(err).toBeInstanceOf(PacketTooLargeError);
    expect((err as PacketTooLargeError).declaredBytes).toBe(5003);
  });
  it("flags a remaining length longer than four bytes", () => {
    expect(new FrameMeter(1e9).feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBeInstanceOf(
      MalformedPacketError,
    );
  });
});

describe("backoffDelay", () => {
  it("doubles the ceiling per attempt up to the maximum, with full jitter", () => {
    const top = () => 0.9999;
    expect([0, 1, 2, 3, 4, 5, 60].map((a) => backoffDelay(a, 1000, 60_000, top))).toEqual([
      999, 1999, 3999, 7999, 15_998, 31_996, 59_994,
    ]);
    expect(backoffDelay(3, 1000, 60_000, () => 0)).toBe(0);
    expect(backoffDelay(3, 1000, 60_000, () => 0.5)).toBe(4000);
  });
});

describe("PacketSizeGuard writes", () => {
  /** a duplex whose writable side records each write; `accept` says whether write() returns true */
  function recorder(accept = () => true) {
    const writes: Buffer[] = [];
    let pending: (() => void) | undefined;
    const duplex = new Duplex({
      writableHighWaterMark: 1,
      read() {},
      write(chunk: Buffer, _enc, cb) {
        writes.push(chunk);
        if (accept()) cb();
        else pending = cb;
      },
    });
    return { writes, duplex, drain: () => pending?.() };
  }
  const turn = () => new Promise<void>((r) => setImmediate(r));

  it("sends what one event-loop turn wrote, corked pieces and separate ticks alike, as one write", async () => {
    const { writes, duplex } = recorder();
    const guard = new PacketSizeGuard(duplex, 1000);
    guard.cork();
    for (const piece of [[0x30], [0x05], [0x00, 0x01], [0x74], [0x68, 0x69]]) guard.write(Buffer.from(piece));
    process.nextTick(() => guard.uncork());
    await new Promise<void>((r) => process.nextTick(r));
    guard.write(Buffer.from([0x40, 0x02, 0x00, 0x07])); // a PUBACK from a later tick
    await Promise.resolve();
    guard.write(Buffer.from([0xd0, 0x00])); // and one from a microtask
    await turn();
    await turn();
    expect(writes.map((w) => [...w])).toEqual([
      [0x30, 0x05, 0x00, 0x01, 0x74, 0x68, 0x69, 0x40, 0x02, 0x00, 0x07, 0xd0, 0x00],
    ]);
    guard.write(Buffer.from([0xc0, 0x00]));
    await turn();
    await turn();
    expect(writes).toHaveLength(2);
    guard.destroy();
  });

  it("holds the writer back while the connection has not drained, and loses nothing", async () => {
    let full = true;
    const { writes, duplex, drain } = recorder(() => !full);
    const guard = new PacketSizeGuard(duplex, 1000);
    let done = 0;
    guard.write(Buffer.from([1]), () => done++);
    await turn();
    await turn();
    // the first turn went out and the connection is full: the next write is held
    guard.write(Buffer.from([2]), () => done++);
    guard.write(Buffer.from([3]), () => done++);
    await turn();
    await turn();
    expect(done).toBe(1);
    full = false;
    drain();
    await vi.waitFor(() => expect(done).toBe(3));
    expect(Buffer.concat(writes)).toEqual(Buffer.from([1, 2, 3]));
    guard.destroy();
  });

  it("sends what is pending before it destroys the connection (a refusing CONNACK, then close)", () => {
    const { writes, duplex } = recorder();
    const guard = new PacketSizeGuard(duplex, 1000);
    guard.write(Buffer.from([0x20, 0x02, 0x00, 0x05]));
    guard.destroy();
    expect(writes.map((w) => [...w])).toEqual([[0x20, 0x02, 0x00, 0x05]]);
  });

  it("sends what is pending before it ends the connection", async () => {
    const { writes, duplex } = recorder();
    const guard = new PacketSizeGuard(duplex, 1000);
    guard.end(Buffer.from([0xe0, 0x00]));
    await vi.waitFor(() => expect(writes.map((w) => [...w])).toEqual([[0xe0, 0x00]]));
  });
});
