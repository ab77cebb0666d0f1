import { describe, expect, it } from "vitest";
import type { DesiredChange, DesiredObject } from "../../../src/transport/envelope.js";
import { chunkObjects, splitDelta } from "../../../src/transport/sync-chunk.js";

const o = (key: string, revision: number, pad = 100): DesiredObject => ({
  key,
  revision,
  object: { metadata: { name: key }, data: "x".repeat(pad) },
});
const put = (key: string, revision: number, pad = 100): DesiredChange => ({
  op: "put",
  ...o(key, revision, pad),
});

describe("chunkObjects", () => {
  it("returns one empty chunk for an empty set", () => {
    expect(chunkObjects([], 1000)).toEqual([[]]);
  });
  it("cuts at the budget, keeps every object, and puts an oversize object alone", () => {
    const objs = [o("a", 1), o("b", 2), o("c", 3), o("big", 4, 5000), o("d", 5)];
    const chunks = chunkObjects(objs, 400);
    expect(chunks.flat()).toEqual(objs);
    expect(chunks.find((c) => c.some((x) => x.key === "big"))).toHaveLength(1);
    expect(chunks.length).toBeGreaterThan(2);
  });
});

describe("splitDelta", () => {
  it("chains pieces from `from` to `to`", () => {
    const changes = [put("a", 3), put("b", 5), put("c", 8)];
    const pieces = splitDelta(2, 10, changes, 150);
    expect(pieces[0]?.from).toBe(2);
    expect(pieces.at(-1)?.to).toBe(10);
    for (let i = 1; i < pieces.length; i++) expect(pieces[i]?.from).toBe(pieces[i - 1]?.to);
    expect(pieces.flatMap((p) => p.changes)).toEqual(changes);
    expect(pieces.length).toBe(3);
  });
  it("never cuts inside one revision", () => {
    const changes = [put("a", 3), put("b", 3), put("c", 3), put("d", 4)];
    const pieces = splitDelta(0, 4, changes, 10);
    expect(pieces.map((p) => p.changes.map((c) => c.key))).toEqual([["a", "b", "c"], ["d"]]);
    expect(pieces.map((p) => [p.from, p.to])).toEqual([
      [0, 3],
      [3, 4],
    ]);
  });
  it("sends an empty piece when nothing changed (a reply to hello)", () => {
    expect(splitDelta(4, 9, [])).toEqual([{ from: 4, to: 9, changes: [] }]);
  });
});

describe("sizes", () => {
  it("measure a change as its JSON, escapes included, shared objects or not", () => {
    const shared = { metadata: { name: 'q"uote' }, data: "é\n".repeat(50) };
    const a: DesiredChange = { op: "put", key: 'core/pods/ns/q"uote', revision: 7, object: shared };
    const b: DesiredChange = { op: "put", key: "core/pods/ns/other", revision: 8, object: shared };
    const del: DesiredChange = { op: "delete", key: "core/pods/ns/gone", revision: 9 };
    const exact = [a, b, del].map((c) => JSON.stringify(c).length);
    // a piece is cut once it reached the budget: exactly a's size cuts right after a, one more
    // byte does not
    expect(splitDelta(0, 9, [a, b, del], exact[0])[0]?.changes).toEqual([a]);
    expect(splitDelta(0, 9, [a, b, del], exact[0]! + 1)[0]?.changes).toEqual([a, b]);
    expect(splitDelta(0, 9, [a, b, del], exact[0]! + exact[1]!).map((p) => p.changes)).toEqual([
      [a, b],
      [del],
    ]);
    expect(splitDelta(0, 9, [a, b, del], exact[0]! + exact[1]! + 1).map((p) => p.changes)).toEqual([
      [a, b, del],
    ]);
    const objs = [a, b].map(({ key, revision, object }) => ({ key, revision, object }));
    const objBytes = objs.map((x) => JSON.stringify(x).length);
    expect(chunkObjects(objs, objBytes[0]! + objBytes[1]!)).toHaveLength(1);
    expect(chunkObjects(objs, objBytes[0]! + objBytes[1]! - 1)).toHaveLength(2);
  });
});
