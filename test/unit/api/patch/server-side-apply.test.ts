import { describe, expect, it } from "vitest";
import { ApiError } from "../../../../src/api/errors.js";
import type { JsonObject } from "../../../../src/api/object.js";
import {
  decodeFieldsV1,
  encodeFieldsV1,
  renderPath,
  serverSideApply,
  updateManagedFields,
} from "../../../../src/api/patch/index.js";

const DEPLOY = { group: "apps", kind: "Deployment" };
const T1 = "2025-01-01T00:00:00Z";
const T2 = "2025-01-01T00:01:00Z";

function manifest(replicas: number, extra: JsonObject = {}): JsonObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default", labels: { app: "web", ...extra } },
    spec: {
      replicas,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: { containers: [{ name: "c", image: "nginx:1" }] },
      },
    },
  };
}

function entries(o: JsonObject): JsonObject[] {
  return (o.metadata as JsonObject).managedFields as JsonObject[];
}

function apply(
  live: JsonObject | undefined,
  applied: JsonObject,
  manager = "kubectl",
  force = false,
  now = T1,
) {
  return serverSideApply({ live, applied, manager, force, gk: DEPLOY, now, apiVersion: "apps/v1" });
}

function conflictOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("expected a conflict");
}

describe("fieldsV1", () => {
  it("round-trips upstream's encoding with '.' members and renders paths like upstream", () => {
    const f = {
      "f:metadata": { "f:labels": { ".": {}, "f:app": {} } },
      "f:spec": { "f:containers": { 'k:{"name":"c"}': { ".": {}, "f:image": {}, "f:name": {} } } },
    };
    const set = decodeFieldsV1(f);
    expect(set.size).toBe(5);
    expect(encodeFieldsV1(set)).toEqual(f);
    expect(JSON.stringify(encodeFieldsV1(set))).toBe(JSON.stringify(f));
    expect(renderPath(["f:spec", "f:containers", 'k:{"name":"c"}', "f:image"])).toBe(
      '.spec.containers[name="c"].image',
    );
    expect(renderPath(["f:metadata", "f:finalizers", 'v:"x"'])).toBe('.metadata.finalizers[="x"]');
  });
});

