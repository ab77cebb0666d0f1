/**
 * The scheduler's storage capacity filter (volume-capacity.ts): which unbound claims need room,
 * how a node's reported free space (default base or a class's nodePath) and the claims already
 * in flight there decide, and the FailedScheduling wording.
 */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { Decider } from "../../../../src/hub/scheduler/decide.js";
import { newNodeInfo, SchedulerCache } from "../../../../src/hub/scheduler/node-info.js";
import { computePodInfo } from "../../../../src/hub/scheduler/pod-info.js";
import { filterNode, podConstraints } from "../../../../src/hub/scheduler/predicates.js";
import {
  REASON_NOT_ENOUGH_SPACE,
  type StorageNeed,
  storageFits,
  storageNeeds,
} from "../../../../src/hub/scheduler/volume-capacity.js";

const MI = 1024 * 1024;
const GI = 1024 * MI;

function node(name: string, free?: string, paths?: Record<string, { capacity: string; free: string }>) {
  return {
    kind: "Node",
    metadata: {
      name,
      labels: { "kubernetes.io/hostname": name },
      annotations: {
        ...(free ? { "edgekube.io/storage-capacity": "100Gi", "edgekube.io/storage-free": free } : {}),
        ...(paths ? { "edgekube.io/storage-paths": JSON.stringify(paths) } : {}),
      },
    },
    spec: {},
    status: {
      allocatable: { cpu: "4", memory: "4Gi", pods: "10" },
      conditions: [{ type: "Ready", status: "True" }],
    },
  } as KubeObject;
}

function sc(name: string, o: { mode?: string; nodePath?: string; provisioner?: string } = {}): KubeObject {
  return {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name },
    provisioner: o.provisioner ?? "edgekube.io/local-path",
    volumeBindingMode: o.mode ?? "WaitForFirstConsumer",
    ...(o.nodePath ? { parameters: { nodePath: o.nodePath } } : {}),
  };
}

function claim(name: string, size: string, cls = "local-path", volumeName?: string): KubeObject {
  return {
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace: "ns", uid: `uid-${name}` },
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: size } },
      storageClassName: cls,
      ...(volumeName ? { volumeName } : {}),
    },
  };
}

const classes = new Map([
  ["local-path", sc("local-path")],
  ["usb", sc("usb", { nodePath: "/mnt/usb/ek" })],
  ["now", sc("now", { mode: "Immediate" })],
  ["nfs", sc("nfs", { provisioner: "example.com/nfs" })],
]);
const needsOf = (claims: KubeObject[], pvs: KubeObject[] = []) =>
  storageNeeds("ns", claims, (n) => classes.get(n), pvs);

const pod = {
  kind: "Pod",
  metadata: { name: "p", namespace: "ns", uid: "u-p" },
  spec: {
    containers: [{ name: "c", image: "i" }],
    volumes: [{ name: "d", persistentVolumeClaim: { claimName: "data" } }],
  },
} as KubeObject;
const check = (needs: StorageNeed[], n: KubeObject) =>
  filterNode(podConstraints(pod as never, computePodInfo(pod), [], undefined, needs), newNodeInfo(n));

describe("storageNeeds", () => {
  it("counts only unbound local-path WaitForFirstConsumer claims that no pre-created PV can serve", () => {
    expect(needsOf([claim("data", "2Gi")])).toEqual([{ claim: "ns/data", base: undefined, bytes: 2 * GI }]);
    expect(needsOf([claim("u", "1Gi", "usb")])).toEqual([{ claim: "ns/u", base: "/mnt/usb/ek", bytes: GI }]);
    expect(needsOf([claim("b", "2Gi", "local-path", "pv-1")])).toEqual([]);
    expect(needsOf([claim("i", "2Gi", "now"), claim("n", "2Gi", "nfs"), claim("x", "2Gi", "gone")])).toEqual(
      [],
    );
    const staticPv: KubeObject = {
      kind: "PersistentVolume",
      metadata: { name: "pv-static" },
      spec: {
        capacity: { storage: "5Gi" },
        accessModes: ["ReadWriteOnce"],
        storageClassName: "local-path",
        local: { path: "/srv/x" },
      },
      status: { phase: "Available" },
    };
    expect(needsOf([claim("data", "2Gi")], [staticPv])).toEqual([]);
  });
});

