import { describe, expect, it, vi } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { type ResourceRef, refs } from "../../../../src/client/client.js";
import { DaemonSetController } from "../../../../src/hub/controllers/daemonset/daemonset-controller.js";
import {
  nodeShouldRunDaemonPod,
  targetNodeName,
  tolerates,
} from "../../../../src/hub/controllers/daemonset/node-eligibility.js";
import { controllerFixture, eventsOf, markRunningReady } from "../../../helpers/fake-controller-deps.js";

const node = (
  name: string,
  extra: Partial<KubeObject> = {},
  labels: Record<string, string> = {},
): KubeObject => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name, labels: { "kubernetes.io/hostname": name, ...labels } },
  spec: {},
  ...extra,
});

const ds = (image = "agent:1", extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "DaemonSet",
  metadata: { name: "agent", namespace: "ns1", generation: 1 },
  spec: {
    selector: { matchLabels: { app: "agent" } },
    template: {
      metadata: { labels: { app: "agent" } },
      spec: { containers: [{ name: "c", image }], ...extra },
    },
  },
});

const setup = (nodes: KubeObject[], set = ds()) =>
  controllerFixture(
    (deps, informers) => new DaemonSetController(deps, informers),
    [...nodes.map((n): [ResourceRef, KubeObject] => [refs.nodes, n]), [refs.daemonsets, set]],
  );

/** what a scheduler + kubelet would do: bind to the pinned node, then Running/Ready */
async function runAll(f: Awaited<ReturnType<typeof setup>>) {
  for (const p of f.client.objects(refs.pods, "ns1")) {
    if ((p.status as { phase?: string }).phase === "Running") continue;
    await f.client.update(refs.pods, "ns1", {
      ...p,
      spec: { ...(p.spec as object), nodeName: targetNodeName(p) },
    });
    await markRunningReady(f.client, "ns1", p.metadata.name ?? "");
  }
}

describe("node eligibility", () => {
  it("daemon tolerations cover cordons and unreachable nodes, not arbitrary taints", () => {
    const spec = {
      tolerations: [
        { key: "node.kubernetes.io/unschedulable", operator: "Exists" as const, effect: "NoSchedule" },
        { key: "node.kubernetes.io/unreachable", operator: "Exists" as const, effect: "NoExecute" },
      ],
    };
    const cordoned = node("a", {
      spec: {
        unschedulable: true,
        taints: [{ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" }],
      },
    });
    expect(nodeShouldRunDaemonPod(spec, cordoned)).toEqual({ shouldRun: true, shouldContinueRunning: true });
    const gpu = node("b", { spec: { taints: [{ key: "gpu", value: "yes", effect: "NoSchedule" }] } });
    expect(nodeShouldRunDaemonPod(spec, gpu)).toEqual({ shouldRun: false, shouldContinueRunning: true });
    const evict = node("c", { spec: { taints: [{ key: "dedicated", effect: "NoExecute" }] } });
    expect(nodeShouldRunDaemonPod(spec, evict)).toEqual({ shouldRun: false, shouldContinueRunning: false });
    expect(tolerates({ operator: "Exists" }, { key: "anything", effect: "NoExecute" })).toBe(true);
    expect(tolerates({ key: "gpu", value: "no" }, { key: "gpu", value: "yes", effect: "NoSchedule" })).toBe(
      false,
    );
  });

  it("honours nodeSelector and required node affinity expressions", () => {
    const arm = node("a", {}, { "kubernetes.io/arch": "arm64", zone: "3" });
    const bySelector = { nodeSelector: { "kubernetes.io/arch": "amd64" } };
    expect(nodeShouldRunDaemonPod(bySelector, arm).shouldRun).toBe(false);
    const byAffinity = {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: "zone", operator: "Gt" as const, values: ["2"] }] },
            ],
          },
        },
      },
    };
    expect(nodeShouldRunDaemonPod(byAffinity, arm).shouldRun).toBe(true);
    expect(nodeShouldRunDaemonPod(byAffinity, node("b", {}, { zone: "1" })).shouldRun).toBe(false);
  });
});

