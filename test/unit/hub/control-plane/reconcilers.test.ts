/**
 * Reconcile tests with the recording fake client: the scheduler (binds, explains, honours PV
 * node affinity), the node lifecycle controller (stale lease → Unknown + taints, renewal →
 * healed, opt-in eviction) and the disruption controller (status written once).
 */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { refs } from "../../../../src/client/client.js";
import { DisruptionController } from "../../../../src/hub/controllers/disruption/disruption-controller.js";
import { NodeLifecycleController } from "../../../../src/hub/controllers/node-lifecycle/node-lifecycle-controller.js";
import type { BindRequest, PodBinder } from "../../../../src/hub/scheduler/binding.js";
import { applyBinding } from "../../../../src/hub/scheduler/binding.js";
import { Scheduler } from "../../../../src/hub/scheduler/scheduler.js";
import { FakeClient } from "../../../helpers/fake-client.js";
import { controllerDeps } from "../../../helpers/fake-controller-deps.js";

function node(name: string, labels: Record<string, string> = {}): KubeObject {
  return {
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...labels } },
    spec: {},
    status: {
      allocatable: { cpu: "2", memory: "2Gi", pods: "10" },
      conditions: [{ type: "Ready", status: "True" }],
    },
  };
}

function pod(
  name: string,
  spec: Record<string, unknown> = {},
  labels: Record<string, string> = {},
): KubeObject {
  return {
    kind: "Pod",
    metadata: { name, namespace: "ns", labels },
    spec: { containers: [{ name: "c", image: "i" }], ...spec },
    status: { phase: "Pending" },
  };
}

class FakeBinder implements PodBinder {
  readonly binds: string[] = [];
  constructor(private readonly client: FakeClient) {}
  async bind(r: BindRequest): Promise<void> {
    this.binds.push(`${r.namespace}/${r.name}->${r.node}`);
    const cur = (await this.client.get(refs.pods, r.namespace, r.name))!;
    this.client.seed(refs.pods, applyBinding(cur, r, new Date()));
  }
}

const deps = controllerDeps;

describe("scheduler reconcile", () => {
  it("binds a fitting pod once and records Scheduled", async () => {
    const c = new FakeClient();
    c.seed(refs.nodes, node("a", { disk: "ssd" }));
    c.seed(refs.nodes, node("b"));
    c.seed(refs.pods, pod("p", { nodeSelector: { disk: "ssd" } }));
    const binder = new FakeBinder(c);
    const s = new Scheduler({ ...deps(c), binder });
    await s.start();
    await expect.poll(() => binder.binds).toEqual(["ns/p->a"]);
    await s.reconcile("ns/p"); // idempotent: already bound
    expect(binder.binds).toEqual(["ns/p->a"]);
    await expect
      .poll(() => c.objects(refs.events).map((e) => `${e.reason}: ${e.message}`))
      .toEqual(["Scheduled: Successfully assigned ns/p to a"]);
    s.stop();
  });

  it("explains an unschedulable pod, writes the condition once and backs off", async () => {
    const c = new FakeClient();
    c.seed(refs.nodes, node("a"));
    c.seed(refs.pods, pod("p", { nodeSelector: { disk: "ssd" } }));
    const binder = new FakeBinder(c);
    const s = new Scheduler({ ...deps(c), binder, backoffMs: 60_000 });
    await s.start();
    await s.idle();
    const msg =
      "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.";
    await expect
      .poll(() => {
        const p = c.objects(refs.pods)[0]!;
        return (p.status as { conditions?: { reason?: string; message?: string }[] }).conditions?.[0]
          ?.message;
      })
      .toBe(msg);
    const r = await s.reconcile("ns/p");
    expect(r).toEqual({ requeueAfterMs: 60_000 }); // capped backoff
    expect(c.verbs().filter((a) => a.startsWith("updateStatus pods"))).toHaveLength(1);
    expect(binder.binds).toEqual([]);
    const ev = c.objects(refs.events).find((e) => e.reason === "FailedScheduling");
    expect(ev?.message).toBe(msg);
    // a matching node arrives: the pod is retried at once
    c.seed(refs.nodes, node("b", { disk: "ssd" }));
    await expect.poll(() => binder.binds).toEqual(["ns/p->b"]);
    s.stop();
  });

  it("honours the node affinity of a bound PV and reports a missing PVC", async () => {
    const c = new FakeClient();
    c.seed(refs.nodes, node("a"));
    c.seed(refs.nodes, node("b"));
    c.seed(refs.persistentvolumes, {
      kind: "PersistentVolume",
      metadata: { name: "pv1" },
      spec: {
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["b"] }] },
            ],
          },
        },
      },
    });
    c.seed(refs.persistentvolumeclaims, {
      kind: "PersistentVolumeClaim",
      metadata: { name: "data", namespace: "ns" },
      spec: { volumeName: "pv1" },
    });
    c.seed(refs.pods, pod("p", { volumes: [{ name: "d", persistentVolumeClaim: { claimName: "data" } }] }));
    c.seed(refs.pods, pod("q", { volumes: [{ name: "d", persistentVolumeClaim: { claimName: "nope" } }] }));
    const binder = new FakeBinder(c);
    const s = new Scheduler({ ...deps(c), binder, backoffMs: 60_000 });
    await s.start();
    await expect.poll(() => binder.binds).toEqual(["ns/p->b"]);
    await expect
      .poll(() => c.objects(refs.events).find((e) => e.reason === "FailedScheduling")?.message)
      .toBe(
        '0/2 nodes are available: persistentvolumeclaim "nope" not found. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
      );
    s.stop();
  });
});

