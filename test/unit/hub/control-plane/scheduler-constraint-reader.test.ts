/**
 * ConstraintReader over informers on the recording fake client: a pod's volumes become its
 * filter inputs (a missing or terminating claim fails the pre-filter, a bound PV's node
 * affinity restricts the nodes, an unbound local-path claim becomes a storage need), and
 * namespace labels and placed pods reach the affinity terms.
 */
import type { Pod } from "kubernetes-types/core/v1";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { refs } from "../../../../src/client/client.js";
import { SharedInformers } from "../../../../src/hub/controllers/shared-informers.js";
import { ConstraintReader } from "../../../../src/hub/scheduler/constraint-reader.js";
import { SchedulerCache } from "../../../../src/hub/scheduler/node-info.js";
import { computePodInfo } from "../../../../src/hub/scheduler/pod-info.js";
import type { PodConstraints } from "../../../../src/hub/scheduler/predicates.js";
import { FakeClient } from "../../../helpers/fake-client.js";

function podWith(claims: string[], extra: Record<string, unknown> = {}): KubeObject {
  return {
    kind: "Pod",
    metadata: { name: "p", namespace: "ns", uid: "uid-p", labels: { app: "web" } },
    spec: {
      containers: [{ name: "c", image: "i" }],
      volumes: claims.map((c) => ({ name: c, persistentVolumeClaim: { claimName: c } })),
      ...extra,
    },
    status: { phase: "Pending" },
  };
}

function claim(name: string, o: { volumeName?: string; deleting?: boolean } = {}): KubeObject {
  return {
    kind: "PersistentVolumeClaim",
    metadata: {
      name,
      namespace: "ns",
      ...(o.deleting
        ? { deletionTimestamp: "2026-01-01T00:00:00Z", finalizers: ["kubernetes.io/pvc-protection"] }
        : {}),
    },
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "1Gi" } },
      storageClassName: "local-path",
      ...(o.volumeName ? { volumeName: o.volumeName } : {}),
    },
  };
}

const pinned = {
  nodeSelectorTerms: [
    { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["edge-1"] }] },
  ],
};

async function fixture(seed: (c: FakeClient) => void) {
  const client = new FakeClient();
  seed(client);
  const informers = new SharedInformers(client);
  const src = {
    cache: new SchedulerCache(),
    pvcs: informers.informer(refs.persistentvolumeclaims),
    pvs: informers.informer(refs.persistentvolumes),
    namespaces: informers.informer(refs.namespaces),
    classes: informers.informer(refs.storageclasses),
  };
  await Promise.all([src.pvcs.start(), src.pvs.start(), src.namespaces.start(), src.classes.start()]);
  const reader = new ConstraintReader(src);
  const read = (pod: KubeObject) => reader.constraints(pod as unknown as Pod, computePodInfo(pod));
  return { reader, read, stop: () => informers.stop() };
}

function asConstraints(c: PodConstraints | string): PodConstraints {
  if (typeof c === "string") throw new Error(`expected constraints, got the pre-filter failure "${c}"`);
  return c;
}

describe("ConstraintReader", () => {
  it("fails the pre-filter for a missing claim and for one being deleted", async () => {
    const f = await fixture((c) => c.seed(refs.persistentvolumeclaims, claim("going", { deleting: true })));
    expect(f.read(podWith(["nope"]))).toBe('persistentvolumeclaim "nope" not found');
    expect(f.read(podWith(["going"]))).toBe('persistentvolumeclaim "going" is being deleted');
    f.stop();
  });

  it("restricts the nodes to a bound PV's node affinity", async () => {
    const f = await fixture((c) => {
      c.seed(refs.persistentvolumeclaims, claim("data", { volumeName: "pv-1" }));
      c.seed(refs.persistentvolumes, {
        kind: "PersistentVolume",
        metadata: { name: "pv-1" },
        spec: { capacity: { storage: "1Gi" }, nodeAffinity: { required: pinned } },
      });
    });
    const c = asConstraints(f.read(podWith(["data"])));
    expect(c.volumeAffinity).toEqual([pinned]);
    expect(c.storage).toEqual([]);
    f.stop();
  });

  it("turns an unbound WaitForFirstConsumer local-path claim into a storage need", async () => {
    const f = await fixture((c) => {
      c.seed(refs.persistentvolumeclaims, claim("data"));
      c.seed(refs.storageclasses, {
        apiVersion: "storage.k8s.io/v1",
        kind: "StorageClass",
        metadata: { name: "local-path" },
        provisioner: "edgekube.io/local-path",
        volumeBindingMode: "WaitForFirstConsumer",
      });
    });
    const pod = podWith(["data"]);
    const c = asConstraints(f.read(pod));
    expect(c.volumeAffinity).toEqual([]);
    expect(c.storage).toEqual([{ claim: "ns/data", base: undefined, bytes: 1024 ** 3 }]);
    expect(f.reader.storageNeeds(computePodInfo(pod))).toEqual(c.storage);
    f.stop();
  });

  it("hands namespace labels to affinity terms and prepares the relations over placed pods", async () => {
    const f = await fixture((c) =>
      c.seed(refs.namespaces, { kind: "Namespace", metadata: { name: "ns", labels: { team: "a" } } }),
    );
    const antiAffinity = {
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { labelSelector: { matchLabels: { app: "web" } }, topologyKey: "kubernetes.io/hostname" },
          ],
        },
      },
    };
    const c = asConstraints(f.read(podWith([], antiAffinity)));
    expect(c.nsLabels("ns")).toEqual({ team: "a" });
    expect(c.nsLabels("other")).toBeUndefined();
    expect(c.interPod).toBeDefined();
    expect(asConstraints(f.read(podWith([]))).interPod).toBeUndefined();
    f.stop();
  });
});
