import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import type { Client } from "../../../../src/client/client.js";
import type { NodeHeartbeats } from "../../../../src/hub/edge/heartbeats.js";
import { StatusWriter } from "../../../../src/hub/edge/status-writer.js";
import { silentLogger } from "../../../../src/lib/logger.js";

/** A Node store with get/mutate only, recording every write. */
function fakeNodes(initial: KubeObject[]) {
  const nodes = new Map(initial.map((n) => [n.metadata.name ?? "", structuredClone(n)]));
  const writes: KubeObject[] = [];
  const client = {
    get: async (_ref: unknown, _ns: unknown, name: string) => structuredClone(nodes.get(name)),
    mutate: async (_ref: unknown, _ns: unknown, name: string, fn: (cur: KubeObject) => KubeObject) => {
      const cur = nodes.get(name);
      if (!cur) throw new Error("not found");
      const next = fn(structuredClone(cur));
      nodes.set(name, next);
      writes.push(next);
      return next;
    },
  } as unknown as Client;
  return { client, nodes, writes };
}

const MAC = '{"VNI":1,"VtepMAC":"0a:58:0a:2a:01:00"}';

function writer(client: Client): StatusWriter {
  return new StatusWriter({
    client,
    heartbeats: {} as NodeHeartbeats,
    podCreateRevision: async () => undefined,
    logger: silentLogger(),
  });
}

describe("StatusWriter node-annotations", () => {
  it("merges the overlay annotations into the node's own Node, once", async () => {
    const f = fakeNodes([
      { apiVersion: "v1", kind: "Node", metadata: { name: "n1", annotations: { keep: "me" } } },
    ]);
    const w = writer(f.client);
    const u = {
      key: "node-annotations/n1",
      seq: 1,
      status: {
        annotations: {
          "flannel.alpha.coreos.com/backend-data": MAC,
          "flannel.alpha.coreos.com/public-ip": "198.51.100.11",
        },
      },
    };
    await w.apply("n1", u);
    expect(f.nodes.get("n1")?.metadata.annotations).toEqual({
      keep: "me",
      "flannel.alpha.coreos.com/backend-data": MAC,
      "flannel.alpha.coreos.com/public-ip": "198.51.100.11",
    });
    await w.apply("n1", { ...u, seq: 2 });
    expect(f.writes).toHaveLength(1);
  });

  it("refuses other nodes' Nodes and annotations outside the overlay prefix", async () => {
    const f = fakeNodes([
      { apiVersion: "v1", kind: "Node", metadata: { name: "n1" } },
      { apiVersion: "v1", kind: "Node", metadata: { name: "n2" } },
    ]);
    const w = writer(f.client);
    await w.apply("n1", {
      key: "node-annotations/n2",
      seq: 1,
      status: { annotations: { "flannel.alpha.coreos.com/public-ip": "198.51.100.99" } },
    });
    await w.apply("n1", {
      key: "node-annotations/n1",
      seq: 2,
      status: {
        annotations: {
          "flannel.alpha.coreos.com/public-ip": "1.2.3.4",
          "node-role.kubernetes.io/control-plane": "",
        },
      },
    });
    await w.apply("n1", { key: "node-annotations/n1", seq: 3, status: { annotations: "nope" } });
    expect(f.writes).toHaveLength(0);
  });
});