describe("DaemonSet reconcile", () => {
  it("creates one pinned pod per eligible node with upstream labels, tolerations and events", async () => {
    const f = await setup([
      node("n1"),
      node("n2"),
      node("tainted", { spec: { taints: [{ key: "gpu", effect: "NoSchedule" }] } }),
    ]);
    await f.c.reconcile("ns1/agent");
    const pods = f.client.objects(refs.pods, "ns1");
    expect(pods.map(targetNodeName).sort()).toEqual(["n1", "n2"]);
    const p = pods[0]!;
    expect(p.metadata.generateName).toBe("agent-");
    expect(p.metadata.labels?.["controller-revision-hash"]).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(p.metadata.labels?.["pod-template-generation"]).toBe("1");
    expect(p.metadata.ownerReferences?.[0]).toMatchObject({
      kind: "DaemonSet",
      name: "agent",
      controller: true,
    });
    const spec = p.spec as { nodeName?: string; tolerations: { key: string }[]; affinity: unknown };
    expect(spec.nodeName).toBeUndefined();
    expect(spec.affinity).toEqual({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchFields: [{ key: "metadata.name", operator: "In", values: [targetNodeName(p)] }] },
          ],
        },
      },
    });
    expect(spec.tolerations.map((t) => t.key)).toContain("node.kubernetes.io/unreachable");
    const revs = f.client.objects(refs.controllerrevisions, "ns1");
    expect(revs).toHaveLength(1);
    expect(revs[0]!.metadata.name).toBe(`agent-${p.metadata.labels?.["controller-revision-hash"]}`);
    expect(f.client.objects(refs.daemonsets, "ns1")[0]!.status).toMatchObject({
      desiredNumberScheduled: 2,
      currentNumberScheduled: 2,
      numberReady: 0,
      numberAvailable: 0,
      numberUnavailable: 2,
      updatedNumberScheduled: 2,
      observedGeneration: 1,
    });
    await vi.waitFor(() =>
      expect(
        eventsOf(f.client).filter((e) => e.startsWith("SuccessfulCreate: Created pod: agent-")),
      ).toHaveLength(2),
    );

    // idempotent: a second pass changes nothing
    const before = f.client.actions.length;
    await f.c.reconcile("ns1/agent");
    expect(f.client.actions.slice(before)).toEqual([]);
  });

  it("counts ready pods, follows node removal and rolls a new template one node at a time", async () => {
    const f = await setup([node("n1"), node("n2"), node("n3")]);
    await f.c.reconcile("ns1/agent");
    await runAll(f);
    await f.c.reconcile("ns1/agent");
    expect(f.client.objects(refs.daemonsets, "ns1")[0]!.status).toMatchObject({
      numberReady: 3,
      numberAvailable: 3,
      numberUnavailable: 0,
    });

    await f.client.delete(refs.nodes, undefined, "n3");
    await f.c.reconcile("ns1/agent");
    expect(f.client.objects(refs.pods, "ns1").map(targetNodeName).sort()).toEqual(["n1", "n2"]);

    const cur = f.client.objects(refs.daemonsets, "ns1")[0]!;
    f.client.seed(refs.daemonsets, {
      ...cur,
      metadata: { ...cur.metadata, generation: 2 },
      spec: ds("agent:2").spec,
    });
    const mark = f.client.actions.length;
    await f.c.reconcile("ns1/agent");
    const deletes = f.client.actions.slice(mark).filter((a) => a.verb === "delete" && a.resource === "pods");
    expect(deletes).toHaveLength(1); // maxUnavailable 1
    await f.c.reconcile("ns1/agent"); // the emptied node gets a new-template pod
    const images = f.client
      .objects(refs.pods, "ns1")
      .map((p) => (p.spec as { containers: { image: string }[] }).containers[0]!.image)
      .sort();
    expect(images).toEqual(["agent:1", "agent:2"]);
    // the new pod is not ready yet: nothing more goes down
    const mark2 = f.client.actions.length;
    await f.c.reconcile("ns1/agent");
    expect(f.client.actions.slice(mark2).filter((a) => a.verb === "delete")).toEqual([]);
    await runAll(f);
    await f.c.reconcile("ns1/agent");
    await f.c.reconcile("ns1/agent");
    await runAll(f);
    await f.c.reconcile("ns1/agent");
    const all = f.client
      .objects(refs.pods, "ns1")
      .map((p) => (p.spec as { containers: { image: string }[] }).containers[0]!.image);
    expect(all).toEqual(["agent:2", "agent:2"]);
    expect(f.client.objects(refs.controllerrevisions, "ns1")).toHaveLength(2);
    expect(f.client.objects(refs.daemonsets, "ns1")[0]!.status).toMatchObject({
      updatedNumberScheduled: 2,
      numberAvailable: 2,
      observedGeneration: 2,
    });
  });

  it("replaces a failed daemon pod and warns", async () => {
    const f = await setup([node("n1")]);
    await f.c.reconcile("ns1/agent");
    const p = f.client.objects(refs.pods, "ns1")[0]!;
    await f.client.mutate(
      refs.pods,
      "ns1",
      p.metadata.name ?? "",
      (c) => ({ ...c, status: { phase: "Failed" } }),
      { status: true },
    );
    await f.c.reconcile("ns1/agent");
    // upstream deletes the failed pod and creates its replacement in the same pass
    const after = f.client.objects(refs.pods, "ns1");
    expect(after).toHaveLength(1);
    expect(after[0]!.metadata.name).not.toBe(p.metadata.name);
    await vi.waitFor(() =>
      expect(
        eventsOf(f.client).some((e) =>
          e.startsWith(`FailedDaemonPod: Found failed daemon pod ns1/${p.metadata.name} on node n1`),
        ),
      ).toBe(true),
    );
  });
});
