import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import {
  replicaSetsToClean,
  setNewReplicaSetAnnotations,
} from "../../../../src/hub/controllers/deployment/revisions.js";
import {
  type DeploymentView,
  maxScaledDown,
  maxUnavailable,
  newRSNewReplicas,
  proportionalSizes,
  resolveFenceposts,
  scaledValue,
} from "../../../../src/hub/controllers/deployment/rollout-math.js";
import { computeHash, equalIgnoreHash } from "../../../../src/hub/controllers/deployment/template-hash.js";
import { podsToDelete } from "../../../../src/hub/controllers/replicaset/pod-state.js";

const dv = (over: Partial<DeploymentView> = {}): DeploymentView => ({
  replicas: 10,
  strategy: "RollingUpdate",
  maxSurge: "25%",
  maxUnavailable: "25%",
  statusReplicas: 10,
  ...over,
});

describe("rollout math", () => {
  it("rounds surge up and unavailable down, as upstream", () => {
    expect(scaledValue("25%", 10, true)).toBe(3);
    expect(scaledValue("25%", 10, false)).toBe(2);
    expect(scaledValue(4, 10, true)).toBe(4);
    expect(scaledValue("3", 10, true)).toBe(3);
    expect(() => scaledValue("abc", 10, true)).toThrow(/must be an integer or a percentage/);
    expect(resolveFenceposts(dv({ replicas: 1 }))).toEqual([1, 0]);
    expect(resolveFenceposts(dv({ replicas: 3, maxSurge: 0, maxUnavailable: "10%" }))).toEqual([0, 1]);
    expect(maxUnavailable(dv({ strategy: "Recreate" }))).toBe(0);
    expect(maxUnavailable(dv({ replicas: 2, maxUnavailable: 5 }))).toBe(2);
  });

  it("grows the new ReplicaSet only within maxSurge", () => {
    const d = dv({ replicas: 4, maxSurge: 1, maxUnavailable: 0 });
    const old = { name: "old", replicas: 4, available: 4 };
    const nu = { name: "new", replicas: 0, available: 0 };
    expect(newRSNewReplicas(d, [old, nu], nu)).toBe(1);
    const nu1 = { ...nu, replicas: 1 };
    expect(newRSNewReplicas(d, [old, nu1], nu1)).toBe(1); // at 5 = 4 + surge
    expect(maxScaledDown(d, [old, nu1], nu1)).toBe(0); // new pod not available yet
    expect(maxScaledDown(d, [old, { ...nu1, available: 1 }], { ...nu1, available: 1 })).toBe(1);
    expect(newRSNewReplicas(dv({ strategy: "Recreate", replicas: 3 }), [], nu)).toBe(3);
  });

  it("scales a rollout in progress proportionally", () => {
    // 10 → 15 while old=8, new=5 (maxSurge 3 → max 13 annotated)
    const d = dv({ replicas: 15, maxSurge: 3, maxUnavailable: 2, statusReplicas: 13 });
    const sizes = proportionalSizes(d, [
      { name: "old", replicas: 8, available: 8, maxReplicasAnnotation: 13 },
      { name: "new", replicas: 5, available: 0, maxReplicasAnnotation: 13 },
    ]);
    expect((sizes.get("old") ?? 0) + (sizes.get("new") ?? 0)).toBe(18);
    expect(sizes.get("old")).toBe(11);
    expect(sizes.get("new")).toBe(7);
  });
});

const tpl = (image: string, labels: Record<string, string> = { app: "web" }) => ({
  metadata: { labels },
  spec: { containers: [{ name: "c", image }] },
});

describe("pod-template-hash", () => {
  it("is stable, key-order independent, and changes with the template or collisionCount", () => {
    const a = computeHash(tpl("nginx:1"));
    expect(a).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(computeHash({ spec: tpl("nginx:1").spec, metadata: tpl("nginx:1").metadata })).toBe(a);
    expect(computeHash(tpl("nginx:2"))).not.toBe(a);
    expect(computeHash(tpl("nginx:1"), 1)).not.toBe(a);
  });

  it("compares templates ignoring only the pod-template-hash label", () => {
    expect(equalIgnoreHash(tpl("x", { app: "web", "pod-template-hash": "abc" }), tpl("x"))).toBe(true);
    expect(equalIgnoreHash(tpl("x", { app: "web", tier: "a" }), tpl("x"))).toBe(false);
    expect(equalIgnoreHash(tpl("y"), tpl("x"))).toBe(false);
  });
});

function pod(
  name: string,
  o: { node?: string; phase?: string; ready?: boolean; created?: string; restarts?: number },
) {
  return {
    metadata: { name, creationTimestamp: o.created ?? "2026-01-01T00:00:00Z" },
    spec: o.node ? { nodeName: o.node } : {},
    status: {
      phase: o.phase ?? "Running",
      conditions: [
        { type: "Ready", status: o.ready ? "True" : "False", lastTransitionTime: "2026-01-01T00:00:00Z" },
      ],
      containerStatuses: [{ restartCount: o.restarts ?? 0 }],
    },
  } as KubeObject;
}

describe("scale-down order", () => {
  it("deletes unscheduled, pending, not-ready, restarting and newer pods first", () => {
    const pods = [
      pod("ready-old", { node: "n", ready: true, created: "2026-01-01T00:00:00Z" }),
      pod("ready-new", { node: "n", ready: true, created: "2026-01-02T00:00:00Z" }),
      pod("notready", { node: "n", ready: false }),
      pod("pending", { node: "n", phase: "Pending" }),
      pod("unscheduled", { phase: "Pending" }),
      pod("restarts", { node: "n", ready: true, restarts: 3 }),
    ];
    expect(podsToDelete(pods, 6).map((p) => p.metadata.name)).toEqual([
      "unscheduled",
      "pending",
      "notready",
      "restarts",
      "ready-new",
      "ready-old",
    ]);
  });
});

describe("revisions", () => {
  const rs = (name: string, rev: number, replicas = 0): KubeObject => ({
    metadata: { name, annotations: { "deployment.kubernetes.io/revision": String(rev) }, generation: 1 },
    spec: { replicas },
    status: { replicas, observedGeneration: 1 },
  });

  it("moves a reused ReplicaSet's revision to the top and keeps the old one in revision-history", () => {
    const d: KubeObject = {
      metadata: { name: "web", annotations: { "kubernetes.io/change-cause": "undo" } },
    };
    const old = rs("web-a", 1);
    expect(setNewReplicaSetAnnotations(d, old, 3, true, { desired: 2, max: 3 })).toBe(true);
    expect(old.metadata.annotations).toMatchObject({
      "deployment.kubernetes.io/revision": "3",
      "deployment.kubernetes.io/revision-history": "1",
      "kubernetes.io/change-cause": "undo",
    });
    expect(setNewReplicaSetAnnotations(d, old, 3, true, { desired: 2, max: 3 })).toBe(false);
  });

  it("cleans the oldest scaled-down revisions beyond revisionHistoryLimit only", () => {
    const list = [rs("a", 1), rs("b", 2, 1), rs("c", 3), rs("d", 4)];
    expect(replicaSetsToClean(list, 1).map((r) => r.metadata.name)).toEqual(["a", "c"]);
    expect(replicaSetsToClean(list, 10)).toEqual([]);
  });
});
