import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { spliceResourceVersion } from "../../../../src/hub/apiserver/codec.js";
import { ListWriter } from "../../../../src/hub/apiserver/handlers/list-writer.js";

/**
 * A response that records what is written, and when relative to start(); `queued` is what
 * it reports as writableLength (bytes not yet handed to the socket).
 */
function recorder() {
  const writes: Buffer[] = [];
  let headers = 0;
  const state = { queued: 0 };
  const res = Object.assign(new EventEmitter(), {
    writeHead: () => {
      headers++;
    },
    write: (c: string | Buffer) => {
      writes.push(Buffer.from(c));
      return true;
    },
    end: () => {},
    destroyed: false,
    socket: { uncork: () => {} },
  });
  // a getter (Object.assign would copy its value once)
  Object.defineProperty(res, "writableLength", { get: () => state.queued });
  return {
    res: res as unknown as ServerResponse,
    writes,
    state,
    body: () => Buffer.concat(writes).toString("utf8"),
    headers: () => headers,
  };
}

/** settled state of a promise after the microtasks queued so far */
async function settled(p: Promise<void> | undefined): Promise<boolean> {
  let done = false;
  void p?.then(() => {
    done = true;
  });
  await Promise.resolve();
  await Promise.resolve();
  return done;
}

describe("ListWriter", () => {
  it("splices each item's resourceVersion as the codec does, across chunk boundaries", () => {
    const r = recorder();
    const w = new ListWriter(r.res);
    w.start('{"items":[');
    const values = Array.from(
      { length: 400 },
      (_, i) =>
        `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c${i}"},"data":{"v":"ü✓${"x".repeat(i * 7)}"}}`,
    );
    values.push('{"apiVersion":"v1","kind":"X","metadata":{},"n":1}', '{"no":"metadata"}');
    for (const [i, v] of values.entries()) w.stored(v, 100 + i);
    w.end("]}");
    expect(r.writes.length).toBeGreaterThan(3);
    const expected = `{"items":[${values.map((v, i) => spliceResourceVersion(v, 100 + i)).join(",")}]}`;
    expect(r.body()).toBe(expected);
    expect(JSON.parse(r.body()).items[400].metadata).toEqual({ resourceVersion: "500" });
  });

  it("holds a paged list's items until its head is known, and mixes encoded items in", () => {
    const r = recorder();
    const w = new ListWriter(r.res);
    const big = "y".repeat(70_000);
    w.stored(`{"metadata":{"name":"a"},"big":"${big}"}`, 7);
    w.json('{"cells":["b"]}');
    expect(r.writes).toHaveLength(0);
    expect(r.headers()).toBe(0);
    w.start('{"metadata":{"continue":"t"},"items":[');
    w.end("]}");
    expect(r.headers()).toBe(1);
    expect(JSON.parse(r.body())).toEqual({
      metadata: { continue: "t" },
      items: [{ metadata: { resourceVersion: "7", name: "a" }, big }, { cells: ["b"] }],
    });
  });

  it("paces its producer: no pause with little queued, an event-loop turn past 256 KiB, 'drain' past 4 MiB", async () => {
    const r = recorder();
    const w = new ListWriter(r.res);
    // a paged list's items are held, not queued: never a pause before the head
    r.state.queued = 8 << 20;
    expect(w.stored('{"metadata":{"name":"held"}}', 1)).toBeUndefined();
    w.start('{"items":[');
    const item = `{"metadata":{"name":"a"},"v":"${"z".repeat(1000)}"}`;
    r.state.queued = 100 << 10;
    expect(w.stored(item, 2)).toBeUndefined();
    r.state.queued = 300 << 10;
    const turn = w.stored(item, 3);
    expect(turn).toBeInstanceOf(Promise);
    expect(await settled(turn)).toBe(false);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await settled(turn)).toBe(true);
    r.state.queued = 5 << 20;
    const drain = w.json('{"cells":["x"]}');
    await new Promise((resolve) => setImmediate(resolve));
    expect(await settled(drain)).toBe(false);
    r.res.emit("drain");
    expect(await settled(drain)).toBe(true);
    // a client gone: 'close' ends the wait too
    const gone = w.json('{"cells":["y"]}');
    r.res.emit("close");
    expect(await settled(gone)).toBe(true);
    w.end("]}");
    expect(JSON.parse(r.body()).items).toHaveLength(5);
  });
});
