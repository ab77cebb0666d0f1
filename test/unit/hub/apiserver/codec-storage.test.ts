/**
 * The stored form of an object: canonical key order (apiVersion, kind, metadata, the rest) and
 * no resourceVersion, whether the object comes in that order already (serialized as it is) or
 * not (rebuilt); and request bodies that are only whitespace.
 */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { decodeBody, encodeForStorage, spliceResourceVersion } from "../../../../src/hub/apiserver/codec.js";

const cm = (o: Record<string, unknown>) => o as unknown as KubeObject;

describe("encodeForStorage", () => {
  it("writes an object already in canonical order as it is", () => {
    const o = cm({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "a", uid: "u" },
      data: { k: "v" },
    });
    expect(encodeForStorage(o)).toBe(
      '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","uid":"u"},"data":{"k":"v"}}',
    );
  });

  it("puts apiVersion, kind and metadata first whatever order they came in", () => {
    const o = cm({ data: { k: "v" }, metadata: { name: "a" }, kind: "ConfigMap", apiVersion: "v1" });
    expect(encodeForStorage(o)).toBe(
      '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"k":"v"}}',
    );
    const noApiVersion = cm({ kind: "ConfigMap", metadata: { name: "a" }, data: {} });
    noApiVersion.apiVersion = "v1"; // added last, as normalizeObject does on a body without one
    expect(encodeForStorage(noApiVersion)).toBe(
      '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{}}',
    );
  });

  it("drops metadata.resourceVersion, keeping the other fields' order", () => {
    const o = cm({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "a", resourceVersion: "7", uid: "u" },
    });
    expect(encodeForStorage(o)).toBe(
      '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","uid":"u"}}',
    );
    expect(spliceResourceVersion(encodeForStorage(o), 9)).toBe(
      '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"resourceVersion":"9","name":"a","uid":"u"}}',
    );
  });

  it("orders integer-like keys as the rebuilt object does (first: JavaScript's own key order)", () => {
    const o = cm({ apiVersion: "v1", kind: "X", metadata: { name: "a" }, 1: "one" });
    const { apiVersion, kind, metadata, ...rest } = o;
    expect(encodeForStorage(o)).toBe(JSON.stringify({ apiVersion, kind, metadata, ...rest }));
    expect(encodeForStorage(o)).toBe('{"1":"one","apiVersion":"v1","kind":"X","metadata":{"name":"a"}}');
  });
});

describe("decodeBody", () => {
  it("refuses a body of only whitespace, and parses one surrounded by it", () => {
    for (const blank of ["", "  ", "\n\t \r\n", "\u00a0\ufeff"]) {
      expect(() => decodeBody(Buffer.from(blank), "application/json")).toThrow(/request body is empty/);
    }
    expect(decodeBody(Buffer.from(' \n{"a":1}\n '), "application/json")).toEqual({ a: 1 });
  });
});
