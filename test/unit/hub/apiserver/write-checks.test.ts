/**
 * The checks every ObjectStore write makes before the backend: body vs URL, namespace open,
 * validation, and the values a create fills in (generated name, creationTimestamp).
 */
import { describe, expect, it } from "vitest";
import { ApiError } from "../../../../src/api/errors.js";
import type { KubeObject } from "../../../../src/api/object.js";
import { builtinResources } from "../../../../src/hub/apiserver/builtin-resources.js";
import { objectKey } from "../../../../src/hub/apiserver/keys.js";
import type { ResourceInfo } from "../../../../src/hub/apiserver/resource-info.js";
import {
  checkNamespaceOpen,
  generatedName,
  normalizeObject,
  timestamp,
  validateObject,
} from "../../../../src/hub/apiserver/write-checks.js";
import { MemoryBackend } from "../../../../src/hub/store/memory-backend.js";

function info(resource: string, group = ""): ResourceInfo {
  const r = builtinResources().find((x) => x.resource === resource && x.group === group);
  if (!r) throw new Error(`no built-in resource ${group}/${resource}`);
  return r;
}
const pods = info("pods");
const nodes = info("nodes");

function rejects(f: () => unknown): ApiError {
  try {
    f();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("expected an ApiError");
}

describe("write checks", () => {
  it("fills apiVersion, kind and namespace, and refuses a body for another kind or namespace", () => {
    const obj: KubeObject = { metadata: { name: "p" } } as KubeObject;
    normalizeObject(pods, "ns1", obj);
    expect([obj.apiVersion, obj.kind, obj.metadata.namespace]).toEqual(["v1", "Pod", "ns1"]);
    const other = rejects(() =>
      normalizeObject(pods, "ns1", { ...obj, metadata: { name: "p", namespace: "ns2" } }),
    );
    expect(other.code).toBe(400);
    expect(other.message).toMatch(/namespace of the provided object does not match/);
    expect(rejects(() => normalizeObject(pods, "ns1", { ...obj, kind: "Node" })).message).toBe(
      "the kind in the data (Node) does not match the expected kind (Pod)",
    );
    const node: KubeObject = { apiVersion: "v1", kind: "Node", metadata: { name: "n", namespace: "x" } };
    normalizeObject(nodes, undefined, node);
    expect(node.metadata.namespace).toBeUndefined();
  });

  it("refuses creates in a missing or terminating namespace", async () => {
    const backend = new MemoryBackend();
    await backend.start();
    try {
      const nsKey = (n: string) =>
        objectKey({ group: "", resource: "namespaces", namespaced: false }, undefined, n);
      await backend.create(
        nsKey("open"),
        JSON.stringify({ metadata: { name: "open" }, status: { phase: "Active" } }),
      );
      await backend.create(
        nsKey("ending"),
        JSON.stringify({ metadata: { name: "ending" }, status: { phase: "Terminating" } }),
      );
      await checkNamespaceOpen(backend, pods, "open", "p");
      await checkNamespaceOpen(backend, nodes, undefined, "n");
      await expect(checkNamespaceOpen(backend, pods, "missing", "p")).rejects.toMatchObject({ code: 404 });
      await expect(checkNamespaceOpen(backend, pods, "ending", "p")).rejects.toMatchObject({
        code: 403,
        message:
          'pods "p" is forbidden: unable to create new content in namespace ending because it is being terminated',
      });
    } finally {
      await backend.stop();
    }
  });

  it("throws one Invalid error with the custom resource's causes first", () => {
    const pod: KubeObject = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", namespace: "d" },
      spec: {},
    };
    const err = rejects(() =>
      validateObject(pods, pod, undefined, () => [
        { reason: "FieldValueInvalid", message: "custom", field: "x" },
      ]),
    );
    expect(err.code).toBe(422);
    expect(err.details?.causes?.[0]?.field).toBe("x");
    expect((err.details?.causes ?? []).length).toBeGreaterThan(1);
  });

  it("generates names and whole-second timestamps as upstream does", () => {
    expect(generatedName("web-")).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(timestamp(new Date("2026-01-02T03:04:05.678Z"))).toBe("2026-01-02T03:04:05Z");
  });

  it("stamps each second's own time through its one-second memo", () => {
    expect(timestamp(new Date("2026-01-02T03:04:05.001Z"))).toBe("2026-01-02T03:04:05Z");
    expect(timestamp(new Date("2026-01-02T03:04:05.999Z"))).toBe("2026-01-02T03:04:05Z");
    expect(timestamp(new Date("2026-01-02T03:04:06.000Z"))).toBe("2026-01-02T03:04:06Z");
    expect(timestamp(new Date("1970-01-01T00:00:00.500Z"))).toBe("1970-01-01T00:00:00Z");
    expect(timestamp(new Date("1969-12-31T23:59:59.500Z"))).toBe("1969-12-31T23:59:59Z");
    expect(() => timestamp(new Date(Number.NaN))).toThrow(RangeError);
  });
});
