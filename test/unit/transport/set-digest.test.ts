/** SetDigest, the Node view agents receive, and SyncHub's digest resume after lost history. */
import { createHash } from "node:crypto";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { KubeObject } from "../../../src/api/object.js";
import { nodeView, sameView } from "../../../src/hub/edge/node-view.js";
import { type Envelope, envelope } from "../../../src/transport/envelope.js";
import { entryHash, SetDigest } from "../../../src/transport/set-digest.js";
import { type HubChannel, SyncHub } from "../../../src/transport/sync-hub.js";
import { digestOf, MemoryDesiredSource, obj } from "../../helpers/desired-memory.js";

describe("SetDigest", () => {
  it("is independent of order, and removing an entry undoes adding it", () => {
    const a = entryHash("k/a", obj("a"));
    const b = entryHash("k/b", obj("b"));
    const ab = new SetDigest().toggle(a).toggle(b).hex();
    expect(new SetDigest().toggle(b).toggle(a).hex()).toBe(ab);
    expect(new SetDigest().toggle(a).toggle(b).toggle(b).hex()).toBe(new SetDigest().toggle(a).hex());
    expect(ab).not.toBe(new SetDigest().toggle(a).hex());
  });

  it("differs when an object's content or key differs, and survives a JSON round trip", () => {
    const o = obj("a", { data: { x: "1" } });
    expect(entryHash("k/a", o).equals(entryHash("k/a", obj("a", { data: { x: "2" } })))).toBe(false);
    expect(entryHash("k/a", o).equals(entryHash("k/b", o))).toBe(false);
    const wire = JSON.parse(JSON.stringify(o)) as KubeObject;
    expect(entryHash("k/a", wire).equals(entryHash("k/a", o))).toBe(true);
  });

  it("is the first 16 bytes of sha256(key NUL json): what hubs and agents of other versions compute", () => {
    const o = obj("ü", { data: { x: "é\u0000" } });
    const json = JSON.stringify(o);
    const old = createHash("sha256").update("k/ü").update("\0").update(json).digest().subarray(0, 16);
    expect(entryHash("k/ü", o).equals(old)).toBe(true);
    expect(entryHash("k/ü", json).equals(old)).toBe(true);
    // a fixed vector, so a change of the construction cannot pass unnoticed
    expect(entryHash("k", "{}").toString("hex")).toBe("e54d11185a1494fec19f1df4e4169651");
  });
});

describe("nodeView", () => {
  const node = (status: Record<string, unknown>, rv: string): KubeObject => ({
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: "pi-1",
      uid: "u1",
      resourceVersion: rv,
      labels: { "kubernetes.io/arch": "arm64" },
      annotations: {
        "flannel.alpha.coreos.com/public-ip": "198.51.100.7",
        "kubectl.kubernetes.io/last-applied-configuration": "{}",
      },
      managedFields: [{ manager: "x" }],
    },
    spec: {
      podCIDR: "10.42.3.0/24",
      taints: [{ key: "node.kubernetes.io/unreachable", effect: "NoSchedule" }],
    },
    status: { addresses: [{ type: "InternalIP", address: "198.51.100.7" }], ...status },
  });

  it("keeps what peers need and drops status, taints, managedFields and last-applied", () => {
    const v = nodeView(node({ conditions: [{ type: "Ready", status: "True" }] }, "5"));
    expect(v).toEqual({
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name: "pi-1",
        uid: "u1",
        labels: { "kubernetes.io/arch": "arm64" },
        annotations: { "flannel.alpha.coreos.com/public-ip": "198.51.100.7" },
      },
      spec: { podCIDR: "10.42.3.0/24" },
      status: { addresses: [{ type: "InternalIP", address: "198.51.100.7" }] },
    });
  });

  it("is unchanged by a status-only write (new resourceVersion, new conditions)", () => {
    const before = nodeView(node({ conditions: [{ type: "Ready", status: "True" }] }, "5"));
    const after = nodeView(node({ conditions: [{ type: "Ready", status: "Unknown" }] }, "9"));
    expect(sameView(before, after)).toBe(true);
    const moved = node({}, "10");
    moved.spec = { podCIDR: "10.42.4.0/24" };
    expect(sameView(before, nodeView(moved))).toBe(false);
  });
});

class Channel implements HubChannel {
  readonly sent: Envelope[] = [];
  private h: ((node: string, env: Envelope, stream: string) => void) | undefined;
  async send(_node: string, env: Envelope): Promise<void> {
    this.sent.push(env);
  }
  onEnvelope(h: (node: string, env: Envelope, stream: string) => void): () => void {
    this.h = h;
    return () => {};
  }
  onNodeDisconnected(): () => void {
    return () => {};
  }
  from(env: Envelope): void {
    this.h?.("n", env, "sync");
  }
}

describe("SyncHub resume by digest", () => {
  let ch: Channel;
  let source: MemoryDesiredSource;
  beforeEach(async () => {
    ch = new Channel();
    source = new MemoryDesiredSource();
    await new SyncHub({ channel: ch, source, status: { apply: () => {} } }).start();
    source.put("n", "a", obj("a"));
    source.put("n", "b", obj("b"));
    source.compact(); // history gone, as after a hub restart
  });

  it("answers an unchanged set with an empty delta up to the current revision", async () => {
    const h = envelope({
      type: "hello",
      node: "n",
      watermark: 1,
      agentVersion: "t",
      digest: digestOf(source.objects("n")),
    });
    ch.from(h);
    await vi.waitFor(() => expect(ch.sent).toHaveLength(1));
    expect(ch.sent[0]).toMatchObject({ type: "delta", replyTo: h.id, from: 1, to: 2, changes: [] });
  });

  it("sends a snapshot when the digest differs or is missing", async () => {
    ch.from(envelope({ type: "hello", node: "n", watermark: 1, agentVersion: "t", digest: digestOf([]) }));
    await vi.waitFor(() => expect(ch.sent.map((e) => e.type)).toEqual(["snapshot"]));
    ch.from(envelope({ type: "hello", node: "n", watermark: 1, agentVersion: "t" }));
    await vi.waitFor(() => expect(ch.sent.map((e) => e.type)).toEqual(["snapshot", "snapshot"]));
  });
});
