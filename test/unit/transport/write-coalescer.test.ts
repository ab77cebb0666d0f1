/** coalesceWrites over a real Writable: what reaches the sink per event-loop turn. */
import { Writable } from "node:stream";
import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { coalesceWrites } from "../../../src/transport/write-coalescer.js";

/** a sink recording each write it is handed (a writev is one write of several chunks) */
function sink(highWaterMark = 16 * 1024): { stream: Writable; writes: string[][] } {
  const writes: string[][] = [];
  const stream = new Writable({
    highWaterMark,
    write(chunk: Buffer, _enc, cb) {
      writes.push([chunk.toString()]);
      cb();
    },
    writev(chunks, cb) {
      writes.push(chunks.map((c) => (c.chunk as Buffer).toString()));
      cb();
    },
  });
  return { stream, writes };
}

describe("coalesceWrites", () => {
  it("hands the writes of one turn to the sink as one, at the turn's end", async () => {
    const { stream, writes } = sink();
    coalesceWrites(stream);
    stream.write("a");
    stream.write(Buffer.from("b"));
    process.nextTick(() => stream.write("c"));
    await Promise.resolve();
    expect(writes).toEqual([]);
    await nextTurn();
    expect(writes).toEqual([["a", "b", "c"]]);
    stream.write("d");
    await nextTurn();
    expect(writes).toEqual([["a", "b", "c"], ["d"]]);
  });

  it("nests inside the writer's own cork/uncork (mqtt-packet corks until the next tick)", async () => {
    const { stream, writes } = sink();
    coalesceWrites(stream);
    for (const p of ["p1", "p2"]) {
      stream.cork();
      stream.write(`${p}-head`);
      stream.write(`${p}-body`);
      process.nextTick(() => stream.uncork());
    }
    await new Promise((r) => process.nextTick(r));
    expect(writes).toEqual([]);
    await nextTurn();
    expect(writes).toEqual([["p1-head", "p1-body", "p2-head", "p2-body"]]);
  });

  it("keeps backpressure and the write callbacks, and end() flushes what is corked", async () => {
    const { stream, writes } = sink(4);
    coalesceWrites(stream);
    const done: string[] = [];
    expect(stream.write("ab", () => done.push("ab"))).toBe(true);
    expect(stream.write("cdef", () => done.push("cdef"))).toBe(false);
    await new Promise<void>((r) => stream.once("drain", r));
    expect(done).toEqual(["ab", "cdef"]);
    stream.write("g");
    await new Promise<void>((r) => stream.end("h", r));
    expect(writes).toEqual([
      ["ab", "cdef"],
      ["g", "h"],
    ]);
  });

  it("a destroyed stream still fails its writes as before", async () => {
    const { stream, writes } = sink();
    coalesceWrites(stream);
    stream.destroy();
    const err = await new Promise<Error | null | undefined>((r) => stream.write("x", r));
    expect(err?.message).toMatch(/destroyed/);
    await nextTurn();
    expect(writes).toEqual([]);
  });
});
