/**
 * The ReplicaSet and Deployment controllers and the garbage collector on a running hub
 * (real SQLite store, LocalClient, informers), with simulated nodes; the hub's scheduler binds pods.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { type Client, refs } from "../../../../src/client/client.js";
import { startHub, type TestHub } from "../../../helpers/hub.js";
import { KubeletSim } from "../../../helpers/kubelet-sim.js";

const POLL = { timeout: 20_000, interval: 100 };
const NODE = "int-apps-n1";

describe("apps controllers and garbage collector on a running hub", () => {
  let t: TestHub;
  let c: Client;
  let sim: KubeletSim;
  let seq = 0;

  beforeAll(async () => {
    t = await startHub();
    c = t.hub.client!;
    sim = new KubeletSim(c);
    await sim.addNode({ name: NODE });
    await sim.start();
  });
  afterAll(async () => {
    sim?.stop();
    await t?.stop();
  });

  async function namespace(): Promise<string> {
    const ns = `int-apps-${process.pid}-${++seq}`;
    await c.create(refs.namespaces, undefined, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: ns },
    });
    return ns;
  }

  const pods = async (ns: string) => (await c.list(refs.pods, ns)).items;
  const live = (ps: KubeObject[]) => ps.filter((p) => !p.metadata.deletionTimestamp);

  function replicaSet(name: string, replicas: number): KubeObject {
    return {
      metadata: { name },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: "c", image: "busybox" }] },
        },
      },
    };
  }

  it("ReplicaSet: keeps replicas, replaces deleted pods, adopts orphans and releases relabelled pods", async () => {
    const ns = await namespace();
    // an orphan matching the selector, there first, is adopted instead of a new pod
    await c.create(refs.pods, ns, {
      metadata: { name: "stray", labels: { app: "rs1" } },
      spec: { containers: [{ name: "c", image: "busybox" }] },
    });
    const rs = await c.create(refs.replicasets, ns, replicaSet("rs1", 3));
    await expect
      .poll(async () => (await c.get(refs.replicasets, ns, "rs1"))?.status, POLL)
      .toMatchObject({ replicas: 3, readyReplicas: 3, availableReplicas: 3, observedGeneration: 1 });
    expect((await c.get(refs.pods, ns, "stray"))?.metadata.ownerReferences?.[0]).toMatchObject({
      kind: "ReplicaSet",
      uid: rs.metadata.uid,
      controller: true,
    });
    expect(live(await pods(ns))).toHaveLength(3);
    const first = live(await pods(ns)).find((p) => p.metadata.name !== "stray");
    await c.delete(refs.pods, ns, first!.metadata.name!);
    await expect.poll(async () => live(await pods(ns)).length, POLL).toBe(3);
    expect((await pods(ns)).map((p) => p.metadata.name)).not.toContain(first!.metadata.name);
    // a pod relabelled out of the selector is released and replaced
    const victim = live(await pods(ns))[0]!;
    await c.mutate(refs.pods, ns, victim.metadata.name!, (p) => ({
      ...p,
      metadata: { ...p.metadata, labels: { app: "elsewhere" } },
    }));
    await expect
      .poll(
        async () => (await c.get(refs.pods, ns, victim.metadata.name!))?.metadata.ownerReferences ?? [],
        POLL,
      )
      .toEqual([]);
    await expect
      .poll(async () => live(await pods(ns)).filter((p) => p.metadata.labels?.app === "rs1").length, POLL)
      .toBe(3);
  });

  it("GC: a dependent of an owner that never existed is deleted; background delete takes dependents", async () => {
    const ns = await namespace();
    await c.create(refs.configmaps, ns, {
      metadata: {
        name: "dangling",
        ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "ghost", uid: "00000000-dead" }],
      },
    });
    await expect.poll(async () => c.get(refs.configmaps, ns, "dangling"), POLL).toBeUndefined();
    const rs = await c.create(refs.replicasets, ns, replicaSet("rs2", 2));
    await c.create(refs.configmaps, ns, {
      metadata: {
        name: "owned",
        ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs2", uid: rs.metadata.uid! }],
      },
    });
    await expect.poll(async () => live(await pods(ns)).length, POLL).toBe(2);
    expect(await c.get(refs.configmaps, ns, "owned")).toBeDefined(); // live owner: kept
    await c.delete(refs.replicasets, ns, "rs2", { propagationPolicy: "Background" });
    await expect.poll(async () => c.get(refs.configmaps, ns, "owned"), POLL).toBeUndefined();
    await expect.poll(async () => (await pods(ns)).length, POLL).toBe(0);
  });

  it("GC: foreground keeps the owner (with foregroundDeletion) until blocking dependents are gone", async () => {
    const ns = await namespace();
    await c.create(refs.replicasets, ns, replicaSet("rs3", 2));
    await expect.poll(async () => live(await pods(ns)).length, POLL).toBe(2);
    // a finalizer on one pod keeps it (and so its owner) around
    const [held] = await pods(ns);
    await c.mutate(refs.pods, ns, held!.metadata.name!, (p) => ({
      ...p,
      metadata: { ...p.metadata, finalizers: ["example.com/hold"] },
    }));
    await c.delete(refs.replicasets, ns, "rs3", { propagationPolicy: "Foreground" });
    const owner = await c.get(refs.replicasets, ns, "rs3");
    expect(owner?.metadata.finalizers).toContain("foregroundDeletion");
    await expect.poll(async () => (await pods(ns)).length, POLL).toBe(1);
    expect((await c.get(refs.pods, ns, held!.metadata.name!))?.metadata.deletionTimestamp).toBeDefined();
    expect(await c.get(refs.replicasets, ns, "rs3")).toBeDefined();
    await c.mutate(refs.pods, ns, held!.metadata.name!, (p) => ({
      ...p,
      metadata: { ...p.metadata, finalizers: [] },
    }));
    await expect.poll(async () => c.get(refs.replicasets, ns, "rs3"), POLL).toBeUndefined();
  });

  it("GC: orphan removes the owner reference and keeps the dependents", async () => {
    const ns = await namespace();
    await c.create(refs.replicasets, ns, replicaSet("rs4", 2));
    await expect.poll(async () => live(await pods(ns)).length, POLL).toBe(2);
    await c.delete(refs.replicasets, ns, "rs4", { propagationPolicy: "Orphan" });
    await expect.poll(async () => c.get(refs.replicasets, ns, "rs4"), POLL).toBeUndefined();
    const left = await pods(ns);
    expect(left).toHaveLength(2);
    for (const p of left) expect(p.metadata.ownerReferences ?? []).toEqual([]);
  });

  it("Deployment: Progressing=False ProgressDeadlineExceeded when pods never become ready", async () => {
    const ns = await namespace();
    await c.create(refs.deployments, ns, {
      metadata: { name: "stuck" },
      spec: {
        replicas: 1,
        progressDeadlineSeconds: 1,
        selector: { matchLabels: { app: "stuck" } },
        template: {
          metadata: { labels: { app: "stuck" } },
          // bound to a node no kubelet serves: the pod stays Pending
          spec: { nodeName: "int-apps-nowhere", containers: [{ name: "c", image: "busybox" }] },
        },
      },
    });
    await expect
      .poll(async () => {
        const st = (await c.get(refs.deployments, ns, "stuck"))?.status as
          | { conditions?: { type: string; status: string; reason: string }[] }
          | undefined;
        return st?.conditions?.find((x) => x.type === "Progressing");
      }, POLL)
      .toMatchObject({ status: "False", reason: "ProgressDeadlineExceeded" });
    const r = await t.kubectl(["rollout", "status", "deploy/stuck", "-n", ns, "--timeout=10s"], {
      allowFail: true,
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("exceeded its progress deadline");
  });

  it("Deployment: Recreate replaces all pods only after the old ones are gone", async () => {
    const ns = await namespace();
    const spec = (image: string) => ({
      replicas: 2,
      strategy: { type: "Recreate" },
      selector: { matchLabels: { app: "rc" } },
      template: { metadata: { labels: { app: "rc" } }, spec: { containers: [{ name: "c", image }] } },
    });
    await c.create(refs.deployments, ns, { metadata: { name: "rc" }, spec: spec("busybox:1") });
    await expect
      .poll(
        async () =>
          ((await c.get(refs.deployments, ns, "rc"))?.status as { availableReplicas?: number })
            ?.availableReplicas,
        POLL,
      )
      .toBe(2);
    await c.mutate(refs.deployments, ns, "rc", (d) => ({ ...d, spec: spec("busybox:2") }));
    await expect
      .poll(async () => {
        const ps = live(await pods(ns));
        return ps.map((p) => (p.spec as { containers: { image: string }[] }).containers[0]!.image).sort();
      }, POLL)
      .toEqual(["busybox:2", "busybox:2"]);
    const rss = (await c.list(refs.replicasets, ns)).items;
    expect(rss.map((r) => (r.spec as { replicas: number }).replicas).sort()).toEqual([0, 2]);
  });
});
