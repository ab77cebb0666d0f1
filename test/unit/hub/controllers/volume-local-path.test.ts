/**
 * The hub's half of local-path cleanup and capacity, against a recording fake client:
 * provisioned PVs carry the cleanup finalizer and their node; a nodePath class provisions under
 * its base and a traversing nodePath is refused with an event; a claim larger than the node's
 * reported free space is not provisioned (event) until the node reports room; older PVs adopt
 * the finalizer; the StatusWriter drops the finalizer only for the volume's own node.
 */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { refs } from "../../../../src/client/client.js";
import {
  defaultStorageClassObject,
  PersistentVolumeController,
} from "../../../../src/hub/controllers/volume/index.js";
import type { NodeHeartbeats } from "../../../../src/hub/edge/heartbeats.js";
import { StatusWriter } from "../../../../src/hub/edge/status-writer.js";
import { silentLogger } from "../../../../src/lib/logger.js";
import { FakeClient } from "../../../helpers/fake-client.js";
import { controllerDeps } from "../../../helpers/fake-controller-deps.js";

const logger = silentLogger();
const now = () => new Date("2024-01-01T00:00:00Z");

function setup(nodeAnnotations: Record<string, string> = {}) {
  const client = new FakeClient();
  const ctl = new PersistentVolumeController(controllerDeps(client, now));
  client.seed(refs.storageclasses, defaultStorageClassObject());
  client.seed(refs.nodes, {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: "n1", labels: { "kubernetes.io/hostname": "n1" }, annotations: nodeAnnotations },
  });
  return { client, ctl };
}

function claim(name: string, size = "1Gi", cls = "local-path"): KubeObject {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace: "ns1", annotations: { "volume.kubernetes.io/selected-node": "n1" } },
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: size } },
      storageClassName: cls,
    },
    status: { phase: "Pending" },
  };
}

const events = (c: FakeClient) => c.objects(refs.events).map((e) => `${e.reason}: ${e.message}`);

describe("local-path provisioning with cleanup and capacity", () => {
  it("provisions a PV with the cleanup finalizer and its node, under a nodePath class's base", async () => {
    const { client, ctl } = setup();
    client.seed(refs.storageclasses, {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "usb" },
      provisioner: "edgekube.io/local-path",
      reclaimPolicy: "Retain",
      volumeBindingMode: "WaitForFirstConsumer",
      parameters: { nodePath: "/mnt/usb" },
    });
    client.seed(refs.persistentvolumeclaims, claim("a"));
    client.seed(refs.persistentvolumeclaims, claim("b", "1Gi", "usb"));
    await ctl.startInformers();
    await ctl.reconcile("claim:ns1/a");
    await ctl.reconcile("claim:ns1/b");
    const a = (await client.get(refs.persistentvolumes, undefined, "pvc-uid-a"))!;
    expect(a.metadata.finalizers).toEqual(["edgekube.io/local-path-cleanup"]);
    expect(a.metadata.annotations).toMatchObject({ "edgekube.io/local-path-node": "n1" });
    const b = (await client.get(refs.persistentvolumes, undefined, "pvc-uid-b"))!;
    expect(b.spec).toMatchObject({
      local: { path: "/mnt/usb/pvc-uid-b_ns1_b" },
      persistentVolumeReclaimPolicy: "Retain",
    });
    ctl.stop();
  });

  it("refuses a class whose nodePath leaves the disk, with what to do", async () => {
    const { client, ctl } = setup();
    client.seed(refs.storageclasses, {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "evil" },
      provisioner: "edgekube.io/local-path",
      volumeBindingMode: "WaitForFirstConsumer",
      parameters: { nodePath: "/mnt/../etc" },
    });
    client.seed(refs.persistentvolumeclaims, claim("c", "1Gi", "evil"));
    await ctl.startInformers();
    await ctl.reconcile("claim:ns1/c");
    expect(client.objects(refs.persistentvolumes)).toEqual([]);
    expect(events(client)).toEqual([
      `ProvisioningFailed: StorageClass parameter nodePath "/mnt/../etc" contains '..': use an absolute directory on a data disk, e.g. "/mnt/usb/edgekube"`,
    ]);
    ctl.stop();
  });

  it("does not provision a claim larger than the node's free space, and does once it fits", async () => {
    const { client, ctl } = setup({ "edgekube.io/storage-free": "512Mi" });
    client.seed(refs.persistentvolumeclaims, claim("big", "2Gi"));
    client.seed(refs.persistentvolumeclaims, claim("small", "100Mi"));
    await ctl.startInformers();
    await ctl.reconcile("claim:ns1/big");
    await ctl.reconcile("claim:ns1/small");
    expect(client.objects(refs.persistentvolumes).map((p) => p.metadata.name)).toEqual(["pvc-uid-small"]);
    expect(events(client)).toContain(
      'ProvisioningFailed: node "n1" has insufficient free space for claim "ns1/big": requested 2Gi, 512Mi free; free up space on the node or request less storage',
    );
    await client.mutate(refs.nodes, undefined, "n1", (n) => ({
      ...n,
      metadata: { ...n.metadata, annotations: { "edgekube.io/storage-free": "8Gi" } },
    }));
    await ctl.startInformers();
    await ctl.reconcile("claim:ns1/big");
    expect(await client.get(refs.persistentvolumes, undefined, "pvc-uid-big")).toBeDefined();
    ctl.stop();
  });

  it("adds the finalizer and node to a PV provisioned before they existed", async () => {
    const { client, ctl } = setup();
    client.seed(refs.persistentvolumes, {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: {
        name: "pvc-old",
        annotations: { "pv.kubernetes.io/provisioned-by": "edgekube.io/local-path" },
      },
      spec: {
        local: { path: "/var/lib/edgekube/storage/pvc-old_ns1_old" },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["n1"] }] },
            ],
          },
        },
      },
      status: { phase: "Available" },
    });
    await ctl.startInformers();
    await ctl.reconcile("volume:pvc-old");
    const pv = (await client.get(refs.persistentvolumes, undefined, "pvc-old"))!;
    expect(pv.metadata.finalizers).toEqual(["edgekube.io/local-path-cleanup"]);
    expect(pv.metadata.annotations?.["edgekube.io/local-path-node"]).toBe("n1");
    ctl.stop();
  });
});

