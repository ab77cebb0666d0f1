import { describe, expect, it } from "vitest";
import { ApiError } from "../../../../src/api/errors.js";
import type { JsonObject } from "../../../../src/api/object.js";
import { applyStrategicMergePatch, supportsStrategicMerge } from "../../../../src/api/patch/index.js";

const POD = { group: "", kind: "Pod" };
const DEPLOY = { group: "apps", kind: "Deployment" };
const NODE = { group: "", kind: "Node" };

function deployment(): JsonObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default", labels: { app: "web" }, finalizers: ["a", "b"] },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          containers: [
            {
              name: "c",
              image: "nginx:1",
              env: [
                { name: "A", value: "1" },
                { name: "B", value: "2" },
              ],
              ports: [{ containerPort: 80 }],
              args: ["-x", "-y"],
            },
            { name: "sidecar", image: "busybox" },
          ],
          tolerations: [{ key: "k", operator: "Exists" }],
        },
      },
    },
  };
}

function spec(o: JsonObject): JsonObject {
  return ((o.spec as JsonObject).template as JsonObject).spec as JsonObject;
}

function errorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("expected an ApiError");
}

describe("strategic merge patch: what kubectl sends", () => {
  it("client-side apply with $setElementOrder changes env and image and keeps the other container", () => {
    const orig = deployment();
    const before = JSON.stringify(orig);
    const patch = {
      metadata: { annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}" } },
      spec: {
        template: {
          spec: {
            "$setElementOrder/containers": [{ name: "c" }, { name: "sidecar" }],
            containers: [
              {
                "$setElementOrder/env": [{ name: "A" }, { name: "B" }],
                env: [{ name: "A", value: "2" }],
                image: "nginx:2",
                name: "c",
              },
            ],
          },
        },
      },
    };
    const out = applyStrategicMergePatch(orig, patch, DEPLOY);
    expect(JSON.stringify(orig)).toBe(before);
    const containers = spec(out).containers as JsonObject[];
    expect(containers.map((c) => c.name)).toEqual(["c", "sidecar"]);
    expect(containers[0]?.image).toBe("nginx:2");
    expect(containers[0]?.env).toEqual([
      { name: "A", value: "2" },
      { name: "B", value: "2" },
    ]);
    expect(containers[0]?.args).toEqual(["-x", "-y"]);
    expect((out.metadata as JsonObject).annotations).toEqual({
      "kubectl.kubernetes.io/last-applied-configuration": "{}",
    });
  });

  it("$setElementOrder removes nothing but reorders, and a $patch:delete item removes the container", () => {
    const out = applyStrategicMergePatch(
      deployment(),
      {
        spec: {
          template: {
            spec: {
              "$setElementOrder/containers": [{ name: "sidecar" }],
              containers: [{ $patch: "delete", name: "c" }],
            },
          },
        },
      },
      DEPLOY,
    );
    expect((spec(out).containers as JsonObject[]).map((c) => c.name)).toEqual(["sidecar"]);
  });

  it("kubectl set image merges by container name", () => {
    const out = applyStrategicMergePatch(
      deployment(),
      { spec: { template: { spec: { containers: [{ name: "sidecar", image: "busybox:2" }] } } } },
      DEPLOY,
    );
    const cs = spec(out).containers as JsonObject[];
    expect(cs.map((c) => [c.name, c.image])).toEqual([
      ["c", "nginx:1"],
      ["sidecar", "busybox:2"],
    ]);
  });

  it("kubectl rollout restart adds the restartedAt annotation to the template", () => {
    const at = "2025-01-01T00:00:00Z";
    const out = applyStrategicMergePatch(
      deployment(),
      {
        spec: { template: { metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": at } } } },
      },
      DEPLOY,
    );
    const tm = (out.spec as JsonObject).template as JsonObject;
    expect(tm.metadata).toEqual({
      labels: { app: "web" },
      annotations: { "kubectl.kubernetes.io/restartedAt": at },
    });
  });

  it("a new list item without $setElementOrder goes before the server's items (upstream order)", () => {
    const out = applyStrategicMergePatch(
      deployment(),
      { spec: { template: { spec: { containers: [{ name: "new", image: "x" }] } } } },
      DEPLOY,
    );
    expect((spec(out).containers as JsonObject[]).map((c) => c.name)).toEqual(["new", "c", "sidecar"]);
  });

  it("lists without a merge key (tolerations, args) are replaced", () => {
    const out = applyStrategicMergePatch(
      deployment(),
      {
        spec: {
          template: {
            spec: {
              tolerations: [{ key: "z", operator: "Exists" }],
              containers: [{ name: "c", args: ["-z"] }],
            },
          },
        },
      },
      DEPLOY,
    );
    expect(spec(out).tolerations).toEqual([{ key: "z", operator: "Exists" }]);
    expect((spec(out).containers as JsonObject[])[0]?.args).toEqual(["-z"]);
  });

  it("null deletes a key; nulls inside a new value are dropped", () => {
    const out = applyStrategicMergePatch(
      deployment(),
      { metadata: { labels: null, annotations: { a: "1", b: null } }, spec: { replicas: null } },
      DEPLOY,
    );
    expect((out.metadata as JsonObject).labels).toBeUndefined();
    expect((out.metadata as JsonObject).annotations).toEqual({ a: "1" });
    expect((out.spec as JsonObject).replicas).toBeUndefined();
  });
});

describe("strategic merge patch: upstream's documented directives", () => {
  it("$patch: replace on a map replaces it", () => {
    const out = applyStrategicMergePatch(
      deployment(),
      { spec: { template: { metadata: { labels: { $patch: "replace", tier: "fe" } } } } },
      DEPLOY,
    );
    expect(((out.spec as JsonObject).template as JsonObject).metadata).toEqual({ labels: { tier: "fe" } });
  });

  it("$patch: delete on a map empties it", () => {
    const out = applyStrategicMergePatch(
      deployment(),
      { metadata: { labels: { $patch: "delete" } } },
      DEPLOY,
    );
    expect((out.metadata as JsonObject).labels).toEqual({});
  });

  it("$patch: replace inside a merging list replaces the whole list", () => {
    const out = applyStrategicMergePatch(
      deployment(),
      { spec: { template: { spec: { containers: [{ name: "only", image: "x" }, { $patch: "replace" }] } } } },
      DEPLOY,
    );
    expect(spec(out).containers).toEqual([{ name: "only", image: "x" }]);
  });

  it("$retainKeys clears keys that are not listed", () => {
    const orig: JsonObject = {
      metadata: { name: "d" },
      spec: { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1 } } },
    };
    const out = applyStrategicMergePatch(
      orig,
      { spec: { strategy: { $retainKeys: ["type"], type: "Recreate" } } },
      DEPLOY,
    );
    expect((out.spec as JsonObject).strategy).toEqual({ type: "Recreate" });
  });

  it("$retainKeys must list every key the patch sets (400)", () => {
    const orig = deployment();
    (orig.spec as JsonObject).strategy = { type: "RollingUpdate" };
    const e = errorOf(() =>
      applyStrategicMergePatch(
        orig,
        { spec: { strategy: { $retainKeys: ["type"], type: "Recreate", rollingUpdate: {} } } },
        DEPLOY,
      ),
    );
    expect(e.code).toBe(400);
    expect(e.message).toBe("invalid patch format of retainKeys");
  });

  it("directives never reach the stored object when the patched field is new", () => {
    const out = applyStrategicMergePatch(
      deployment(),
      { spec: { strategy: { $retainKeys: ["type"], type: "Recreate" } } },
      DEPLOY,
    );
    expect((out.spec as JsonObject).strategy).toEqual({ type: "Recreate" });
  });

  it("$deleteFromPrimitiveList/finalizers removes values; finalizers merge as a set", () => {
    const out = applyStrategicMergePatch(
      deployment(),
      { metadata: { "$deleteFromPrimitiveList/finalizers": ["a"], finalizers: ["c", "b"] } },
      DEPLOY,
    );
    expect((out.metadata as JsonObject).finalizers).toEqual(["c", "b"]);
  });

  it("$setElementOrder on a primitive list orders the merged set", () => {
    const out = applyStrategicMergePatch(
      deployment(),
      { metadata: { "$setElementOrder/finalizers": ["b", "z", "a"], finalizers: ["z"] } },
      DEPLOY,
    );
    expect((out.metadata as JsonObject).finalizers).toEqual(["b", "z", "a"]);
  });

  it("ownerReferences merge by uid, volumeMounts by mountPath, ports by containerPort", () => {
    const orig: JsonObject = {
      metadata: { name: "p", ownerReferences: [{ uid: "1", name: "a" }] },
      spec: {
        containers: [
          { name: "c", volumeMounts: [{ mountPath: "/a", name: "v" }], ports: [{ containerPort: 80 }] },
        ],
      },
    };
    const out = applyStrategicMergePatch(
      orig,
      {
        metadata: { ownerReferences: [{ uid: "2", name: "b" }] },
        spec: {
          containers: [
            {
              name: "c",
              volumeMounts: [{ mountPath: "/a", readOnly: true }],
              ports: [{ containerPort: 80, name: "http" }],
            },
          ],
        },
      },
      POD,
    );
    expect((out.metadata as JsonObject).ownerReferences).toEqual([
      { uid: "2", name: "b" },
      { uid: "1", name: "a" },
    ]);
    const c = ((out.spec as JsonObject).containers as JsonObject[])[0];
    expect(c?.volumeMounts).toEqual([{ mountPath: "/a", name: "v", readOnly: true }]);
    expect(c?.ports).toEqual([{ containerPort: 80, name: "http" }]);
  });

  it("node taints have no merge key: a patch replaces them; status conditions merge by type", () => {
    const node: JsonObject = {
      metadata: { name: "n" },
      spec: { taints: [{ key: "a", effect: "NoSchedule" }] },
      status: {
        conditions: [
          { type: "Ready", status: "False" },
          { type: "DiskPressure", status: "False" },
        ],
      },
    };
    const out = applyStrategicMergePatch(
      node,
      {
        spec: { taints: [{ key: "b", effect: "NoExecute" }] },
        status: { conditions: [{ type: "Ready", status: "True" }] },
      },
      NODE,
    );
    expect((out.spec as JsonObject).taints).toEqual([{ key: "b", effect: "NoExecute" }]);
    expect((out.status as JsonObject).conditions).toEqual([
      { type: "Ready", status: "True" },
      { type: "DiskPressure", status: "False" },
    ]);
  });

  it("an item without its merge key is refused with upstream's message", () => {
    const e = errorOf(() =>
      applyStrategicMergePatch(
        deployment(),
        { spec: { template: { spec: { containers: [{ image: "nginx" }] } } } },
        DEPLOY,
      ),
    );
    expect(e.code).toBe(500);
    expect(e.message).toContain("map: map[image:nginx] does not contain declared merge key: name");
  });

  it("an unknown $patch value is refused", () => {
    const e = errorOf(() =>
      applyStrategicMergePatch(deployment(), { metadata: { $patch: "bogus" } }, DEPLOY),
    );
    expect(e.message).toContain("unknown patch type: bogus");
  });

  it("custom resources do not support strategic merge (415)", () => {
    expect(supportsStrategicMerge({ group: "example.com", kind: "Widget" })).toBe(false);
    expect(supportsStrategicMerge(DEPLOY)).toBe(true);
    const e = errorOf(() =>
      applyStrategicMergePatch({ metadata: {} }, {}, { group: "example.com", kind: "Widget" }),
    );
    expect(e.code).toBe(415);
  });
});
