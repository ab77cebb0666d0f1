/** SyncHub's protocol decisions against a recording fake channel and the in-memory source. */
import { beforeEach, describe, expect, it, vi } from "vitest";
import { type Envelope, envelope, type StatusUpdate } from "../../../src/transport/envelope.js";
import { type HubChannel, SyncHub } from "../../../src/transport/sync-hub.js";
import { MemoryDesiredSource, obj } from "../../helpers/desired-memory.js";

class FakeHubChannel implements HubChannel {
  readonly sent: Array<[string, Envelope]> = [];
  private handler: ((node: string, env: Envelope, stream: string) => void) | undefined;
  private down: ((node: string) => void) | undefined;
  async send(node: string, env: Envelope): Promise<void> {
    this.sent.push([node, env]);
  }
  onEnvelope(h: (node: string, env: Envelope, stream: string) => void): () => void {
    this.handler = h;
    return () => {
      this.handler = undefined;
    };
  }
  onNodeDisconnected(h: (node: string) => void): () => void {
    this.down = h;
    return () => {
      this.down = undefined;
    };
  }
  fromNode(node: string, env: Envelope): void {
    this.handler?.(node, env, "sync");
  }
  disconnect(node: string): void {
    this.down?.(node);
  }
  types(): string[] {
    return this.sent.map(([, e]) => e.type);
  }
}

let ch: FakeHubChannel;
let source: MemoryDesiredSource;
let applied: StatusUpdate[];
let hub: SyncHub;
beforeEach(async () => {
  ch = new FakeHubChannel();
  source = new MemoryDesiredSource();
  applied = [];
  hub = new SyncHub({ channel: ch, source, status: { apply: (_n, u) => void applied.push(u) } });
  await hub.start();
});

const hello = (node: string, watermark: number) =>
  envelope({ type: "hello", node, watermark, agentVersion: "t" });

describe("SyncHub", () => {
  it("answers a hello with a delta carrying replyTo, then pushes changes as they happen", async () => {
    source.put("n", "a", obj("a"));
    const h = hello("n", 0);
    ch.fromNode("n", h);
    await vi.waitFor(() => expect(ch.sent).toHaveLength(1));
    expect(ch.sent[0]?.[1]).toMatchObject({ type: "delta", replyTo: h.id, from: 0, to: 1 });
    source.put("n", "b", obj("b"));
    source.put("n", "c", obj("c")); // a burst may coalesce into one delta
    await vi.waitFor(() => expect(hub.nodeState("n")?.sent).toBe(3));
    const last = ch.sent.at(-1)?.[1];
    expect(last?.type === "delta" && last.to).toBe(3);
  });

  it("sends a snapshot for a watermark from the future (hub restored from an older backup)", async () => {
    source.put("n", "a", obj("a"));
    ch.fromNode("n", hello("n", 99));
    await vi.waitFor(() => expect(ch.types()).toEqual(["snapshot"]));
    expect(hub.nodeState("n")?.sent).toBe(1);
  });

  it("ignores a hello that names another node, and stops pushing after a disconnect", async () => {
    ch.fromNode("n", hello("someone-else", 0));
    expect(hub.nodeState("n")).toBeUndefined();
    ch.fromNode("n", hello("n", 0));
    await vi.waitFor(() => expect(ch.sent).toHaveLength(1));
    ch.disconnect("n");
    expect(hub.nodeState("n")).toBeUndefined();
    source.put("n", "late", obj("late"));
    await Promise.resolve();
    expect(ch.sent).toHaveLength(1);
  });

  it("applies status once per (key, newer seq) and acks the highest seq it saw", async () => {
    const status = (updates: Array<[string, number]>) =>
      envelope({
        type: "status",
        epoch: "e",
        updates: updates.map(([key, seq]) => ({ key, seq, status: seq })),
      });
    ch.fromNode(
      "n",
      status([
        ["a", 2],
        ["b", 3],
      ]),
    );
    ch.fromNode(
      "n",
      status([
        ["a", 1],
        ["b", 3],
        ["a", 4],
      ]),
    );
    await vi.waitFor(() => expect(ch.types()).toEqual(["status-ack", "status-ack"]));
    expect(applied.map((u) => `${u.key}#${u.seq}`)).toEqual(["a#2", "b#3", "a#4"]);
    expect(ch.sent.map(([, e]) => e.type === "status-ack" && e.upTo)).toEqual([3, 4]);
  });
});
