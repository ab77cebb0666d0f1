import type { ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { spliceResourceVersion } from "../../../../src/hub/apiserver/codec.js";
import { ListWriter } from "../../../../src/hub/apiserver/handlers/list-writer.js";

/** A response that records what is written, and when relative to start(). */
function recorder() {
  const writes: Buffer[] = [];
  let headers = 0;
  const res = {
    writeHead: () => {
      headers++;
    },
    write: (c: string | Buffer) => {
      writes.push(Buffer.from(c));
      return true;
    },
    end: () => {},
    socket: { uncork: () => {} },
  } as unknown as ServerResponse;
  return { res, writes, body: () => Buffer.concat(writes).toString("utf8"), headers: () => headers };
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
});
