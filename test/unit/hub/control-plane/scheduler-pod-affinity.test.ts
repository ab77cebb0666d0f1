/**
 * InterPodAffinity as a filter and a score: a SchedulerCache with placed pods, then the
 * per-pod pre-filter and the per-node checks, in upstream's words.
 */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { Decider, fitErrorMessage } from "../../../../src/hub/scheduler/decide.js";
import { SchedulerCache } from "../../../../src/hub/scheduler/node-info.js";
import { computePodInfo } from "../../../../src/hub/scheduler/pod-info.js";
import {
  type FilterFailure,
  filterNode,
  podConstraints,
  prepareRelations,
} from "../../../../src/hub/scheduler/predicates.js";

const HOST = "kubernetes.io/hostname";
const ZONE = "topology.kubernetes.io/zone";

function node(name: string, labels: Record<string, string> = {}): KubeObject {
  return {
    kind: "Node",
    metadata: { name, labels: { [HOST]: name, ...labels } },
    status: {
      allocatable: { cpu: "4", memory: "8Gi", pods: "110" },
      conditions: [{ type: "Ready", status: "True" }],
    },
  };
}

let seq = 0;
function pod(labels: Record<string, string>, affinity?: unknown, ns = "ns", deleting = false): KubeObject {
  const name = `p${++seq}`;
  return {
    kind: "Pod",
    metadata: {
      name,
      namespace: ns,
      uid: `u-${name}`,
      labels,
      ...(deleting ? { deletionTimestamp: "2024-01-01T00:00:00Z" } : {}),
    },
    spec: { containers: [{ name: "c", image: "i" }], ...(affinity ? { affinity } : {}) },
  };
}

function cluster(nodes: KubeObject[], placed: [KubeObject, string][] = []): SchedulerCache {
  const c = new SchedulerCache();
  for (const n of nodes) c.upsertNode(n);
  for (const [p, n] of placed) c.place(computePodInfo(p), n);
  return c;
}

const nsLabels = (ns: string) => ({ ns: { team: "a" }, other: { team: "b" } })[ns];

/** node name → first reason (or "ok") */
function verdicts(p: KubeObject, cache: SchedulerCache): Record<string, string> {
  const c = prepareRelations(podConstraints(p as never, computePodInfo(p), [], nsLabels), cache.list());
  const out: Record<string, string> = {};
  for (const n of cache.list()) out[n.name] = filterNode(c, n)?.reasons[0] ?? "ok";
  return out;
}

const anti = (key: string, matchLabels: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  podAntiAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: [
      { topologyKey: key, labelSelector: { matchLabels }, ...extra },
    ],
  },
});
const aff = (key: string, matchLabels: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  podAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: [
      { topologyKey: key, labelSelector: { matchLabels }, ...extra },
    ],
  },
});

const ANTI = "node(s) didn't match pod anti-affinity rules";
const AFF = "node(s) didn't match pod affinity rules";
const EXISTING = "node(s) didn't satisfy existing pods anti-affinity rules";

