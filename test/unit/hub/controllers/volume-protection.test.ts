/**
 * pvc-protection and pv-protection against a recording fake client (finalizer semantics: a
 * delete of an object with finalizers only marks it; dropping the last one removes it), plus
 * the PV controller's part: a volume deleted while bound goes Released once its claim is gone.
 */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { refs } from "../../../../src/client/client.js";
import {
  claimUsers,
  PersistentVolumeController,
  ProtectionController,
  protectionAdmit,
} from "../../../../src/hub/controllers/volume/index.js";
import { FakeClient } from "../../../helpers/fake-client.js";
import { controllerDeps } from "../../../helpers/fake-controller-deps.js";

const now = () => new Date("2024-01-01T00:00:00Z");
const deps = (client: FakeClient) => controllerDeps(client, now);

function claim(name: string, finalizers?: string[]): KubeObject {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace: "ns", uid: `uid-${name}`, ...(finalizers ? { finalizers } : {}) },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, volumeName: "pv-1" },
    status: { phase: "Bound" },
  };
}

function pod(name: string, o: { claim?: string; node?: string; phase?: string; ephemeral?: string } = {}) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "ns", uid: `uid-${name}` },
    spec: {
      ...(o.node ? { nodeName: o.node } : {}),
      containers: [{ name: "c", image: "i" }],
      volumes: [
        ...(o.claim ? [{ name: "d", persistentVolumeClaim: { claimName: o.claim } }] : []),
        ...(o.ephemeral ? [{ name: o.ephemeral, ephemeral: { volumeClaimTemplate: {} } }] : []),
      ],
    },
    status: { phase: o.phase ?? "Running" },
  } as KubeObject;
}

function volume(phase: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: "pv-1", finalizers: ["kubernetes.io/pv-protection"] },
    spec: {
      capacity: { storage: "1Gi" },
      accessModes: ["ReadWriteOnce"],
      persistentVolumeReclaimPolicy: "Retain",
      hostPath: { path: "/srv/x" },
      claimRef: { kind: "PersistentVolumeClaim", namespace: "ns", name: "data", uid: "uid-data" },
    },
    status: { phase },
  };
}

async function settle(...ctls: { idle(): Promise<void> }[]): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 5));
    for (const c of ctls) await c.idle();
  }
}

describe("claimUsers", () => {
  it("counts scheduled, non-terminated pods naming the claim (directly or as an ephemeral volume)", () => {
    const pvc = claim("data");
    expect(
      claimUsers(pvc, [
        pod("a", { claim: "data", node: "n1" }),
        pod("pending", { claim: "data" }),
        pod("done", { claim: "data", node: "n1", phase: "Succeeded" }),
        pod("failed", { claim: "data", node: "n1", phase: "Failed" }),
        pod("other", { claim: "else", node: "n1" }),
        { ...pod("b", { claim: "data", node: "n1" }), metadata: { name: "b", namespace: "other" } },
      ]),
    ).toEqual(["a"]);
    expect(claimUsers(claim("e-d"), [pod("e", { ephemeral: "d", node: "n1" })])).toEqual(["e"]);
  });

  it("admission adds the finalizer to new claims and volumes, once", () => {
    const c = claim("x");
    protectionAdmit("PersistentVolumeClaim", c);
    protectionAdmit("PersistentVolumeClaim", c);
    expect(c.metadata.finalizers).toEqual(["kubernetes.io/pvc-protection"]);
    const v: KubeObject = { kind: "PersistentVolume", metadata: { name: "v", finalizers: ["a/b"] } };
    protectionAdmit("PersistentVolume", v);
    expect(v.metadata.finalizers).toEqual(["a/b", "kubernetes.io/pv-protection"]);
    const p = pod("p");
    protectionAdmit("Pod", p);
    expect(p.metadata.finalizers).toBeUndefined();
  });
});

