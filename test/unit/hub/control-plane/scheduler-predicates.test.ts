import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { Decider, fitErrorMessage, numFeasibleNodesToFind } from "../../../../src/hub/scheduler/decide.js";
import { newNodeInfo, SchedulerCache } from "../../../../src/hub/scheduler/node-info.js";
import { computePodInfo } from "../../../../src/hub/scheduler/pod-info.js";
import { filterNode, podConstraints, tolerates } from "../../../../src/hub/scheduler/predicates.js";

function node(
  name: string,
  o: {
    labels?: Record<string, string>;
    taints?: unknown[];
    unschedulable?: boolean;
    memory?: string;
    ready?: string;
  } = {},
): KubeObject {
  return {
    kind: "Node",
    metadata: {
      name,
      labels: { "kubernetes.io/hostname": name, "kubernetes.io/arch": "arm64", ...(o.labels ?? {}) },
    },
    spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable ? { unschedulable: true } : {}) },
    status: {
      allocatable: { cpu: "2", memory: o.memory ?? "1Gi", pods: "3" },
      conditions: [{ type: "Ready", status: o.ready ?? "True" }],
    },
  };
}

function pod(spec: Record<string, unknown> = {}, name = "p", owner?: string): KubeObject {
  return {
    kind: "Pod",
    metadata: {
      name,
      namespace: "ns",
      uid: `u-${name}`,
      ...(owner
        ? {
            ownerReferences: [
              { apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: owner, controller: true },
            ],
          }
        : {}),
    },
    spec: { containers: [{ name: "c", image: "i" }], ...spec },
  };
}

const check = (p: KubeObject, n: KubeObject) =>
  filterNode(podConstraints(p as never, computePodInfo(p)), newNodeInfo(n));

