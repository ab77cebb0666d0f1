/**
 * The sync protocol end to end: SyncHub on a real aedes broker, SyncAgent on a real EdgeLink (over
 * TLS, through a TCP proxy we can cut), a real SQLite outbox, and in-memory source/sink.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { MqttBroker } from "../../../src/transport/broker.js";
import type { EdgeLink } from "../../../src/transport/client.js";
import { envelope, type StatusUpdate } from "../../../src/transport/envelope.js";
import { Outbox } from "../../../src/transport/outbox.js";
import { SyncAgent } from "../../../src/transport/sync-agent.js";
import { SyncHub } from "../../../src/transport/sync-hub.js";
import { MemoryDesiredSink, MemoryDesiredSource, obj } from "../../helpers/desired-memory.js";
import { startTcpProxy, type TcpProxy } from "../../helpers/tcp-proxy.js";
import { Fixture, uniqueNode } from "../../helpers/transport-fixture.js";

let fx: Fixture;
beforeEach(async () => {
  fx = await Fixture.create();
});
afterEach(async () => {
  await fx.cleanup();
});

class RecordingStatusSink {
  readonly log: Array<{ node: string; key: string; seq: number }> = [];
  readonly latest = new Map<string, unknown>();
  apply(node: string, u: StatusUpdate): void {
    this.log.push({ node, key: u.key, seq: u.seq });
    this.latest.set(u.key, u.status);
  }
}

interface Rig {
  node: string;
  source: MemoryDesiredSource;
  status: RecordingStatusSink;
  sink: MemoryDesiredSink;
  broker: MqttBroker;
  hub: SyncHub;
  proxy: TcpProxy;
  link: EdgeLink;
  agent: SyncAgent;
  outbox: Outbox;
}

async function startHub(source: MemoryDesiredSource, status: RecordingStatusSink, port = 0) {
  const broker = await fx.broker({ port });
  const hub = new SyncHub({ channel: broker, source, status, chunkBytes: 4096 });
  await hub.start();
  fx.defer(() => hub.stop());
  return { broker, hub };
}

async function rig(prepare?: (source: MemoryDesiredSource, node: string) => void): Promise<Rig> {
  const node = uniqueNode();
  const source = new MemoryDesiredSource();
  prepare?.(source, node);
  const status = new RecordingStatusSink();
  const { broker, hub } = await startHub(source, status);
  const proxy = await startTcpProxy({ host: "127.0.0.1", port: broker.address().port });
  fx.defer(() => proxy.close());
  const dir = mkdtempSync(join(tmpdir(), "ek-sync-"));
  fx.defer(() => rmSync(dir, { recursive: true, force: true }));
  const outbox = new Outbox(join(dir, "outbox.db"));
  fx.defer(() => outbox.close());
  const sink = new MemoryDesiredSink();
  const link = await fx.link(node, proxy.port, { backoff: { baseMs: 20, maxMs: 200 } });
  const agent = new SyncAgent({
    node,
    agentVersion: "test",
    channel: link,
    sink,
    outbox,
    replyTimeoutMs: 2000,
  });
  await agent.start();
  fx.defer(() => agent.stop());
  return { node, source, status, sink, broker, hub, proxy, link, agent, outbox };
}

async function converged(r: Rig): Promise<void> {
  await vi.waitFor(
    () => {
      expect(r.sink.sorted()).toEqual(r.source.objects(r.node));
      expect(r.sink.watermark()).toBe(r.source.revision);
    },
    { timeout: 15_000 },
  );
}

function noDuplicates(xs: string[]): void {
  expect(xs.length).toBe(new Set(xs).size);
}

describe("sync protocol", () => {
  it("answers hello with a delta, then pushes puts, updates and deletes; acks reach the hub", async () => {
    const r = await rig((s, node) => {
      s.put(node, "a", obj("a"));
      s.put(node, "b", obj("b"));
      s.put("other-node", "x", obj("x"));
    });
    await converged(r);
    r.source.put(r.node, "c", obj("c", { data: { k: "v" } }));
    r.source.delete(r.node, "a");
    r.source.put(r.node, "b", obj("b", { data: { k: "2" } }));
    await converged(r);
    expect([...r.sink.objects.keys()].sort()).toEqual(["b", "c"]);
    expect(r.sink.snapshots).toBe(0);
    noDuplicates(r.sink.applied);
    expect(r.sink.applied).not.toContain("put x@3");
    await vi.waitFor(() => expect(r.hub.nodeState(r.node)?.acked).toBe(r.source.revision));
  });

  it("sends a snapshot when the agent's watermark was compacted away; absent objects are deleted", async () => {
    const r = await rig((s, node) => {
      for (let i = 0; i < 20; i++) s.put(node, `o${i}`, obj(`o${i}`, { data: { pad: "x".repeat(500) } }));
    });
    await converged(r);
    r.proxy.setMode("cut");
    await vi.waitFor(() => expect(r.link.connected).toBe(false));
    await vi.waitFor(() => expect(r.hub.nodeState(r.node)).toBeUndefined()); // session dropped
    r.source.delete(r.node, "o0");
    r.source.put(r.node, "new", obj("new"));
    r.source.compact();
    r.proxy.setMode("pass");
    await converged(r);
    expect(r.sink.snapshots).toBe(1);
    expect(r.sink.objects.has("o0")).toBe(false);
    expect(r.sink.objects.has("new")).toBe(true);
  });

  it("drops stale status (an older sequence for the same object) and acks it anyway", async () => {
    const r = await rig();
    await vi.waitFor(() => expect(r.link.connected).toBe(true), { timeout: 10_000 });
    const acks: number[] = [];
    r.link.on("status-ack", (e) => acks.push(e.upTo));
    await r.link.send(
      envelope({ type: "status", epoch: "e1", updates: [{ key: "k", seq: 5, status: "new" }] }),
    );
    await r.link.send(
      envelope({ type: "status", epoch: "e1", updates: [{ key: "k", seq: 3, status: "old" }] }),
    );
    await vi.waitFor(() => expect(acks).toEqual([5, 3]));
    expect(r.status.log.map((e) => e.seq)).toEqual([5]);
    expect(r.status.latest.get("k")).toBe("new");
    // a new outbox epoch (agent data wiped) starts the numbering over
    await r.link.send(
      envelope({ type: "status", epoch: "e2", updates: [{ key: "k", seq: 1, status: "fresh" }] }),
    );
    await vi.waitFor(() => expect(r.status.latest.get("k")).toBe("fresh"));
  });

  it("queues status while offline, coalesced, and delivers it after reconnect", async () => {
    const r = await rig();
    await vi.waitFor(() => expect(r.link.connected).toBe(true), { timeout: 10_000 });
    r.proxy.setMode("cut");
    await vi.waitFor(() => expect(r.link.connected).toBe(false));
    for (let i = 1; i <= 5; i++) r.agent.reportStatus("pod/a", { phase: `p${i}` });
    r.agent.reportStatus("pod/b", { phase: "Running" });
    expect(r.outbox.size()).toBe(2);
    r.proxy.setMode("pass");
    await vi.waitFor(() => expect(r.outbox.size()).toBe(0), { timeout: 10_000 });
    expect(r.status.log.map((e) => e.key)).toEqual(["pod/a", "pod/b"]);
    expect(r.status.latest.get("pod/a")).toEqual({ phase: "p5" });
  });

  it("converges after the broker (and hub sync) restart on the same port", async () => {
    const r = await rig((s, node) => s.put(node, "a", obj("a")));
    await converged(r);
    const port = r.broker.address().port;
    r.hub.stop();
    await r.broker.stop();
    await vi.waitFor(() => expect(r.link.connected).toBe(false));
    r.source.put(r.node, "b", obj("b"));
    r.source.delete(r.node, "a");
    r.agent.reportStatus("pod/a", { phase: "Running" });

    const status2 = new RecordingStatusSink();
    await startHub(r.source, status2, port);
    await converged(r);
    await vi.waitFor(() => expect(status2.latest.get("pod/a")).toEqual({ phase: "Running" }), {
      timeout: 10_000,
    });
    noDuplicates(r.sink.applied);
  });

  it("converges over a flapping link with no lost and no duplicated update", async () => {
    const r = await rig();
    await vi.waitFor(() => expect(r.link.connected).toBe(true), { timeout: 10_000 });
    let tick = 0;
    const writer = setInterval(() => {
      tick++;
      r.source.put(r.node, `k${tick % 7}`, obj(`k${tick % 7}`, { data: { tick: String(tick) } }));
      if (tick % 5 === 0) r.source.delete(r.node, `k${(tick + 3) % 7}`);
      r.agent.reportStatus(`pod/${tick % 4}`, { tick });
    }, 30);
    const flapper = setInterval(() => r.proxy.setMode(r.proxy.mode === "pass" ? "cut" : "pass"), 200);
    fx.defer(() => {
      clearInterval(writer);
      clearInterval(flapper);
    });
    await vi.waitFor(() => expect(tick).toBeGreaterThanOrEqual(100), { timeout: 20_000 });
    clearInterval(flapper);
    clearInterval(writer);
    r.proxy.setMode("pass");

    await converged(r);
    noDuplicates(r.sink.applied);
    await vi.waitFor(() => expect(r.outbox.size()).toBe(0), { timeout: 15_000 });
    for (let i = 0; i < 4; i++) {
      const last = Math.max(...Array.from({ length: tick }, (_, t) => t + 1).filter((t) => t % 4 === i));
      expect(r.status.latest.get(`pod/${i}`)).toEqual({ tick: last });
    }
    noDuplicates(r.status.log.map((e) => `${e.key}#${e.seq}`));
    expect(r.proxy.accepted).toBeGreaterThan(3);
  });
});