describe("the storage capacity filter", () => {
  const need = needsOf([claim("data", "2Gi")]);

  it("filters a node whose reported free space is below the request, in upstream's words", () => {
    expect(check(need, node("a", "1Gi"))).toEqual({ reasons: [REASON_NOT_ENOUGH_SPACE], unresolvable: true });
    expect(REASON_NOT_ENOUGH_SPACE).toBe("node(s) did not have enough free storage");
    expect(check(need, node("a", "2Gi"))).toBeUndefined();
    expect(check(need, node("a", "3Gi"))).toBeUndefined();
    // nothing reported (an older agent): not filtered
    expect(check(need, node("a"))).toBeUndefined();
    expect(check([], node("a", "0Mi"))).toBeUndefined();
  });

  it("checks a nodePath class against that base's figures, not the default dir's", () => {
    const usb = needsOf([claim("u", "4Gi", "usb")]);
    expect(
      check(usb, node("a", "100Gi", { "/mnt/usb/ek": { capacity: "8Gi", free: "1Gi" } }))?.reasons,
    ).toEqual([REASON_NOT_ENOUGH_SPACE]);
    expect(check(usb, node("a", "0Mi", { "/mnt/usb/ek": { capacity: "8Gi", free: "5Gi" } }))).toBeUndefined();
    // that disk not measured yet on this node: not filtered
    expect(check(usb, node("a", "0Mi"))).toBeUndefined();
  });

  it("adds up several claims of one pod on the same base", () => {
    const two = needsOf([claim("a1", "2Gi"), claim("a2", "2Gi")]);
    expect(check(two, node("a", "3Gi"))?.reasons).toEqual([REASON_NOT_ENOUGH_SPACE]);
    expect(check(two, node("a", "4Gi"))).toBeUndefined();
  });

  it("subtracts claims in flight on the node until they are bound", () => {
    const cache = new SchedulerCache();
    cache.upsertNode(node("a", "5Gi"));
    const other = { ...computePodInfo({ ...pod, metadata: { ...pod.metadata, name: "o", uid: "u-o" } }) };
    other.storage = needsOf([claim("first", "4Gi")]);
    cache.place(other, "a");
    const n = cache.node("a")!;
    expect(storageFits(need, n)).toBe(false);
    // a node update (new heartbeat, new figures) keeps the in-flight accounting
    cache.upsertNode(node("a", "6Gi"));
    expect(storageFits(need, cache.node("a")!)).toBe(true);
    cache.upsertNode(node("a", "5Gi"));
    expect(storageFits(need, cache.node("a")!)).toBe(false);
    cache.claimBound("ns/first");
    expect(storageFits(need, cache.node("a")!)).toBe(true);
    // and forgetting the pod afterwards does not go negative or remove anything else
    cache.forget(other.key);
    expect(cache.node("a")!.pendingStorage.size).toBe(0);
    // the pod's own claim does not count against itself
    const self = computePodInfo(pod);
    self.storage = need;
    cache.place(self, "a");
    expect(storageFits(need, cache.node("a")!)).toBe(true);
  });

  it("makes the decider pick the node with room and explain when none has", () => {
    const d = new Decider();
    const nodes = [newNodeInfo(node("small", "1Gi")), newNodeInfo(node("big", "10Gi"))];
    const c = podConstraints(pod as never, computePodInfo(pod), [], undefined, need);
    expect(d.decide(c, nodes)).toMatchObject({ node: "big" });
    const none = d.decide(c, [newNodeInfo(node("small", "1Gi")), newNodeInfo(node("tiny", "512Mi"))]);
    expect(none).toEqual({
      message:
        "0/2 nodes are available: 2 node(s) did not have enough free storage. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
    });
  });
});