describe("InterPodAffinity filter", () => {
  it("required anti-affinity on the hostname keeps replicas apart", () => {
    const cache = cluster([node("a"), node("b"), node("c")], [[pod({ app: "web" }), "a"]]);
    const p = pod({ app: "web" }, anti(HOST, { app: "web" }));
    expect(verdicts(p, cache)).toEqual({ a: ANTI, b: "ok", c: "ok" });
    const c = prepareRelations(podConstraints(p as never, computePodInfo(p)), cache.list());
    expect(filterNode(c, cache.node("a")!)?.unresolvable).toBe(false);
  });

  it("anti-affinity over zones blocks the whole zone; a node without the key is not in it", () => {
    const cache = cluster(
      [node("a", { [ZONE]: "z1" }), node("b", { [ZONE]: "z1" }), node("c", { [ZONE]: "z2" }), node("d")],
      [[pod({ app: "web" }), "a"]],
    );
    expect(verdicts(pod({ app: "web" }, anti(ZONE, { app: "web" })), cache)).toEqual({
      a: ANTI,
      b: ANTI,
      c: "ok",
      d: "ok",
    });
  });

  it("only pods in the term's namespaces count (default: the pod's own; namespaceSelector)", () => {
    const cache = cluster([node("a"), node("b")], [[pod({ app: "web" }, undefined, "other"), "a"]]);
    expect(verdicts(pod({ app: "web" }, anti(HOST, { app: "web" })), cache)).toEqual({ a: "ok", b: "ok" });
    expect(
      verdicts(pod({ app: "web" }, anti(HOST, { app: "web" }, { namespaces: ["other"] })), cache),
    ).toEqual({
      a: ANTI,
      b: "ok",
    });
    const bySelector = anti(HOST, { app: "web" }, { namespaceSelector: { matchLabels: { team: "b" } } });
    expect(verdicts(pod({ app: "web" }, bySelector), cache)).toEqual({ a: ANTI, b: "ok" });
    const otherTeam = anti(HOST, { app: "web" }, { namespaceSelector: { matchLabels: { team: "a" } } });
    expect(verdicts(pod({ app: "web" }, otherTeam), cache)).toEqual({ a: "ok", b: "ok" });
  });

  it("required affinity needs a matching pod in the node's domain (unresolvable otherwise)", () => {
    const cache = cluster(
      [node("a", { [ZONE]: "z1" }), node("b", { [ZONE]: "z2" }), node("c", { [ZONE]: "z2" }), node("d")],
      [[pod({ app: "db" }), "b"]],
    );
    const p = pod({ app: "web" }, aff(ZONE, { app: "db" }));
    expect(verdicts(p, cache)).toEqual({ a: AFF, b: "ok", c: "ok", d: AFF });
    const c = prepareRelations(podConstraints(p as never, computePodInfo(p)), cache.list());
    expect(filterNode(c, cache.node("a")!)?.unresolvable).toBe(true);
  });

  it("the first pod of a self-affine group may start where the topology key exists", () => {
    const cache = cluster([node("a", { [ZONE]: "z1" }), node("b")]);
    expect(verdicts(pod({ app: "cache" }, aff(ZONE, { app: "cache" })), cache)).toEqual({ a: "ok", b: AFF });
    // not self-affine: it must wait for a db pod
    expect(verdicts(pod({ app: "web" }, aff(ZONE, { app: "db" })), cache)).toEqual({ a: AFF, b: AFF });
  });

  it("existing pods' anti-affinity is honoured by an incoming pod without affinity (symmetry)", () => {
    const cache = cluster([node("a"), node("b")], [[pod({ app: "loner" }, anti(HOST, { app: "web" })), "a"]]);
    expect(verdicts(pod({ app: "web" }), cache)).toEqual({ a: EXISTING, b: "ok" });
    expect(verdicts(pod({ app: "api" }), cache)).toEqual({ a: "ok", b: "ok" });
  });

  it("matchLabelKeys narrows the selector to the incoming pod's own value", () => {
    const cache = cluster([node("a"), node("b")], [[pod({ app: "web", "pod-template-hash": "old" }), "a"]]);
    const p = pod(
      { app: "web", "pod-template-hash": "new" },
      anti(HOST, { app: "web" }, { matchLabelKeys: ["pod-template-hash"] }),
    );
    expect(verdicts(p, cache)).toEqual({ a: "ok", b: "ok" });
  });

  it("the FailedScheduling text for a fourth replica on three nodes", () => {
    const cache = cluster(
      [node("a"), node("b"), node("c")],
      [
        [pod({ app: "web" }), "a"],
        [pod({ app: "web" }), "b"],
        [pod({ app: "web" }), "c"],
      ],
    );
    const p = pod({ app: "web" }, anti(HOST, { app: "web" }));
    const c = prepareRelations(podConstraints(p as never, computePodInfo(p)), cache.list());
    const d = new Decider().decide(c, cache.list());
    expect(d).toEqual({
      message:
        "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
    });
    const failures = cache.list().map((n) => filterNode(c, n)) as FilterFailure[];
    expect(fitErrorMessage(3, failures)).toBe("message" in d ? d.message : "");
  });
});

describe("InterPodAffinity score", () => {
  const preferred = (kind: "podAffinity" | "podAntiAffinity", matchLabels: Record<string, string>) => ({
    [kind]: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 100, podAffinityTerm: { topologyKey: ZONE, labelSelector: { matchLabels } } },
      ],
    },
  });

  it("preferred affinity pulls the pod to the zone of its peers; anti-affinity pushes it away", () => {
    const nodes = [node("a", { [ZONE]: "z1" }), node("b", { [ZONE]: "z2" }), node("c", { [ZONE]: "z3" })];
    const cache = cluster(nodes, [[pod({ app: "db" }), "b"]]);
    const decide = (p: KubeObject) =>
      new Decider().decide(
        prepareRelations(podConstraints(p as never, computePodInfo(p)), cache.list()),
        cache.list(),
      );
    expect(decide(pod({ app: "web" }, preferred("podAffinity", { app: "db" })))).toMatchObject({ node: "b" });
    // without a preference the least-loaded empty node wins (a, first in the rotation)
    expect(decide(pod({ app: "web" }))).toMatchObject({ node: "a" });
    const away = decide(pod({ app: "web" }, preferred("podAntiAffinity", { app: "db" })));
    expect(away).not.toMatchObject({ node: "b" });
  });
});
