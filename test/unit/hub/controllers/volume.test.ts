/**
 * PV binding and local-path provisioning against a recording fake client: default class
 * admission, WaitForFirstConsumer (event, then a PV on the consumer's node), binding of
 * pre-created volumes, release and reclaim (Delete vs Retain), idempotence.
 */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { refs } from "../../../../src/client/client.js";
import {
  applyDefaultStorageClass,
  defaultStorageClassObject,
  PersistentVolumeController,
} from "../../../../src/hub/controllers/volume/index.js";
import { FakeClient } from "../../../helpers/fake-client.js";
import { controllerDeps } from "../../../helpers/fake-controller-deps.js";

function setup() {
  const client = new FakeClient();
  const ctl = new PersistentVolumeController(controllerDeps(client, () => new Date("2024-01-01T00:00:00Z")));
  return { client, ctl };
}

function pvc(name: string, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace: "ns1" },
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "1Gi" } },
      storageClassName: "local-path",
      ...extra,
    },
    status: { phase: "Pending" },
  };
}

function consumer(name: string, claim: string, nodeName?: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "ns1" },
    spec: {
      ...(nodeName ? { nodeName } : {}),
      containers: [{ name: "c", image: "i" }],
      volumes: [{ name: "data", persistentVolumeClaim: { claimName: claim } }],
    },
  };
}

function events(c: FakeClient): string[] {
  return c.objects(refs.events).map((e) => `${e.reason}: ${e.message}`);
}

describe("default storage class admission", () => {
  it("fills an absent class with the newest default, keeps an explicit empty class", () => {
    const old = {
      ...defaultStorageClassObject(),
      metadata: {
        ...defaultStorageClassObject().metadata,
        name: "old",
        creationTimestamp: "2020-01-01T00:00:00Z",
      },
    };
    const fresh = {
      ...defaultStorageClassObject(),
      metadata: { ...defaultStorageClassObject().metadata, creationTimestamp: "2024-01-01T00:00:00Z" },
    };
    const a = pvc("a", { storageClassName: undefined });
    delete (a.spec as Record<string, unknown>).storageClassName;
    applyDefaultStorageClass(a, [old, fresh]);
    expect((a.spec as { storageClassName: string }).storageClassName).toBe("local-path");
    const b = pvc("b", { storageClassName: "" });
    applyDefaultStorageClass(b, [fresh]);
    expect((b.spec as { storageClassName: string }).storageClassName).toBe("");
  });
});

describe("PersistentVolumeController", () => {
  it("waits for the first consumer, then provisions a PV on its node and binds both", async () => {
    const { client, ctl } = setup();
    client.seed(refs.storageclasses, defaultStorageClassObject());
    client.seed(refs.nodes, {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "n1", labels: { "kubernetes.io/hostname": "n1" } },
    });
    client.seed(refs.persistentvolumeclaims, pvc("data"));
    await ctl.startInformers();
    await ctl.reconcile("claim:ns1/data");
    expect(client.verbs()).toEqual(["create events ns1/" + client.actions[0]?.name]);
    expect(events(client)).toEqual([
      "WaitForFirstConsumer: waiting for first consumer to be created before binding",
    ]);
    client.seed(refs.pods, consumer("p", "data", "n1"));
    await ctl.reconcile("claim:ns1/data");
    const pv = (await client.get(refs.persistentvolumes, undefined, "pvc-uid-data"))!;
    expect(pv.metadata.annotations).toMatchObject({
      "pv.kubernetes.io/provisioned-by": "edgekube.io/local-path",
    });
    expect(pv.spec).toMatchObject({
      capacity: { storage: "1Gi" },
      accessModes: ["ReadWriteOnce"],
      persistentVolumeReclaimPolicy: "Delete",
      storageClassName: "local-path",
      local: { path: "/var/lib/edgekube/storage/pvc-uid-data_ns1_data" },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["n1"] }] },
          ],
        },
      },
      claimRef: { kind: "PersistentVolumeClaim", namespace: "ns1", name: "data", uid: "uid-data" },
    });
    expect(pv.status).toEqual({ phase: "Bound" });
    const claim = (await client.get(refs.persistentvolumeclaims, "ns1", "data"))!;
    expect(claim.spec).toMatchObject({ volumeName: "pvc-uid-data" });
    expect(claim.metadata.annotations).toMatchObject({
      "pv.kubernetes.io/bind-completed": "yes",
      "volume.kubernetes.io/selected-node": "n1",
      "volume.kubernetes.io/storage-provisioner": "edgekube.io/local-path",
    });
    expect(claim.status).toEqual({
      phase: "Bound",
      accessModes: ["ReadWriteOnce"],
      capacity: { storage: "1Gi" },
    });
    expect(events(client)).toContain(
      "ProvisioningSucceeded: Successfully provisioned volume pvc-uid-data using edgekube.io/local-path",
    );
    // idempotent
    const n = client.actions.length;
    await ctl.reconcile("claim:ns1/data");
    await ctl.reconcile("volume:pvc-uid-data");
    expect(client.actions.length).toBe(n);
    // claim gone → Released → deleted (Delete policy, provisioned by us)
    await client.delete(refs.persistentvolumeclaims, "ns1", "data");
    await ctl.reconcile("volume:pvc-uid-data");
    expect(client.verbs().slice(-2)).toEqual([
      "updateStatus persistentvolumes pvc-uid-data",
      "delete persistentvolumes pvc-uid-data",
    ]);
    ctl.stop();
  });

  it("binds the smallest matching pre-created volume and keeps a Retain volume Released", async () => {
    const { client, ctl } = setup();
    const mk = (name: string, size: string, modes = ["ReadWriteOnce"]) =>
      client.seed(refs.persistentvolumes, {
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: { name },
        spec: {
          capacity: { storage: size },
          accessModes: modes,
          storageClassName: "manual",
          persistentVolumeReclaimPolicy: "Retain",
          hostPath: { path: "/x" },
        },
        status: { phase: "Available" },
      });
    mk("big", "10Gi");
    mk("small", "2Gi");
    mk("tiny", "500Mi");
    mk("rox", "1Gi", ["ReadOnlyMany"]);
    client.seed(refs.persistentvolumeclaims, pvc("c", { storageClassName: "manual" }));
    await ctl.startInformers();
    await ctl.reconcile("claim:ns1/c");
    const claim = (await client.get(refs.persistentvolumeclaims, "ns1", "c"))!;
    expect((claim.spec as { volumeName: string }).volumeName).toBe("small");
    expect(claim.metadata.annotations).toMatchObject({ "pv.kubernetes.io/bound-by-controller": "yes" });
    expect(claim.status).toMatchObject({ phase: "Bound", capacity: { storage: "2Gi" } });
    await client.delete(refs.persistentvolumeclaims, "ns1", "c");
    await ctl.reconcile("volume:small");
    const pv = (await client.get(refs.persistentvolumes, undefined, "small"))!;
    expect(pv.status).toEqual({ phase: "Released" });
    expect(client.verbs().filter((v) => v.startsWith("delete persistentvolumes"))).toEqual([]);
    ctl.stop();
  });

  it("reports a claim without class and without volumes", async () => {
    const { client, ctl } = setup();
    client.seed(refs.persistentvolumeclaims, pvc("x", { storageClassName: "" }));
    await ctl.startInformers();
    await ctl.reconcile("claim:ns1/x");
    expect(events(client)).toEqual([
      "FailedBinding: no persistent volumes available for this claim and no storage class is set",
    ]);
    ctl.stop();
  });
});