describe("StatusWriter: pv/ and storage/ reports", () => {
  function writer(client: FakeClient) {
    return new StatusWriter({
      client,
      heartbeats: {} as NodeHeartbeats,
      podCreateRevision: async () => undefined,
      logger,
      now,
    });
  }
  const volume = (): KubeObject => ({
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: {
      name: "pvc-x",
      uid: "u-x",
      annotations: { "edgekube.io/local-path-node": "n1" },
      finalizers: ["edgekube.io/local-path-cleanup", "other.io/keep"],
    },
    spec: {},
  });

  it("drops the cleanup finalizer for the volume's own node only, and for its uid only", async () => {
    const client = new FakeClient();
    client.seed(refs.persistentvolumes, volume());
    const w = writer(client);
    await w.apply("n2", { key: "pv/pvc-x", seq: 1, status: { result: "Deleted", uid: "u-x" } });
    await w.apply("n1", { key: "pv/pvc-x", seq: 2, status: { result: "Deleted", uid: "u-older" } });
    expect((await client.get(refs.persistentvolumes, undefined, "pvc-x"))?.metadata.finalizers).toHaveLength(
      2,
    );
    await w.apply("n1", { key: "pv/pvc-x", seq: 3, status: { result: "Deleted", uid: "u-x" } });
    expect((await client.get(refs.persistentvolumes, undefined, "pvc-x"))?.metadata.finalizers).toEqual([
      "other.io/keep",
    ]);
  });

  it("writes the node's storage annotations on change only, and refuses other nodes and bad quantities", async () => {
    const client = new FakeClient();
    client.seed(refs.nodes, { apiVersion: "v1", kind: "Node", metadata: { name: "n1" } });
    const w = writer(client);
    await w.apply("n1", { key: "storage/n1", seq: 1, status: { capacity: "1000Mi", free: "256Mi" } });
    await w.apply("n1", { key: "storage/n1", seq: 2, status: { capacity: "1000Mi", free: "256Mi" } });
    await w.apply("n2", { key: "storage/n1", seq: 3, status: { capacity: "1Mi", free: "1Mi" } });
    await w.apply("n1", { key: "storage/n1", seq: 4, status: { capacity: "lots", free: "1Mi" } });
    const n = (await client.get(refs.nodes, undefined, "n1"))!;
    expect(n.metadata.annotations).toEqual({
      "edgekube.io/storage-capacity": "1000Mi",
      "edgekube.io/storage-free": "256Mi",
    });
    expect(client.verbs().filter((v) => v.startsWith("update"))).toHaveLength(1);
  });

  it("keeps other bases' figures as JSON in storage-paths, refusing unusable paths", async () => {
    const client = new FakeClient();
    client.seed(refs.nodes, { apiVersion: "v1", kind: "Node", metadata: { name: "n1" } });
    const w = writer(client);
    const usb = { "/mnt/usb/ek": { capacity: "8Gi", free: "3Gi" } };
    await w.apply("n1", {
      key: "storage/n1",
      seq: 1,
      status: { capacity: "1000Mi", free: "256Mi", paths: usb },
    });
    await w.apply("n1", {
      key: "storage/n1",
      seq: 2,
      status: { capacity: "1000Mi", free: "1Mi", paths: { "/etc": { capacity: "1Gi", free: "1Gi" } } },
    });
    let n = (await client.get(refs.nodes, undefined, "n1"))!;
    expect(n.metadata.annotations?.["edgekube.io/storage-paths"]).toBe(JSON.stringify(usb));
    expect(n.metadata.annotations?.["edgekube.io/storage-free"]).toBe("256Mi");
    // the disk is gone from the report (its last volume was removed): the annotation goes too
    await w.apply("n1", { key: "storage/n1", seq: 3, status: { capacity: "1000Mi", free: "256Mi" } });
    n = (await client.get(refs.nodes, undefined, "n1"))!;
    expect(n.metadata.annotations?.["edgekube.io/storage-paths"]).toBeUndefined();
  });
});
