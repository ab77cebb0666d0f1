import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../../../src/api/object.js";
import { updateManagedFields } from "../../../../src/api/patch/index.js";

/**
 * The create fast path must write exactly what the general comparison writes. The general
 * path runs when the incoming object carries managedFields (here an empty list, which it
 * ignores), so both are reachable through the public function.
 */
const NOW = "2025-01-01T00:00:00Z";

function both(obj: JsonObject, apiVersion: string, subresource?: string) {
  const base = { manager: "kubectl-create", operation: "Update" as const, now: NOW, apiVersion };
  const fast = updateManagedFields({ ...base, updated: obj, ...(subresource ? { subresource } : {}) });
  const withEmpty = { ...obj, metadata: { ...(obj.metadata as JsonObject), managedFields: [] } };
  const general = updateManagedFields({
    ...base,
    updated: withEmpty,
    ...(subresource ? { subresource } : {}),
  });
  return { fast, general };
}

const samples: Array<[string, string, JsonObject]> = [
  [
    "pod with ports, env, volumes, tolerations, finalizers",
    "v1",
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "p",
        namespace: "default",
        uid: "u",
        creationTimestamp: "2025-01-01T00:00:00Z",
        labels: { app: "web" },
        annotations: {},
        finalizers: ["a/b", "c/d"],
        ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "x" }],
      },
      spec: {
        containers: [
          {
            name: "c",
            image: "busybox",
            ports: [{ containerPort: 80, protocol: "TCP" }, { containerPort: 81 }],
            env: [{ name: "A", value: "1" }, { value: "no-key" }],
            resources: {},
            volumeMounts: [{ name: "v", mountPath: "/v" }],
          },
        ],
        volumes: [{ name: "v", emptyDir: {} }],
        tolerations: [{ key: "k", operator: "Exists" }],
        nodeSelector: { a: "b" },
        securityContext: {},
      },
      status: { phase: "Pending", qosClass: "BestEffort" },
    },
  ],
  [
    "deployment",
    "apps/v1",
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "d", namespace: "default", generation: 1 },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "d" } },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
        template: {
          metadata: { labels: { app: "d" } },
          spec: { containers: [{ name: "c", image: "nginx", args: ["a", "b"] }] },
        },
      },
    },
  ],
  [
    "service with ports and ipFamilies",
    "v1",
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "s", namespace: "default" },
      spec: {
        ports: [{ port: 80, targetPort: 8080, protocol: "TCP" }],
        selector: { app: "x" },
        ipFamilies: ["IPv4"],
        clusterIPs: ["10.43.0.5"],
      },
    },
  ],
  [
    "configmap with data",
    "v1",
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "n" }, data: { a: "1", b: "" } },
  ],
  ["object with no metadata", "v1", { apiVersion: "v1", kind: "ConfigMap" }],
  [
    "custom kind (no schema)",
    "example.com/v1",
    {
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "w", labels: { a: "b" } },
      spec: { list: [1, 2], nested: { deep: { x: null } }, empty: [] },
    },
  ],
];

describe("managedFields of a create", () => {
  for (const [name, apiVersion, obj] of samples) {
    it(`matches the general comparison: ${name}`, () => {
      const { fast, general } = both(obj, apiVersion);
      expect(JSON.stringify(fast)).toBe(JSON.stringify(general));
    });
  }

  it("records the subresource and does not touch the input", () => {
    const obj = samples[0]![2];
    const before = JSON.stringify(obj);
    const { fast, general } = both(obj, "v1", "status");
    expect(JSON.stringify(fast)).toBe(JSON.stringify(general));
    expect(JSON.stringify(obj)).toBe(before);
    const mf = (fast.metadata as JsonObject).managedFields as JsonObject[];
    expect(mf).toHaveLength(1);
    expect(mf[0]).toMatchObject({ manager: "kubectl-create", operation: "Update", subresource: "status" });
  });

  it("owns the data fields but never server-owned metadata", () => {
    const { fast } = both(samples[3]![2], "v1");
    const mf = (fast.metadata as JsonObject).managedFields as JsonObject[];
    expect(mf[0]!.fieldsV1).toEqual({ "f:data": { ".": {}, "f:a": {}, "f:b": {} } });
  });

  it("writes no entry when the manager set nothing it owns", () => {
    const { fast, general } = both({ apiVersion: "v1", kind: "Namespace", metadata: { name: "x" } }, "v1");
    expect((fast.metadata as JsonObject).managedFields).toBeUndefined();
    expect(JSON.stringify(fast)).toBe(JSON.stringify(general));
  });
});