describe("binding", () => {
  it("refuses a pod already bound or being deleted", () => {
    const bound = { ...pod("p"), spec: { nodeName: "a", containers: [] } };
    expect(() => applyBinding(bound, { namespace: "ns", name: "p", node: "b" }, new Date())).toThrow(
      /pod p is already assigned to node "a"/,
    );
    const dying = {
      ...pod("p"),
      metadata: { ...pod("p").metadata, deletionTimestamp: "2025-01-01T00:00:00Z" },
    };
    expect(() => applyBinding(dying, { namespace: "ns", name: "p", node: "b" }, new Date())).toThrow(
      /being deleted/,
    );
  });
});

describe("node lifecycle reconcile", () => {
  it("marks a node without lease renewals Unknown and tainted, then heals it", async () => {
    const c = new FakeClient();
    let t = Date.parse("2025-01-01T00:00:00Z");
    const now = () => new Date(t);
    c.seed(refs.nodes, node("a"));
    c.seed(refs.pods, { ...pod("p", { nodeName: "a" }), status: { phase: "Running" } });
    const ctl = new NodeLifecycleController(deps(c, now), {
      gracePeriodSeconds: 40,
      podEvictionTimeoutSeconds: 60,
    });
    await ctl.start();
    await ctl.reconcile("a"); // first sight starts the grace period
    t += 41_000;
    await ctl.reconcile("a");
    await expect
      .poll(() => {
        const n = c.objects(refs.nodes)[0]!;
        const ready = (n.status as { conditions: { status: string; reason?: string }[] }).conditions[0];
        const taints = ((n.spec as { taints?: { key: string; effect: string }[] }).taints ?? []).map(
          (x) => x.effect,
        );
        return `${ready?.status}/${ready?.reason} ${taints.sort().join(",")}`;
      })
      .toBe("Unknown/NodeStatusUnknown NoExecute,NoSchedule");
    // opt-in eviction: not before 60 s after the taint, then the pod is deleted
    t += 30_000;
    await ctl.reconcile("a");
    expect(c.verbs().some((a) => a.startsWith("delete pods"))).toBe(false);
    t += 31_000;
    await ctl.reconcile("a");
    expect(c.verbs()).toContain("delete pods ns/p");
    // the lease is renewed: conditions and taints are restored
    c.seed(refs.leases, {
      kind: "Lease",
      metadata: { name: "a", namespace: "kube-node-lease" },
      spec: { renewTime: "x" },
    });
    await ctl.reconcile("a");
    await expect
      .poll(() => {
        const n = c.objects(refs.nodes)[0]!;
        return `${(n.status as { conditions: { status: string }[] }).conditions[0]?.status} ${((n.spec as { taints?: unknown[] }).taints ?? []).length}`;
      })
      .toBe("True 0");
    ctl.stop();
  });

  it("leaves a fresh-lease node the edge link marked link-lost alone (the link restores it)", async () => {
    const c = new FakeClient();
    const linkLost = {
      type: "Ready",
      status: "Unknown",
      reason: "NodeStatusUnknown",
      message: "edgekube-agent stopped posting node status (link lost)",
    };
    c.seed(refs.nodes, { ...node("a"), status: { conditions: [linkLost] } });
    const ctl = new NodeLifecycleController(deps(c), { gracePeriodSeconds: 40 });
    await ctl.start();
    await ctl.reconcile("a"); // first sight: the lease counts as fresh
    const n = c.objects(refs.nodes)[0]!;
    expect((n.status as { conditions: unknown[] }).conditions).toEqual([linkLost]);
    expect(c.verbs().filter((a) => a.includes("nodes"))).toEqual([]);
    ctl.stop();
  });
});

describe("disruption controller reconcile", () => {
  it("writes the budget status and nothing when it is unchanged", async () => {
    const c = new FakeClient();
    for (const n of ["a", "b", "c"]) {
      c.seed(refs.pods, {
        ...pod(n, {}, { app: "web" }),
        status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
      });
    }
    c.seed(refs.poddisruptionbudgets, {
      kind: "PodDisruptionBudget",
      metadata: { name: "web", namespace: "ns", generation: 1 },
      spec: { minAvailable: 2, selector: { matchLabels: { app: "web" } } },
    });
    const ctl = new DisruptionController(deps(c));
    await ctl.start();
    await expect
      .poll(() => {
        const s = c.objects(refs.poddisruptionbudgets)[0]!.status as Record<string, unknown> | undefined;
        return (
          s &&
          `${s.expectedPods}/${s.desiredHealthy}/${s.currentHealthy}/${s.disruptionsAllowed}/${s.observedGeneration}`
        );
      })
      .toBe("3/2/3/1/1");
    const writes = c.verbs().filter((a) => a.startsWith("updateStatus")).length;
    await expect.poll(() => ctl.pdbs.get("ns/web")?.status !== undefined).toBe(true);
    await ctl.reconcile("ns/web");
    expect(c.verbs().filter((a) => a.startsWith("updateStatus")).length).toBe(writes);
    const cond = (
      c.objects(refs.poddisruptionbudgets)[0]!.status as { conditions: { type: string; reason: string }[] }
    ).conditions[0];
    expect(cond).toMatchObject({ type: "DisruptionAllowed", reason: "SufficientPods" });
    ctl.stop();
  });
});
