/**
 * FaultRig: the set-up every edge fault test shares — a real hub (FaultHub), a namespace with
 * ConfigMaps, a join token, a TCP proxy in front of the hub's MQTT port, and an in-process
 * agent joined through the real join code and connected through that proxy — plus the churn on
 * both ends and the final convergence check. Everything it makes it removes in cleanup(), in
 * reverse order, by handle. churningAgent() is the opening most fault tests share.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, onTestFinished, vi } from "vitest";
import type { Client } from "../../src/client/client.js";
import { mintToken } from "./edge-agent-sim.js";
import { ChildAgent, FaultAgent, type FaultAgentOptions, joinThrough } from "./fault-agent.js";
import { expectConverged } from "./fault-check.js";
import { HubChurn, seedNamespace } from "./fault-churn.js";
import { FaultHub, type FaultHubOptions, type StatusLedger } from "./fault-hub.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";
import { uniqueNode } from "./transport-fixture.js";

export class FaultRig {
  readonly hub: FaultHub;
  readonly ns = uniqueNode("ef");
  private readonly cleanups: Array<() => unknown> = [];

  constructor(hubOptions: FaultHubOptions = {}) {
    this.hub = new FaultHub(hubOptions);
  }

  /** Removes everything, last made first; safe to call after a failure half-way. */
  async cleanup(): Promise<void> {
    for (const c of this.cleanups.splice(0).reverse()) await c();
  }

  defer(fn: () => unknown): void {
    this.cleanups.push(fn);
  }

  tempDir(prefix: string): string {
    const d = mkdtempSync(join(tmpdir(), prefix));
    this.defer(() => rmSync(d, { recursive: true, force: true }));
    return d;
  }

  /** The hub's client while it is up (undefined while it is down). */
  client(): Client | undefined {
    return this.hub.up ? this.hub.h.hub.client : undefined;
  }

  mustClient(): Client {
    const c = this.client();
    if (!c) throw new Error("the hub is down");
    return c;
  }

  async startHub(): Promise<void> {
    this.defer(() => this.hub.destroy());
    await this.hub.start();
    await seedNamespace(this.mustClient(), this.ns);
  }

  async token(): Promise<string> {
    return mintToken(this.hub.h.hub, this.hub.h.dataDir);
  }

  /** A proxy to the hub's MQTT port (which stays the same across restarts). */
  async proxy(): Promise<TcpProxy> {
    const p = await startTcpProxy({ host: "127.0.0.1", port: this.hub.ports.mqtt });
    this.defer(() => p.close());
    return p;
  }

  /** Joins a new node and starts its in-process agent through `proxy`; waits until connected. */
  async agent(proxy: TcpProxy, opts: FaultAgentOptions = {}): Promise<FaultAgent> {
    const node = uniqueNode("edge");
    const dataDir = this.tempDir("ek-fault-agent-");
    await joinThrough(
      this.hub.h.hub.url,
      await this.token(),
      node,
      dataDir,
      `mqtts://127.0.0.1:${proxy.port}`,
    );
    const a = new FaultAgent(node, dataDir, this.ns, opts);
    this.defer(() => a.stop());
    await a.start();
    await vi.waitFor(() => expect(a.connected).toBe(true), { timeout: 15_000 });
    return a;
  }

  /**
   * Joins a new node for an `edge-agent run` child (not started yet) whose MQTT URL is
   * `mqttUrl`; `netns` runs it inside that network namespace.
   */
  async childAgent(mqttUrl: string, netns?: string): Promise<{ node: string; child: ChildAgent }> {
    const node = uniqueNode("edge");
    const dataDir = this.tempDir("ek-fault-child-");
    await joinThrough(this.hub.h.hub.url, await this.token(), node, dataDir, mqttUrl);
    const child = new ChildAgent(dataDir, netns);
    this.defer(() => child.stop());
    return { node, child };
  }

  /** Desired-state churn on the hub for `node`, one operation every `everyMs`. */
  churn(node: string, everyMs = 250): HubChurn {
    const c = new HubChurn(() => this.client(), this.ns, node);
    this.defer(() => c.stop());
    c.start(everyMs);
    return c;
  }

  ledger(): StatusLedger {
    return this.hub.ledger(this.ns);
  }

  /** Stops both churns, then checks convergence and the absence of duplicates. */
  async settle(a: FaultAgent, churn: HubChurn, ledger: StatusLedger, timeout = 30_000): Promise<void> {
    await churn.stop();
    a.stopStatusChurn();
    await expectConverged(
      {
        client: () => this.mustClient(),
        ns: this.ns,
        node: a.node,
        dataDir: a.dataDir,
        applied: a.applied,
        lastReported: a.lastReported,
        ledger,
      },
      timeout,
    );
    // the test really exercised the link: changes went both ways
    expect(churn.steps).toBeGreaterThan(5);
    expect(a.applied.size).toBeGreaterThan(5);
    expect([...ledger.writes.values()].flat().length).toBeGreaterThan(3);
  }
}

export interface ChurningAgentOptions {
  /** the agent reports pod status this often */
  statusEveryMs: number;
  /** the hub changes the node's desired state this often (default 250 ms) */
  churnEveryMs?: number;
  /** latency each way on the proxy, set before the agent first connects */
  proxyLatencyMs?: number;
  agent?: FaultAgentOptions;
  hub?: FaultHubOptions;
}

export interface ChurningAgent {
  rig: FaultRig;
  ledger: StatusLedger;
  proxy: TcpProxy;
  a: FaultAgent;
  churn: HubChurn;
}

/**
 * The opening of a single-agent fault test: a hub with its status ledger, a proxy, one agent
 * connected through it, the hub churning that agent's node and the agent reporting status. The
 * rig is removed when the calling test finishes, so tests in one file may run concurrently.
 */
export async function churningAgent(opts: ChurningAgentOptions): Promise<ChurningAgent> {
  const rig = new FaultRig(opts.hub);
  onTestFinished(() => rig.cleanup());
  await rig.startHub();
  const ledger = rig.ledger();
  const proxy = await rig.proxy();
  if (opts.proxyLatencyMs !== undefined) proxy.setLatency(opts.proxyLatencyMs);
  const a = await rig.agent(proxy, opts.agent);
  const churn = rig.churn(a.node, opts.churnEveryMs);
  a.startStatusChurn(opts.statusEveryMs);
  return { rig, ledger, proxy, a, churn };
}