describe("server-side apply", () => {
  it("creates when live is absent and records the applier's fields", () => {
    const out = apply(undefined, manifest(2));
    expect((out.spec as JsonObject).replicas).toBe(2);
    expect(entries(out)).toEqual([
      {
        manager: "kubectl",
        operation: "Apply",
        apiVersion: "apps/v1",
        time: T1,
        fieldsType: "FieldsV1",
        fieldsV1: {
          "f:metadata": { "f:labels": { "f:app": {} } },
          "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
              "f:metadata": { "f:labels": { "f:app": {} } },
              "f:spec": { "f:containers": { 'k:{"name":"c"}': { ".": {}, "f:image": {}, "f:name": {} } } },
            },
          },
        },
      },
    ]);
  });

  it("prunes a field the manager stopped applying when nobody else owns it", () => {
    const first = apply(undefined, manifest(2, { tier: "fe" }));
    const second = apply(first, manifest(2), "kubectl", false, T2);
    expect((second.metadata as JsonObject).labels).toEqual({ app: "web" });
    expect(entries(second)).toHaveLength(1);
    expect(entries(second)[0]?.time).toBe(T2);
  });

  it("keeps a field the manager stopped applying when another manager owns it", () => {
    const first = apply(undefined, manifest(2, { tier: "fe" }));
    const other = apply(
      first,
      { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", labels: { tier: "fe" } } },
      "other",
    );
    const third = apply(other, manifest(2), "kubectl", false, T2);
    expect((third.metadata as JsonObject).labels).toEqual({ app: "web", tier: "fe" });
  });

  it("conflicts with an Update manager that owns a field with a different value", () => {
    const created = updateManagedFields({
      updated: manifest(2),
      manager: "kubectl-client-side-apply",
      operation: "Update",
      now: T1,
      apiVersion: "apps/v1",
    });
    const e = conflictOf(() => apply(created, manifest(5)));
    expect(e.code).toBe(409);
    expect(e.reason).toBe("Conflict");
    expect(e.message).toBe(
      'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
    );
    expect(e.details?.causes).toEqual([
      {
        reason: "FieldManagerConflict",
        message: 'conflict with "kubectl-client-side-apply" using apps/v1',
        field: ".spec.replicas",
      },
    ]);
  });

  it("applying the same value as another owner is not a conflict; the field becomes shared", () => {
    const created = updateManagedFields({
      updated: manifest(2),
      manager: "kubectl-create",
      operation: "Update",
      now: T1,
      apiVersion: "apps/v1",
    });
    const out = apply(created, manifest(2));
    const mf = entries(out);
    expect(mf.map((e) => [e.manager, e.operation])).toEqual([
      ["kubectl", "Apply"],
      ["kubectl-create", "Update"],
    ]);
    expect(decodeFieldsV1(mf[1]?.fieldsV1).has(["f:spec", "f:replicas"])).toBe(true);
  });

  it("force takes ownership from the other manager", () => {
    const first = apply(undefined, manifest(2), "other");
    const e = conflictOf(() => apply(first, manifest(3)));
    expect(e.message).toBe('Apply failed with 1 conflict: conflict with "other": .spec.replicas');
    const out = apply(first, manifest(3), "kubectl", true);
    expect((out.spec as JsonObject).replicas).toBe(3);
    const other = entries(out).find((x) => x.manager === "other");
    expect(decodeFieldsV1(other?.fieldsV1).has(["f:spec", "f:replicas"])).toBe(false);
    expect(decodeFieldsV1(other?.fieldsV1).has(["f:metadata", "f:labels", "f:app"])).toBe(true);
  });

  it("lists several conflicts grouped by manager", () => {
    const first = apply(undefined, manifest(2), "other");
    const changed = manifest(3);
    (((changed.spec as JsonObject).template as JsonObject).spec as JsonObject).containers = [
      { name: "c", image: "nginx:2" },
    ];
    const e = conflictOf(() => apply(first, changed));
    expect(e.message).toBe(
      'Apply failed with 2 conflicts: conflicts with "other":\n- .spec.replicas\n- .spec.template.spec.containers[name="c"].image',
    );
  });

  it("owns associative list items by key and sets by value", () => {
    const m = manifest(1);
    (m.metadata as JsonObject).finalizers = ["example.com/x"];
    const out = apply(undefined, m);
    const set = decodeFieldsV1(entries(out)[0]?.fieldsV1);
    expect(set.has(["f:metadata", "f:finalizers", 'v:"example.com/x"'])).toBe(true);
    expect(set.has(["f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"c"}'])).toBe(true);
  });

  it("a live object without managedFields belongs to before-first-apply", () => {
    const live = manifest(2);
    const e = conflictOf(() => apply(live, manifest(4)));
    expect(e.message).toBe(
      'Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas',
    );
  });
});

describe("updateManagedFields", () => {
  it("records a create with '.' for added maps and none for value structs", () => {
    const out = updateManagedFields({
      updated: manifest(1),
      manager: "kubectl-create",
      operation: "Update",
      now: T1,
      apiVersion: "apps/v1",
    });
    const f = entries(out)[0]?.fieldsV1 as JsonObject;
    expect(f["f:metadata"]).toEqual({ "f:labels": { ".": {}, "f:app": {} } });
    expect(Object.keys(f["f:spec"] as JsonObject)).not.toContain(".");
  });

  it("moves a field to the manager that changed it and keeps the time of untouched managers", () => {
    const created = updateManagedFields({
      updated: manifest(1),
      manager: "kubectl-create",
      operation: "Update",
      now: T1,
      apiVersion: "apps/v1",
    });
    const scaled = structuredClone(created);
    (scaled.spec as JsonObject).replicas = 4;
    const out = updateManagedFields({
      old: created,
      updated: scaled,
      manager: "kube-controller-manager",
      operation: "Update",
      now: T2,
      apiVersion: "apps/v1",
    });
    const mf = entries(out);
    const create = mf.find((e) => e.manager === "kubectl-create");
    const ctrl = mf.find((e) => e.manager === "kube-controller-manager");
    expect(create?.time).toBe(T1);
    expect(decodeFieldsV1(create?.fieldsV1).has(["f:spec", "f:replicas"])).toBe(false);
    expect(ctrl?.fieldsV1).toEqual({ "f:spec": { "f:replicas": {} } });
  });

  it("an update that changes nothing adds no entry", () => {
    const created = updateManagedFields({
      updated: manifest(1),
      manager: "a",
      operation: "Update",
      now: T1,
      apiVersion: "apps/v1",
    });
    const out = updateManagedFields({
      old: created,
      updated: structuredClone(created),
      manager: "b",
      operation: "Update",
      now: T2,
      apiVersion: "apps/v1",
    });
    expect(entries(out).map((e) => e.manager)).toEqual(["a"]);
  });
});

describe("server-side apply: list items", () => {
  it("prunes a container the manager no longer applies and keeps the applied order", () => {
    const two = manifest(1);
    const tspec = ((two.spec as JsonObject).template as JsonObject).spec as JsonObject;
    tspec.containers = [
      { name: "c", image: "nginx:1" },
      { name: "side", image: "busybox", env: [{ name: "A", value: "1" }] },
    ];
    const first = apply(undefined, two);
    const second = apply(first, manifest(1), "kubectl", false, T2);
    const cs = (((second.spec as JsonObject).template as JsonObject).spec as JsonObject).containers;
    expect(cs).toEqual([{ name: "c", image: "nginx:1" }]);
  });
});