describe("pvc-protection", () => {
  it("adds the finalizer to an existing claim, and keeps a deleted claim until its pod is gone", async () => {
    const client = new FakeClient();
    client.seed(refs.persistentvolumeclaims, claim("data"));
    client.seed(refs.pods, pod("user", { claim: "data", node: "n1" }));
    const ctl = new ProtectionController(deps(client));
    await ctl.start(new AbortController().signal);
    await settle(ctl);
    const get = () => client.get(refs.persistentvolumeclaims, "ns", "data");
    expect((await get())?.metadata.finalizers).toEqual(["kubernetes.io/pvc-protection"]);

    await client.delete(refs.persistentvolumeclaims, "ns", "data");
    await settle(ctl);
    const held = await get();
    expect(held?.metadata.deletionTimestamp).toBeTruthy();
    expect(held?.metadata.finalizers).toEqual(["kubernetes.io/pvc-protection"]);

    // the pod finishing is enough (a terminated pod no longer uses the claim)
    await client.mutate(refs.pods, "ns", "user", (p) => ({ ...p, status: { phase: "Succeeded" } }), {
      status: true,
    });
    await settle(ctl);
    expect(await get()).toBeUndefined();
    ctl.stop();
  });

  it("reads the hub's shared pod, claim and volume caches (no second copy of every pod)", async () => {
    const client = new FakeClient();
    client.seed(refs.pods, pod("user", { claim: "data", node: "n1" }));
    const d = deps(client);
    const ctl = new ProtectionController(d);
    await ctl.start(new AbortController().signal);
    for (const ref of [refs.pods, refs.persistentvolumeclaims, refs.persistentvolumes]) {
      expect(d.informers.peek(ref)?.hasSynced()).toBe(true);
    }
    expect(d.informers.peek(refs.pods)?.get("ns/user")).toBeDefined();
    ctl.stop();
  });

  it("asks the API server before letting go: a pod missing from the cache still holds the claim", async () => {
    const client = new FakeClient();
    client.seed(refs.persistentvolumeclaims, claim("data", ["kubernetes.io/pvc-protection"]));
    const ctl = new ProtectionController(deps(client));
    await ctl.start(new AbortController().signal);
    await settle(ctl);
    ctl.stop(); // informers stop: the next pod is never seen in the cache
    client.seed(refs.pods, pod("late", { claim: "data", node: "n1" }));
    await client.delete(refs.persistentvolumeclaims, "ns", "data");
    const pvc = (await client.get(refs.persistentvolumeclaims, "ns", "data"))!;
    // the stopped informer still holds the old copy: run the sync on the deleted object directly
    await (ctl as unknown as { syncClaim(o: KubeObject): Promise<void> }).syncClaim(pvc);
    expect((await client.get(refs.persistentvolumeclaims, "ns", "data"))?.metadata.finalizers).toEqual([
      "kubernetes.io/pvc-protection",
    ]);
    await client.delete(refs.pods, "ns", "late");
    await (ctl as unknown as { syncClaim(o: KubeObject): Promise<void> }).syncClaim(pvc);
    expect(await client.get(refs.persistentvolumeclaims, "ns", "data")).toBeUndefined();
  });
});

describe("pv-protection", () => {
  it("keeps a deleted bound volume until the claim is gone and the PV controller released it", async () => {
    const client = new FakeClient();
    client.seed(refs.persistentvolumeclaims, {
      ...claim("data"),
      metadata: { name: "data", namespace: "ns", uid: "uid-data" },
    });
    client.seed(refs.persistentvolumes, volume("Bound"));
    const protection = new ProtectionController(deps(client));
    const pvs = new PersistentVolumeController(deps(client));
    await protection.start(new AbortController().signal);
    await pvs.start(new AbortController().signal);
    await settle(protection, pvs);
    await client.delete(refs.persistentvolumes, undefined, "pv-1");
    await settle(protection, pvs);
    const held = await client.get(refs.persistentvolumes, undefined, "pv-1");
    expect(held?.metadata.deletionTimestamp).toBeTruthy();
    expect((held?.status as { phase?: string } | undefined)?.phase).toBe("Bound");

    await client.delete(refs.persistentvolumeclaims, "ns", "data");
    await settle(protection, pvs);
    await settle(protection, pvs);
    expect(await client.get(refs.persistentvolumes, undefined, "pv-1")).toBeUndefined();
    protection.stop();
    pvs.stop();
  });
});
