/**
 * Scheduler, binding, node lifecycle and pod CIDRs on a running hub with simulated nodes
 * (real SQLite store, in-process client, KubeletSim).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { refs } from "../../../../src/client/client.js";
import { startHub, type TestHub } from "../../../helpers/hub.js";
import { KubeletSim } from "../../../helpers/kubelet-sim.js";

let t: TestHub;
let sim: KubeletSim;

function pod(ns: string, name: string, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns },
    spec: { containers: [{ name: "c", image: "busybox" }], ...extra },
  };
}

async function ns(name: string): Promise<void> {
  await t.hub.client!.create(refs.namespaces, undefined, {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name },
  });
}

beforeAll(async () => {
  t = await startHub({ nodeMonitorGracePeriodSeconds: 2 });
  sim = new KubeletSim(t.hub.client!, { leaseRenewMs: 300 });
  await sim.start();
  await sim.addNode({ name: "sched-a", memory: "1Gi" });
  await sim.addNode({ name: "sched-b", memory: "1Gi" });
  await sim.addNode({
    name: "sched-c",
    memory: "1Gi",
    taints: [{ key: "dedicated", value: "x", effect: "NoSchedule" }],
  });
});

afterAll(async () => {
  sim?.stop();
  await t?.stop();
});

describe("scheduler on a running hub", () => {
  it("binds pods to fitting nodes and they run", async () => {
    const c = t.hub.client!;
    await ns("sched-run");
    for (let i = 0; i < 4; i++) await c.create(refs.pods, "sched-run", pod("sched-run", `p${i}`));
    await expect
      .poll(
        async () => {
          const l = await c.list(refs.pods, "sched-run");
          return l.items.map((p) => (p.status as { phase?: string }).phase).join(",");
        },
        { timeout: 15_000 },
      )
      .toBe("Running,Running,Running,Running");
    const l = await c.list(refs.pods, "sched-run");
    for (const p of l.items) {
      expect(["sched-a", "sched-b"]).toContain((p.spec as { nodeName?: string }).nodeName);
      const cond = (p.status as { conditions: { type: string; status: string }[] }).conditions;
      expect(cond.find((x) => x.type === "PodScheduled")?.status).toBe("True");
    }
  });

  it("explains an unschedulable pod in upstream's words and schedules it once a node fits", async () => {
    const c = t.hub.client!;
    await ns("sched-big");
    await c.create(
      refs.pods,
      "sched-big",
      pod("sched-big", "big", {
        containers: [{ name: "c", image: "busybox", resources: { requests: { memory: "4Gi" } } }],
      }),
    );
    const want =
      "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: x}, 2 Insufficient memory. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.";
    await expect
      .poll(
        async () => {
          const p = await c.get(refs.pods, "sched-big", "big");
          const cond = (
            (p?.status ?? {}) as { conditions?: { type: string; reason?: string; message?: string }[] }
          ).conditions?.find((x) => x.type === "PodScheduled");
          return `${cond?.reason}: ${cond?.message}`;
        },
        { timeout: 10_000 },
      )
      .toBe(`Unschedulable: ${want}`);
    const events = await c.list(refs.events, "sched-big");
    expect(events.items.some((e) => e.reason === "FailedScheduling" && e.message === want)).toBe(true);
    await sim.addNode({ name: "sched-d", memory: "8Gi" });
    await expect
      .poll(
        async () =>
          (((await c.get(refs.pods, "sched-big", "big"))?.spec ?? {}) as { nodeName?: string }).nodeName,
        {
          timeout: 10_000,
        },
      )
      .toBe("sched-d");
  });

  it("gives each node a distinct /24 pod CIDR", async () => {
    const c = t.hub.client!;
    await expect
      .poll(
        async () => {
          const l = await c.list(refs.nodes);
          return l.items.filter((n) => (n.spec as { podCIDR?: string }).podCIDR).length;
        },
        { timeout: 10_000 },
      )
      .toBeGreaterThanOrEqual(3);
    const l = await c.list(refs.nodes);
    const cidrs = l.items.map((n) => (n.spec as { podCIDR?: string }).podCIDR).filter(Boolean);
    expect(new Set(cidrs).size).toBe(cidrs.length);
    for (const n of l.items) {
      const s = n.spec as { podCIDR?: string; podCIDRs?: string[] };
      if (s.podCIDR) expect(s.podCIDRs).toEqual([s.podCIDR]);
      if (s.podCIDR) expect(s.podCIDR).toMatch(/^10\.42\.\d+\.0\/24$/);
    }
  });

  it("turns a silent node Unknown with the unreachable taints, keeps its pods, and heals on renewal", async () => {
    const c = t.hub.client!;
    await sim.addNode({ name: "sched-quiet" });
    await ns("sched-quiet");
    await c.create(refs.pods, "sched-quiet", pod("sched-quiet", "q", { nodeName: "sched-quiet" }));
    sim.silence("sched-quiet");
    await expect
      .poll(
        async () => {
          const n = await c.get(refs.nodes, undefined, "sched-quiet");
          const ready = (
            (n?.status ?? {}) as {
              conditions: { type: string; status: string; reason?: string; message?: string }[];
            }
          ).conditions.find((x) => x.type === "Ready");
          const taints = (((n?.spec ?? {}) as { taints?: { key: string; effect: string }[] }).taints ?? [])
            .map((x) => `${x.key}:${x.effect}`)
            .sort();
          return `${ready?.status}/${ready?.reason}/${ready?.message} ${taints.join(",")}`;
        },
        { timeout: 15_000 },
      )
      .toBe(
        "Unknown/NodeStatusUnknown/Kubelet stopped posting node status. node.kubernetes.io/unreachable:NoExecute,node.kubernetes.io/unreachable:NoSchedule",
      );
    expect(await c.get(refs.pods, "sched-quiet", "q")).toBeDefined();
    // the lease is renewed again
    const renewTime = new Date().toISOString().replace("Z", "000Z");
    if (await c.get(refs.leases, "kube-node-lease", "sched-quiet")) {
      await c.mutate(refs.leases, "kube-node-lease", "sched-quiet", (cur) => ({
        ...cur,
        spec: { ...(cur.spec as object), renewTime },
      }));
    } else {
      await c.create(refs.leases, "kube-node-lease", {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: "sched-quiet" },
        spec: { holderIdentity: "sched-quiet", leaseDurationSeconds: 40, renewTime },
      });
    }
    await expect
      .poll(
        async () => {
          const n = await c.get(refs.nodes, undefined, "sched-quiet");
          const ready = (
            (n?.status ?? {}) as { conditions: { type: string; status: string }[] }
          ).conditions.find((x) => x.type === "Ready");
          return `${ready?.status} ${(((n?.spec ?? {}) as { taints?: unknown[] }).taints ?? []).length}`;
        },
        { timeout: 10_000 },
      )
      .toBe("True 0");
  });
});
