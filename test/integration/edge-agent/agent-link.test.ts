/**
 * The edge agent over a real link: EdgeAgent started from a data dir (real SQLite cache and
 * outbox), real mqtt.js over TLS through a TCP proxy we cut, black-hole or slow down, a real aedes
 * broker and SyncHub on the hub side with an in-memory desired source. Every test ends with the
 * hub's and the agent's views equal and no update applied twice.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { KubeObject } from "../../../src/api/object.js";
import { EdgeAgent, type EdgeAgentOptions } from "../../../src/edge-agent/agent.js";
import {
  type AgentConfig,
  agentPaths,
  loadAgentConfig,
  saveAgentState,
} from "../../../src/edge-agent/config.js";
import type { NodeFacts } from "../../../src/edge-agent/node-facts.js";
import { collectStatus, formatStatus } from "../../../src/edge-agent/status-report.js";
import type { StatusUpdate } from "../../../src/transport/envelope.js";
import { SyncHub } from "../../../src/transport/sync-hub.js";
import { MemoryDesiredSource } from "../../helpers/desired-memory.js";
import { startTcpProxy, type TcpProxy } from "../../helpers/tcp-proxy.js";
import { Fixture, uniqueNode } from "../../helpers/transport-fixture.js";

const FACTS: NodeFacts = {
  architecture: "arm64",
  operatingSystem: "linux",
  kernelVersion: "6.1.0-test",
  osImage: "Debian GNU/Linux 12 (bookworm)",
  containerRuntimeVersion: "docker://unknown",
  cpu: 4,
  memoryBytes: 1024 ** 3,
  ephemeralStorageBytes: 32 * 1024 ** 3,
  pods: 110,
  machineID: "m",
  bootID: "b",
  hostname: "pi",
};

class RecordingStatusSink {
  readonly log: Array<{ key: string; seq: number }> = [];
  readonly latest = new Map<string, unknown>();
  apply(_node: string, u: StatusUpdate): void {
    this.log.push({ key: u.key, seq: u.seq });
    this.latest.set(u.key, u.status);
  }
}

let fx: Fixture;
beforeEach(async () => {
  fx = await Fixture.create();
});
afterEach(async () => {
  await fx.cleanup();
});

interface Rig {
  node: string;
  dataDir: string;
  source: MemoryDesiredSource;
  status: RecordingStatusSink;
  proxy: TcpProxy;
  /** every cache change the agent saw, "put key@rev" / "delete key@rev" */
  applied: string[];
  agent: EdgeAgent;
  startAgent(): Promise<EdgeAgent>;
}

const pod = (node: string, name: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default" },
  spec: { nodeName: node, containers: [{ name: "c", image: "busybox" }] },
  ...extra,
});
const podKey = (name: string) => `core/pods/default/${name}`;

async function rig(
  prepare?: (s: MemoryDesiredSource, node: string) => void,
  keepaliveSeconds = 2,
): Promise<Rig> {
  const node = uniqueNode("agent");
  const source = new MemoryDesiredSource();
  prepare?.(source, node);
  const status = new RecordingStatusSink();
  const broker = await fx.broker();
  const hub = new SyncHub({ channel: broker, source, status });
  await hub.start();
  fx.defer(() => hub.stop());
  const proxy = await startTcpProxy({ host: "127.0.0.1", port: broker.address().port });
  fx.defer(() => proxy.close());
  const dataDir = mkdtempSync(join(tmpdir(), "ek-agent-"));
  fx.defer(() => rmSync(dataDir, { recursive: true, force: true }));
  const nodeCert = await fx.pki.node(node);
  const config: AgentConfig = {
    version: 1,
    hubUrl: "https://127.0.0.1:6443",
    nodeName: node,
    nodeIP: "127.0.0.1",
    mqtt: { url: `mqtts://127.0.0.1:${proxy.port}`, wsUrl: "wss://127.0.0.1:6443/mqtt" },
    useWebSocket: false,
    podCIDR: "10.42.1.0/24",
    clusterCIDR: "10.42.0.0/16",
    serviceCIDR: "10.43.0.0/16",
    clusterDNS: "10.43.0.10",
    clusterDomain: "cluster.local",
    joinedAt: new Date().toISOString(),
  };
  saveAgentState(agentPaths(dataDir), config, {
    ca: fx.pki.ca.certPem,
    cert: nodeCert.certPem,
    key: nodeCert.keyPem,
  });
  const applied: string[] = [];
  const r: Rig = {
    node,
    dataDir,
    source,
    status,
    proxy,
    applied,
    agent: undefined as unknown as EdgeAgent,
    async startAgent() {
      // like `edge-agent run`: everything comes from the data dir
      const opts: EdgeAgentOptions = {
        dataDir,
        config: loadAgentConfig(agentPaths(dataDir)),
        credentials: { ca: fx.pki.ca.certPem, cert: nodeCert.certPem, key: nodeCert.keyPem },
        facts: FACTS,
        agentVersion: "test",
        link: { keepaliveSeconds, backoff: { baseMs: 50, maxMs: 400 }, connectTimeoutMs: 2000 },
        replyTimeoutMs: 2000,
        heartbeat: { checkMs: 300 },
        statusFile: { minIntervalMs: 50, sampleMs: 100 },
      };
      const agent = new EdgeAgent(opts);
      fx.defer(() => agent.stop());
      agent.onCacheChange((cs) => applied.push(...cs.map((c) => `${c.type} ${c.key}@${c.revision}`)));
      await agent.start();
      r.agent = agent;
      return agent;
    },
  };
  await r.startAgent();
  return r;
}