describe("scheduler filters", () => {
  it("reports cordoned, tainted, not-ready and mismatched nodes in upstream's words", () => {
    expect(check(pod(), node("a", { unschedulable: true }))?.reasons).toEqual(["node(s) were unschedulable"]);
    expect(
      check(pod(), node("a", { taints: [{ key: "k", value: "v", effect: "NoSchedule" }] }))?.reasons,
    ).toEqual(["node(s) had untolerated taint {k: v}"]);
    expect(check(pod(), node("a", { ready: "Unknown" }))?.reasons).toEqual([
      "node(s) had untolerated taint {node.kubernetes.io/unreachable: }",
    ]);
    expect(check(pod({ nodeSelector: { disk: "ssd" } }), node("a"))?.reasons).toEqual([
      "node(s) didn't match Pod's node affinity/selector",
    ]);
    // PreferNoSchedule taints do not filter
    expect(check(pod(), node("a", { taints: [{ key: "k", effect: "PreferNoSchedule" }] }))).toBeUndefined();
  });

  it("matches required node affinity on arch, matchFields metadata.name and Gt", () => {
    const aff = (terms: unknown[]) =>
      pod({
        affinity: {
          nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } },
        },
      });
    const arch = aff([
      { matchExpressions: [{ key: "kubernetes.io/arch", operator: "In", values: ["arm64"] }] },
    ]);
    expect(check(arch, node("a"))).toBeUndefined();
    const amd = aff([
      { matchExpressions: [{ key: "kubernetes.io/arch", operator: "In", values: ["amd64"] }] },
    ]);
    expect(check(amd, node("a"))?.unresolvable).toBe(true);
    const byName = aff([{ matchFields: [{ key: "metadata.name", operator: "In", values: ["b"] }] }]);
    expect(check(byName, node("a"))).toBeDefined();
    expect(check(byName, node("b"))).toBeUndefined();
    const gt = aff([{ matchExpressions: [{ key: "gen", operator: "Gt", values: ["3"] }] }]);
    expect(check(gt, node("a", { labels: { gen: "4" } }))).toBeUndefined();
    expect(check(gt, node("a", { labels: { gen: "3" } }))).toBeDefined();
    expect(check(aff([{}]), node("a"))).toBeDefined(); // an empty term matches nothing
  });

  it("tolerations: Exists with empty key matches all, effect must agree", () => {
    const t = { key: "k", value: "v", effect: "NoExecute" };
    expect(tolerates([{ operator: "Exists" }], t)).toBe(true);
    expect(tolerates([{ key: "k", operator: "Equal", value: "v" }], t)).toBe(true);
    expect(tolerates([{ key: "k", operator: "Equal", value: "w" }], t)).toBe(false);
    expect(tolerates([{ key: "k", operator: "Exists", effect: "NoSchedule" }], t)).toBe(false);
  });

  it("checks resources, pod count and host ports against what is placed", () => {
    const cache = new SchedulerCache();
    cache.upsertNode(node("a"));
    const big = pod(
      {
        containers: [
          {
            name: "c",
            image: "i",
            resources: { requests: { memory: "700Mi", cpu: "500m" } },
            ports: [{ containerPort: 80, hostPort: 8080 }],
          },
        ],
      },
      "big",
    );
    const info = computePodInfo(big);
    const c = podConstraints(big as never, info);
    expect(filterNode(c, cache.node("a")!)).toBeUndefined();
    cache.place(info, "a");
    const again = pod(big.spec as Record<string, unknown>, "again");
    const f = filterNode(podConstraints(again as never, computePodInfo(again)), cache.node("a")!);
    expect(f?.reasons).toEqual(["node(s) didn't have free ports for the requested pod ports"]);
    const noPort = pod(
      { containers: [{ name: "c", image: "i", resources: { requests: { memory: "700Mi" } } }] },
      "np",
    );
    expect(
      filterNode(podConstraints(noPort.spec as never, computePodInfo(noPort)), cache.node("a")!)?.reasons,
    ).toEqual(["Insufficient memory"]);
    cache.place(computePodInfo(pod({}, "x")), "a");
    cache.place(computePodInfo(pod({}, "y")), "a");
    expect(
      filterNode(podConstraints({} as never, computePodInfo(pod({}, "z"))), cache.node("a")!)?.reasons,
    ).toEqual(["Too many pods"]);
    // forgetting frees the capacity; a node update keeps the accounting
    cache.forget("ns/big");
    cache.upsertNode(node("a"));
    expect(cache.node("a")!.podCount).toBe(2);
  });
});

describe("scheduling decisions", () => {
  it("formats upstream's FitError with sorted reasons and the preemption sentence", () => {
    const msg = fitErrorMessage(3, [
      { reasons: ["Insufficient memory"], unresolvable: false },
      { reasons: ["Insufficient memory"], unresolvable: false },
      { reasons: ["node(s) had untolerated taint {node.kubernetes.io/unreachable: }"], unresolvable: true },
    ]);
    expect(msg).toBe(
      "0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 2 Insufficient memory. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.",
    );
    expect(fitErrorMessage(0, [])).toBe("no nodes available to schedule pods");
  });

  it("samples large clusters like upstream", () => {
    expect(numFeasibleNodesToFind(50)).toBe(50);
    expect(numFeasibleNodesToFind(1000)).toBe(420);
    expect(numFeasibleNodesToFind(5000)).toBe(500);
  });

  it("prefers the least allocated node and spreads pods of one owner", () => {
    const cache = new SchedulerCache();
    for (const n of ["a", "b", "c"]) cache.upsertNode(node(n, { memory: "4Gi" }));
    const d = new Decider();
    const placed: string[] = [];
    for (let i = 0; i < 3; i++) {
      const p = pod({}, `r${i}`, "owner-1");
      const info = computePodInfo(p);
      const r = d.decide(podConstraints(p as never, info), cache.list());
      if (!("node" in r)) throw new Error(r.message);
      cache.place(info, r.node);
      placed.push(r.node);
    }
    expect(new Set(placed).size).toBe(3);
  });
});
