/**
 * SyncAgent's protocol logic against a recording fake channel (no network): which messages it
 * applies, ignores or answers with a fresh hello.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DesiredChange, Envelope, EnvelopeOf, EnvelopeType } from "../../../src/transport/envelope.js";
import { envelope } from "../../../src/transport/envelope.js";
import { Outbox } from "../../../src/transport/outbox.js";
import { type AgentChannel, SyncAgent } from "../../../src/transport/sync-agent.js";
import { MemoryDesiredSink, obj } from "../../helpers/desired-memory.js";

class FakeChannel implements AgentChannel {
  connected = true;
  readonly sent: Envelope[] = [];
  private readonly handlers = new Map<string, (e: Envelope) => void>();
  private status: ((s: { type: "connected" | "disconnected" }) => void) | undefined;
  async send(env: Envelope): Promise<void> {
    this.sent.push(env);
  }
  on<T extends EnvelopeType>(type: T, handler: (env: EnvelopeOf<T>) => void): () => void {
    this.handlers.set(type, handler as (e: Envelope) => void);
    return () => this.handlers.delete(type);
  }
  onStatus(handler: (s: { type: "connected" | "disconnected" }) => void): () => void {
    this.status = handler;
    return () => {
      this.status = undefined;
    };
  }
  deliver(env: Envelope): void {
    this.handlers.get(env.type)?.(env);
  }
  flip(up: boolean): void {
    this.connected = up;
    this.status?.({ type: up ? "connected" : "disconnected" });
  }
  lastHello(): EnvelopeOf<"hello"> {
    const h = this.sent.filter((e): e is EnvelopeOf<"hello"> => e.type === "hello").at(-1);
    if (!h) throw new Error("no hello sent");
    return h;
  }
  types(): string[] {
    return this.sent.map((e) => e.type);
  }
}

const put = (key: string, revision: number): DesiredChange => ({
  op: "put",
  key,
  revision,
  object: obj(key),
});

let dir: string;
let ch: FakeChannel;
let sink: MemoryDesiredSink;
let outbox: Outbox;
let agent: SyncAgent;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "ek-agent-"));
  ch = new FakeChannel();
  sink = new MemoryDesiredSink();
  outbox = new Outbox(join(dir, "o.db"));
  agent = new SyncAgent({ node: "n1", agentVersion: "t", channel: ch, sink, outbox, heartbeatMs: 60_000 });
  await agent.start();
});
afterEach(() => {
  agent.stop();
  outbox.close();
  rmSync(dir, { recursive: true, force: true });
});

function delta(from: number, to: number, changes: DesiredChange[], replyTo?: string): Envelope {
  return envelope({ type: "delta", from, to, changes, ...(replyTo ? { replyTo } : {}) });
}

describe("SyncAgent", () => {
  it("says hello with its watermark on connect and ignores deltas until the answer", () => {
    expect(ch.lastHello()).toMatchObject({ node: "n1", watermark: 0 });
    ch.deliver(delta(0, 3, [put("stale", 3)])); // from an older session: no replyTo
    expect(sink.objects.size).toBe(0);
    ch.deliver(delta(0, 2, [put("a", 2)], ch.lastHello().id));
    expect(sink.watermark()).toBe(2);
    ch.deliver(delta(2, 4, [put("b", 4)]));
    expect([...sink.objects.keys()]).toEqual(["a", "b"]);
    expect(ch.sent.filter((e) => e.type === "ack").map((e) => e.type === "ack" && e.watermark)).toEqual([
      2, 4,
    ]);
  });

  it("resyncs with a new hello on a gap instead of applying a set with a hole", () => {
    ch.deliver(delta(0, 2, [put("a", 2)], ch.lastHello().id));
    ch.deliver(delta(5, 7, [put("c", 7)]));
    expect(sink.objects.has("c")).toBe(false);
    expect(ch.types().filter((t) => t === "hello")).toHaveLength(2);
    expect(ch.lastHello().watermark).toBe(2);
  });

  it("skips changes at or below its watermark and never lets an older revision win", () => {
    ch.deliver(delta(0, 5, [put("a", 5)], ch.lastHello().id));
    ch.deliver(delta(3, 8, [put("a", 4), put("b", 6), { op: "delete", key: "zz", revision: 7 }]));
    expect(sink.applied).toEqual(["put a@5", "put b@6"]);
    expect(sink.watermark()).toBe(8);
  });

  it("applies a put and the later delete of a key it does not hold yet, both in one delta", () => {
    ch.deliver(delta(0, 2, [put("a", 2)], ch.lastHello().id));
    ch.deliver(
      delta(2, 7, [
        put("k", 3),
        { op: "delete", key: "k", revision: 4 },
        put("k", 5),
        { op: "delete", key: "k", revision: 6 },
        { op: "delete", key: "never", revision: 7 },
      ]),
    );
    expect(sink.applied).toEqual(["put a@2", "put k@3", "delete k@4", "put k@5", "delete k@6"]);
    expect(sink.version("k")).toBeUndefined();
    expect(sink.watermark()).toBe(7);
  });

  it("applies a chunked snapshot only when complete, replacing the whole set", () => {
    ch.deliver(delta(0, 1, [put("old", 1)], ch.lastHello().id));
    ch.flip(false);
    ch.flip(true);
    const id = ch.lastHello().id;
    const chunk = (i: number, key: string) =>
      envelope({
        type: "snapshot",
        replyTo: id,
        snapshotId: "s",
        revision: 9,
        chunk: i,
        chunks: 2,
        objects: [{ key, revision: i + 2, object: obj(key) }],
      });
    ch.deliver(chunk(0, "x"));
    expect(sink.snapshots).toBe(0);
    ch.deliver(chunk(1, "y"));
    expect([...sink.objects.keys()].sort()).toEqual(["x", "y"]);
    expect(sink.watermark()).toBe(9);
  });

  it("drops a snapshot with a missing chunk and asks again", () => {
    const id = ch.lastHello().id;
    ch.deliver(
      envelope({
        type: "snapshot",
        replyTo: id,
        snapshotId: "s",
        revision: 9,
        chunk: 1,
        chunks: 2,
        objects: [],
      }),
    );
    expect(sink.snapshots).toBe(0);
    expect(ch.types().filter((t) => t === "hello")).toHaveLength(2);
  });

  it("sends one status batch at a time and deletes it from the outbox on the hub's ack", async () => {
    agent.reportStatus("pod/a", { phase: "Running" });
    agent.reportStatus("pod/b", { phase: "Pending" });
    await Promise.resolve(); // reports of one tick share a batch
    const batches = ch.sent.filter((e): e is EnvelopeOf<"status"> => e.type === "status");
    expect(batches).toHaveLength(1);
    const first = batches[0];
    expect(first?.updates.map((u) => u.key)).toEqual(["pod/a", "pod/b"]);
    agent.reportStatus("pod/c", { phase: "Running" });
    await Promise.resolve();
    // the next waits for the ack of the first
    expect(ch.sent.filter((e) => e.type === "status")).toHaveLength(1);
    ch.deliver(envelope({ type: "status-ack", epoch: outbox.epoch, upTo: first?.updates[1]?.seq ?? 0 }));
    const next = ch.sent.filter((e): e is EnvelopeOf<"status"> => e.type === "status");
    expect(next).toHaveLength(2);
    expect(next.at(-1)?.updates.map((u) => u.key)).toEqual(["pod/c"]);
    expect(outbox.size()).toBe(1);
    ch.deliver(envelope({ type: "status-ack", epoch: "someone-else", upTo: 1e9 }));
    expect(outbox.size()).toBe(1);
  });
});
