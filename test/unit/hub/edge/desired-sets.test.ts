/**
 * DesiredSets as a pure model: sets built from listed objects, then watch events applied in
 * revision order; which nodes each event touches and the revisions their deltas carry.
 */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { DesiredSets, type Held } from "../../../../src/hub/edge/desired-sets.js";
import type { KeyValue, WatchEvent } from "../../../../src/hub/store/backend.js";

const POD = "core/pods/default/web";
const CM = "core/configmaps/default/conf";
const SVC = "core/services/default/web";

function pod(node: string, configMap?: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web", namespace: "default" },
    spec: {
      nodeName: node,
      containers: [{ name: "c", image: "busybox" }],
      volumes: configMap ? [{ name: "v", configMap: { name: configMap } }] : [],
    },
  };
}
const cm = (data: string): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "conf", namespace: "default" },
  data: { k: data },
});
const svc: KubeObject = {
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "web", namespace: "default" },
};

function kv(key: string, revision: number, object: KubeObject): KeyValue {
  return { key: `/registry/${key}`, value: JSON.stringify(object), revision, createRevision: revision };
}
const decode = (k: KeyValue): KubeObject => JSON.parse(k.value) as KubeObject;

function build(): DesiredSets {
  const objects = new Map<string, Held>([
    [POD, { revision: 3, object: pod("n1", "conf") }],
    [CM, { revision: 2, object: cm("a") }],
    [SVC, { revision: 1, object: svc }],
  ]);
  return new DesiredSets(objects, 10, decode);
}

const keys = (s: DesiredSets, node: string) =>
  s
    .snapshot(node)
    .objects.map((o) => o.key)
    .sort();

describe("DesiredSets", () => {
  it("gives a node its pods, what they name, and the shared objects", () => {
    const s = build();
    expect(keys(s, "n1")).toEqual([CM, POD, SVC].sort());
    expect(keys(s, "n2")).toEqual([SVC]);
    expect(s.snapshot("n1").revision).toBe(10);
    expect(s.changesSince("n1", 10)).toEqual({ revision: 10, changes: [] });
    expect(s.changesSince("n1", 9)).toBe("compacted");
  });

  it("touches only the nodes that reference a changed ConfigMap", () => {
    const s = build();
    const ev: WatchEvent = { type: "update", kv: kv(CM, 11, cm("b")) };
    const touched = s.apply([ev]);
    expect(touched.shared).toBe(false);
    expect([...touched.nodes]).toEqual(["n1"]);
    const d = s.changesSince("n1", 10);
    expect(d).not.toBe("compacted");
    if (d === "compacted") return;
    expect(d.changes.map((c) => [c.op, c.key, c.revision])).toEqual([["put", CM, 11]]);
    expect(s.changesSince("n2", 10)).toEqual({ revision: 11, changes: [] });
  });

  it("moves a pod's references with it, at the pod write's revision", () => {
    const s = build();
    const touched = s.apply([{ type: "update", kv: kv(POD, 12, pod("n2", "conf")) }]);
    expect([...touched.nodes].sort()).toEqual(["n1", "n2"]);
    const n2 = s.changesSince("n2", 10);
    if (n2 === "compacted") throw new Error("n2's history should start at the build revision");
    expect(n2.changes.map((c) => [c.op, c.key, c.revision]).sort()).toEqual([
      ["put", CM, 12],
      ["put", POD, 12],
    ]);
    const n1 = s.changesSince("n1", 10);
    if (n1 === "compacted") throw new Error("n1's history should start at the build revision");
    expect(n1.changes.map((c) => c.op)).toEqual(["delete", "delete"]);
  });

  it("notifies every node when a shared object changes, and the digest follows", () => {
    const s = build();
    const before = s.digest("n2").digest;
    const touched = s.apply([{ type: "delete", kv: kv(SVC, 13, svc) }]);
    expect(touched.shared).toBe(true);
    expect(keys(s, "n2")).toEqual([]);
    expect(s.digest("n2").digest).not.toBe(before);
    expect(s.revision).toBe(13);
  });

  it("skips events the initial lists already reflect", () => {
    const s = build();
    const touched = s.apply([{ type: "update", kv: kv(CM, 2, cm("old")) }]);
    expect(touched.nodes.size).toBe(0);
    expect(s.snapshot("n1").objects.find((o) => o.key === CM)?.object).toEqual(cm("a"));
  });
});
