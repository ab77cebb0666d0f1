import { describe, expect, it } from "vitest";
import { ApiError } from "../../../../src/api/errors.js";
import type { JsonObject } from "../../../../src/api/object.js";
import { applyJsonPatch, applyMergePatch } from "../../../../src/api/patch/index.js";

function errorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("expected an ApiError");
}

const doc = (): JsonObject => ({
  metadata: { name: "d", labels: { "a/b": "1", "t~x": "2" } },
  spec: { replicas: 1, list: ["x", "y"], template: { spec: { containers: [{ name: "c" }] } } },
});

describe("JSON merge patch (RFC 7386)", () => {
  it("merges maps, deletes with null, replaces lists, leaves the input alone", () => {
    const orig = doc();
    const before = JSON.stringify(orig);
    const out = applyMergePatch(orig, {
      metadata: { labels: { "a/b": null, new: "v" } },
      spec: { list: ["z"], replicas: 3, extra: { a: null, b: 1 } },
    });
    expect(JSON.stringify(orig)).toBe(before);
    expect(out.metadata).toEqual({ name: "d", labels: { "t~x": "2", new: "v" } });
    expect((out.spec as JsonObject).list).toEqual(["z"]);
    expect((out.spec as JsonObject).extra).toEqual({ b: 1 });
  });

  it("RFC 7386 appendix examples: a non-object target value is replaced by the patch object", () => {
    expect(applyMergePatch({ a: "foo" }, { a: { bb: { ccc: null } } })).toEqual({ a: { bb: {} } });
    expect(applyMergePatch({ a: [{ b: "c" }] }, { a: [1] })).toEqual({ a: [1] });
  });

  it("a patch that is not an object is a 400", () => {
    const e = errorOf(() => applyMergePatch(doc(), ["x"]));
    expect(e.code).toBe(400);
    expect(e.reason).toBe("BadRequest");
  });
});

describe("JSON patch (RFC 6902)", () => {
  it("applies add/remove/replace/move/copy/test with escapes and the - index", () => {
    const orig = doc();
    const before = JSON.stringify(orig);
    const value = { name: "d2" };
    const out = applyJsonPatch(orig, [
      { op: "test", path: "/metadata/labels/a~1b", value: "1" },
      { op: "test", path: "/metadata/labels/t~0x", value: "2" },
      { op: "replace", path: "/spec/replicas", value: 3 },
      { op: "add", path: "/spec/list/-", value: "w" },
      { op: "add", path: "/spec/list/0", value: "v" },
      { op: "remove", path: "/spec/list/1" },
      { op: "add", path: "/spec/template/spec/containers/-", value },
      { op: "copy", from: "/metadata/labels", path: "/spec/labels" },
      { op: "move", from: "/metadata/labels/t~0x", path: "/metadata/labels/moved" },
    ]);
    expect(JSON.stringify(orig)).toBe(before);
    const spec = out.spec as JsonObject;
    expect(spec.replicas).toBe(3);
    expect(spec.list).toEqual(["v", "y", "w"]);
    expect((out.metadata as JsonObject).labels).toEqual({ "a/b": "1", moved: "2" });
    expect(spec.labels).toEqual({ "a/b": "1", "t~x": "2" });
    // op values are copied, not shared with the result
    value.name = "changed";
    expect((spec.template as JsonObject).spec).toEqual({ containers: [{ name: "c" }, { name: "d2" }] });
  });

  it("test compares JSON structurally, whatever the key order", () => {
    const out = applyJsonPatch(doc(), [
      { op: "test", path: "/spec/template", value: { spec: { containers: [{ name: "c" }] } } },
    ]);
    expect(out).toEqual(doc());
  });

  it("a failed test is a 422 Invalid naming the path", () => {
    const e = errorOf(() => applyJsonPatch(doc(), [{ op: "test", path: "/spec/replicas", value: 5 }]));
    expect(e.code).toBe(422);
    expect(e.reason).toBe("Invalid");
    expect(e.message).toBe(
      "the server rejected our request due to an error in our request: testing value /spec/replicas failed: test failed",
    );
  });

  it("operations on missing paths or bad indexes are 422", () => {
    for (const op of [
      { op: "replace", path: "/spec/nope", value: 1 },
      { op: "remove", path: "/spec/nope" },
      { op: "add", path: "/nope/deeper", value: 1 },
      { op: "add", path: "/spec/list/5", value: 1 },
      { op: "remove", path: "/spec/list/-" },
      { op: "remove", path: "/spec/list/01" },
      { op: "move", from: "/spec", path: "/spec/inner" },
      { op: "frobnicate", path: "/spec" },
    ]) {
      expect(errorOf(() => applyJsonPatch(doc(), [op])).code, JSON.stringify(op)).toBe(422);
    }
  });

  it("a body that is not a list of operations is a 400", () => {
    expect(errorOf(() => applyJsonPatch(doc(), { op: "add" })).code).toBe(400);
    expect(errorOf(() => applyJsonPatch(doc(), ["x"])).code).toBe(400);
  });
});
