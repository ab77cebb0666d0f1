/**
 * PodTopologySpread with explicit constraints: DoNotSchedule as a filter (maxSkew,
 * minDomains, node inclusion), ScheduleAnyway as a score.
 */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { Decider } from "../../../../src/hub/scheduler/decide.js";
import { SchedulerCache } from "../../../../src/hub/scheduler/node-info.js";
import { computePodInfo } from "../../../../src/hub/scheduler/pod-info.js";
import { filterNode, podConstraints, prepareRelations } from "../../../../src/hub/scheduler/predicates.js";

const ZONE = "topology.kubernetes.io/zone";
const SPREAD = "node(s) didn't match pod topology spread constraints";
const LABEL = "node(s) didn't match pod topology spread constraints (missing required label)";

function node(name: string, labels: Record<string, string> = {}): KubeObject {
  return {
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...labels } },
    status: {
      allocatable: { cpu: "4", memory: "8Gi", pods: "110" },
      conditions: [{ type: "Ready", status: "True" }],
    },
  };
}

let seq = 0;
function pod(
  labels: Record<string, string>,
  spec: Record<string, unknown> = {},
  meta: Record<string, unknown> = {},
): KubeObject {
  const name = `s${++seq}`;
  return {
    kind: "Pod",
    metadata: { name, namespace: "ns", uid: `u-${name}`, labels, ...meta },
    spec: { containers: [{ name: "c", image: "i" }], ...spec },
  };
}

const spread = (extra: Record<string, unknown> = {}) => ({
  topologySpreadConstraints: [
    {
      maxSkew: 1,
      topologyKey: ZONE,
      whenUnsatisfiable: "DoNotSchedule",
      labelSelector: { matchLabels: { app: "web" } },
      ...extra,
    },
  ],
});

function cluster(nodes: KubeObject[], placed: [KubeObject, string][]): SchedulerCache {
  const c = new SchedulerCache();
  for (const n of nodes) c.upsertNode(n);
  for (const [p, n] of placed) c.place(computePodInfo(p), n);
  return c;
}

function verdicts(p: KubeObject, cache: SchedulerCache): Record<string, string> {
  const c = prepareRelations(podConstraints(p as never, computePodInfo(p)), cache.list());
  const out: Record<string, string> = {};
  for (const n of cache.list()) out[n.name] = filterNode(c, n)?.reasons[0] ?? "ok";
  return out;
}

const zones = () => [node("a", { [ZONE]: "z1" }), node("b", { [ZONE]: "z1" }), node("c", { [ZONE]: "z2" })];

describe("PodTopologySpread filter (DoNotSchedule)", () => {
  it("rejects the fuller zone once the skew would exceed maxSkew, and nodes without the key", () => {
    const cache = cluster(
      [...zones(), node("x")],
      [
        [pod({ app: "web" }), "a"],
        [pod({ app: "web" }), "b"],
        [pod({ app: "web" }), "c"],
      ],
    );
    // z1: 2, z2: 1 → z1 would be 3 − 1 = 2 > 1
    expect(verdicts(pod({ app: "web" }, spread()), cache)).toEqual({
      a: SPREAD,
      b: SPREAD,
      c: "ok",
      x: LABEL,
    });
    const c = prepareRelations(
      podConstraints(pod({ app: "web" }, spread()) as never, computePodInfo(pod({ app: "web" }, spread()))),
      cache.list(),
    );
    expect(filterNode(c, cache.node("x")!)?.unresolvable).toBe(true);
    expect(filterNode(c, cache.node("a")!)?.unresolvable).toBe(false);
  });

  it("counts only matching, live pods of the same namespace", () => {
    const cache = cluster(zones(), [
      [pod({ app: "web" }), "a"],
      [pod({ app: "api" }), "c"],
      [pod({ app: "web" }, {}, { namespace: "other" }), "c"],
      [pod({ app: "web" }, {}, { deletionTimestamp: "2024-01-01T00:00:00Z" }), "c"],
    ]);
    // z1: 1, z2: 0 → z1 would be 2 − 0 = 2 > 1
    expect(verdicts(pod({ app: "web" }, spread()), cache)).toEqual({ a: SPREAD, b: SPREAD, c: "ok" });
    // a pod that does not match its own selector adds nothing: 1 − 0 ≤ 1 everywhere
    expect(verdicts(pod({ app: "other" }, spread()), cache)).toEqual({ a: "ok", b: "ok", c: "ok" });
  });

  it("domains outside the pod's node affinity do not count (nodeAffinityPolicy Honor), unless Ignore", () => {
    const nodes = [...zones(), node("d", { [ZONE]: "z3", pool: "cold" })];
    const cache = cluster(nodes, [
      [pod({ app: "web" }), "a"],
      [pod({ app: "web" }), "c"],
    ]);
    const selector = { nodeSelector: { "kubernetes.io/hostname": "a" } };
    // honoured: domains z1 (1) — only node a is eligible, skew 2 − 1 = 1 ≤ 1
    expect(verdicts(pod({ app: "web" }, { ...spread(), ...selector }), cache).a).toBe("ok");
    // ignored: the empty zone z3 sets the minimum to 0, skew 2 > 1
    expect(
      verdicts(pod({ app: "web" }, { ...spread({ nodeAffinityPolicy: "Ignore" }), ...selector }), cache).a,
    ).toBe(SPREAD);
  });

  it("minDomains: with fewer domains than required the minimum counts as 0", () => {
    const cache = cluster(zones(), [
      [pod({ app: "web" }), "a"],
      [pod({ app: "web" }), "c"],
    ]);
    expect(verdicts(pod({ app: "web" }, spread()), cache)).toEqual({ a: "ok", b: "ok", c: "ok" });
    expect(verdicts(pod({ app: "web" }, spread({ minDomains: 3 })), cache)).toEqual({
      a: SPREAD,
      b: SPREAD,
      c: SPREAD,
    });
  });

  it("no placed pods: every node with the key fits", () => {
    const cache = cluster(zones(), []);
    expect(verdicts(pod({ app: "web" }, spread()), cache)).toEqual({ a: "ok", b: "ok", c: "ok" });
  });
});

describe("PodTopologySpread score (ScheduleAnyway)", () => {
  it("prefers the zone with fewer matching pods over the least-allocated node", () => {
    const cache = cluster(
      [node("a", { [ZONE]: "z1" }), node("b", { [ZONE]: "z1" }), node("c", { [ZONE]: "z2" })],
      [
        [pod({ app: "web" }), "b"],
        [pod({ app: "web" }), "b"],
        [pod({ app: "api" }), "c"],
        [pod({ app: "api" }), "c"],
        [pod({ app: "api" }), "c"],
      ],
    );
    const soft = spread({ whenUnsatisfiable: "ScheduleAnyway" });
    const p = pod({ app: "web" }, soft);
    const c = prepareRelations(podConstraints(p as never, computePodInfo(p)), cache.list());
    // a soft constraint never filters
    expect(cache.list().map((n) => filterNode(c, n))).toEqual([undefined, undefined, undefined]);
    // z1 holds 2 web pods, z2 none: c wins although a is emptier
    expect(new Decider().decide(c, cache.list())).toMatchObject({ node: "c" });
    const plain = pod({ app: "web" });
    const cp = prepareRelations(podConstraints(plain as never, computePodInfo(plain)), cache.list());
    expect(new Decider().decide(cp, cache.list())).toMatchObject({ node: "a" });
  });
});