async function converged(r: Rig, timeout = 60_000): Promise<void> {
  await vi.waitFor(
    () => {
      const want = r.source
        .objects(r.node)
        .filter((o) => o.key.startsWith("core/pods/"))
        .map((o) => o.object.metadata.name);
      expect(r.agent.cache.pods().map((p) => p.metadata?.name)).toEqual(want);
      expect(r.agent.watermark()).toBe(r.source.revision);
    },
    { timeout },
  );
  const seen = r.applied.filter((a) => a.startsWith("put"));
  expect(seen.length).toBe(new Set(seen).size); // nothing applied twice
}

describe("edge agent on a real link", () => {
  it("restarts with the hub unreachable and serves its cached set; catches up on reconnect", async () => {
    const r = await rig((s, node) => {
      s.put(node, podKey("a"), pod(node, "a"));
      s.put(node, podKey("b"), pod(node, "b"));
      s.put(node, "core/configmaps/default/cfg", {
        kind: "ConfigMap",
        metadata: { name: "cfg", namespace: "default" },
        data: { k: "v" },
      });
    });
    await converged(r);
    r.proxy.setMode("cut");
    await r.agent.stop();
    // device reboot offline: a new agent process from the same data dir
    const applied = r.applied.length;
    const agent2 = await r.startAgent();
    expect(agent2.connected).toBe(false);
    expect(agent2.cache.pods().map((p) => p.metadata?.name)).toEqual(["a", "b"]);
    expect(agent2.cache.configMap("default", "cfg")?.data).toEqual({ k: "v" });
    expect(r.applied.length).toBe(applied); // nothing deleted or re-applied while offline
    await vi.waitFor(() =>
      expect(formatStatus(collectStatus(agentPaths(r.dataDir)))).toMatch(/connection: +disconnected since/),
    );
    expect(formatStatus(collectStatus(agentPaths(r.dataDir)))).toMatch(/core\/pods=2/);
    // while away, the hub deleted one pod, changed another and added a third
    r.source.delete(r.node, podKey("a"));
    r.source.put(
      r.node,
      podKey("b"),
      pod(r.node, "b", { metadata: { name: "b", namespace: "default", labels: { v: "2" } } }),
    );
    r.source.put(r.node, podKey("c"), pod(r.node, "c"));
    agent2.reportPodStatus("default", "b", { phase: "Running" }, 2);
    r.proxy.setMode("pass");
    await converged(r);
    expect(agent2.cache.pod("default", "b")?.metadata?.labels).toEqual({ v: "2" });
    await vi.waitFor(() => expect(r.status.latest.get("pod/default/b")).toEqual({ phase: "Running" }));
    // this run's hello was answered by a delta from the watermark (no compaction in between)
    expect(agent2.syncStats()).toMatchObject({ resumed: 1, refetched: 0, snapshots: 0 });
    await vi.waitFor(() =>
      expect(formatStatus(collectStatus(agentPaths(r.dataDir)))).toMatch(
        /resyncs: +1 resumed from the watermark, 0 full snapshot\(s\)/,
      ),
    );
    await vi.waitFor(() =>
      expect(formatStatus(collectStatus(agentPaths(r.dataDir)))).toMatch(/connection: +connected since/),
    );
  });

  it("a cut link: changes on both sides during the cut converge, none lost or duplicated", async () => {
    const r = await rig((s, node) => s.put(node, podKey("a"), pod(node, "a")));
    await converged(r);
    r.proxy.setMode("cut");
    await vi.waitFor(() => expect(r.agent.connected).toBe(false));
    for (let i = 0; i < 5; i++) r.source.put(r.node, podKey(`p${i}`), pod(r.node, `p${i}`));
    r.source.delete(r.node, podKey("a"));
    for (let i = 1; i <= 3; i++) r.agent.reportPodStatus("default", "p0", { phase: `v${i}` });
    expect(r.agent.cache.pods().map((p) => p.metadata?.name)).toEqual(["a"]); // offline: nothing removed
    const tries = r.proxy.accepted;
    await vi.waitFor(() => expect(r.proxy.accepted).toBeGreaterThan(tries + 2)); // it keeps retrying
    r.proxy.setMode("pass");
    await converged(r);
    await vi.waitFor(() => expect(r.status.latest.get("pod/default/p0")).toEqual({ phase: "v3" }));
    const p0 = r.status.log.filter((e) => e.key === "pod/default/p0").map((e) => e.seq);
    expect(p0).toEqual([...p0].sort((a, b) => a - b)); // in order, never an older one after a newer
    expect(r.proxy.accepted).toBeGreaterThan(1);
  });

  it("a flapping link converges with no lost and no duplicated update", async () => {
    const r = await rig();
    await vi.waitFor(() => expect(r.agent.connected).toBe(true), { timeout: 10_000 });
    let tick = 0;
    const writer = setInterval(() => {
      tick++;
      r.source.put(
        r.node,
        podKey(`k${tick % 5}`),
        pod(r.node, `k${tick % 5}`, {
          metadata: { name: `k${tick % 5}`, namespace: "default", labels: { t: String(tick) } },
        }),
      );
      if (tick % 4 === 0) r.source.delete(r.node, podKey(`k${(tick + 2) % 5}`));
      r.agent.reportPodStatus("default", `k${tick % 3}`, { tick });
    }, 40);
    const flapper = setInterval(() => r.proxy.setMode(r.proxy.mode === "pass" ? "cut" : "pass"), 250);
    fx.defer(() => {
      clearInterval(writer);
      clearInterval(flapper);
    });
    await vi.waitFor(() => expect(tick).toBeGreaterThanOrEqual(60), { timeout: 60_000 });
    clearInterval(flapper);
    clearInterval(writer);
    r.proxy.setMode("pass");
    await converged(r);
    await vi.waitFor(() => expect(r.agent.pendingStatus()).toBe(0), { timeout: 45_000 });
    for (let i = 0; i < 3; i++) {
      const last = Math.max(...Array.from({ length: tick }, (_, t) => t + 1).filter((t) => t % 3 === i));
      expect(r.status.latest.get(`pod/default/k${i}`)).toEqual({ tick: last });
    }
    expect(r.proxy.accepted).toBeGreaterThan(3);
  }, 150_000);

  it("a black-holed link is noticed by keepalive and recovers when packets flow again", async () => {
    const r = await rig((s, node) => s.put(node, podKey("a"), pod(node, "a")), 1);
    await converged(r);
    r.proxy.setMode("blackhole");
    await vi.waitFor(() => expect(r.agent.connected).toBe(false), { timeout: 10_000 });
    r.source.put(r.node, podKey("b"), pod(r.node, "b"));
    r.source.delete(r.node, podKey("a"));
    expect(r.agent.cache.pods().map((p) => p.metadata?.name)).toEqual(["a"]);
    r.proxy.setMode("pass");
    await converged(r, 20_000);
  });

  it("a slow link (300 ms each way) still converges and delivers status", async () => {
    const r = await rig((s, node) => s.put(node, podKey("a"), pod(node, "a")));
    r.proxy.setLatency(300);
    await converged(r);
    for (let i = 0; i < 5; i++) r.source.put(r.node, podKey(`s${i}`), pod(r.node, `s${i}`));
    r.agent.reportPodStatus("default", "s4", { phase: "Pending" });
    await converged(r);
    await vi.waitFor(() => expect(r.status.latest.get("pod/default/s4")).toEqual({ phase: "Pending" }), {
      timeout: 10_000,
    });
    expect(r.status.latest.get(`lease/${r.node}`)).toMatchObject({ holderIdentity: r.node });
    expect(r.status.latest.get(`node/${r.node}`)).toMatchObject({
      capacity: { cpu: "4", pods: "110" },
      conditions: [{ type: "Ready", status: "True", reason: "KubeletReady" }],
    });
  });
});
