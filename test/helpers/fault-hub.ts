/**
 * FaultHub: a real hub for the edge fault tests that can be stopped and started again on the
 * same data dir and ports (a hub restart), or have only its MQTT broker restarted, while a
 * StatusLedger keeps counting pod status writes in the store across those restarts.
 *
 * Design notes
 * - Ports are fixed for the hub's whole life: the API port is the one the first start got, the
 *   MQTT port is picked free up front, because MqttBroker.start() re-listens on its configured
 *   port and a broker restarted on port 0 would move away from the agents.
 * - The ledger watches the store itself (the store watch replays the revision log), so a write
 *   made just before a stop is still seen after the next start: it resumes from the last
 *   revision it saw. That is the hub-side half of "no update lost or applied twice".
 * - A status write is recognised as an update that changed nothing but the status (spec,
 *   labels, annotations and deletion marks equal to the previous value): that is exactly what
 *   the status subresource may change, and the churn in these tests never writes status.
 */
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import type { KubeObject } from "../../src/api/object.js";
import type { Watch, WatchEvent } from "../../src/hub/store/backend.js";
import { startHub, type TestHub } from "./hub.js";

/** A TCP port free on 127.0.0.1 right now (the hub binds it next). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once("error", reject);
    srv.listen({ host: "127.0.0.1", port: 0 }, () => resolve());
  });
  const a = srv.address();
  await new Promise<void>((r) => srv.close(() => r()));
  if (a === null || typeof a === "string") throw new Error("no TCP address for a free port");
  return a.port;
}

/** Per pod key: the status generations the hub wrote, in store order. */
export class StatusLedger {
  readonly writes = new Map<string, string[]>();
  private watch: Watch | undefined;
  private revision = 0;

  constructor(private readonly namespace: string) {}

  attach(h: TestHub): void {
    const store = h.hub.store;
    const registry = h.hub.registry;
    if (!store || !registry) throw new Error("StatusLedger.attach: the hub is not started");
    const prefix = store.prefix(registry.byKind("", "Pod")!, this.namespace);
    if (this.revision === 0) this.revision = store.backend.currentRevision();
    this.watch = store.backend.watch(prefix, {
      fromRevision: this.revision,
      onEvents: (events) => {
        for (const e of events) this.record(e);
      },
      onError: () => undefined, // the hub is stopping; attach() after the restart resumes
    });
  }

  detach(): void {
    this.watch?.cancel();
    this.watch = undefined;
  }

  /** Generations written more than once or after a newer one, per pod (empty = none). */
  problems(): string[] {
    const out: string[] = [];
    for (const [pod, gens] of this.writes) {
      const nums = gens.map(genNumber);
      for (let i = 1; i < nums.length; i++) {
        if (nums[i]! <= nums[i - 1]!) out.push(`${pod}: status ${gens[i]} written after ${gens[i - 1]}`);
      }
    }
    return out;
  }

  private record(e: WatchEvent): void {
    this.revision = Math.max(this.revision, e.kv.revision);
    if (e.type !== "update" || !e.prev) return;
    const cur = JSON.parse(e.kv.value) as KubeObject;
    const prev = JSON.parse(e.prev.value) as KubeObject;
    if (shape(cur) !== shape(prev)) return; // a spec/metadata change by the churn, not status
    const gen = (cur.status as { message?: unknown } | undefined)?.message;
    const name = cur.metadata.name ?? "";
    const list = this.writes.get(name) ?? [];
    list.push(typeof gen === "string" ? gen : "(none)");
    this.writes.set(name, list);
  }
}

function shape(o: KubeObject): string {
  const m = o.metadata;
  return JSON.stringify([o.spec, m.labels, m.annotations, m.deletionTimestamp, m.finalizers]);
}

/** "g12" → 12; anything else sorts first. */
export function genNumber(gen: string | undefined): number {
  const m = /^g(\d+)$/.exec(gen ?? "");
  return m ? Number(m[1]) : -1;
}

export interface FaultHubOptions {
  /** address the MQTT listener binds (default 127.0.0.1; a veth address for netns agents) */
  mqttBindAddress?: string;
  tlsSans?: string[];
}

export class FaultHub {
  private current: TestHub | undefined;
  private dataDir: string | undefined;
  private httpsPort = 0;
  private mqttPort = 0;
  private readonly ledgers: StatusLedger[] = [];

  constructor(private readonly opts: FaultHubOptions = {}) {}

  get h(): TestHub {
    if (!this.current) throw new Error("FaultHub: the hub is stopped");
    return this.current;
  }

  get up(): boolean {
    return this.current !== undefined;
  }

  get ports(): { https: number; mqtt: number } {
    return { https: this.httpsPort, mqtt: this.mqttPort };
  }

  async start(): Promise<void> {
    if (this.current) return;
    if (this.mqttPort === 0) this.mqttPort = await freePort();
    this.current = await startHub({
      ...(this.dataDir ? { dataDir: this.dataDir } : {}),
      httpsPort: this.httpsPort,
      mqttPort: this.mqttPort,
      // keep the revision log: the ledger replays it across restarts
      compactionIntervalMs: 600_000,
      leaseFlushIntervalMs: 2_000,
      ...(this.opts.mqttBindAddress ? { mqttBindAddress: this.opts.mqttBindAddress } : {}),
      ...(this.opts.tlsSans ? { tlsSans: this.opts.tlsSans } : {}),
    });
    this.dataDir = this.current.dataDir;
    this.httpsPort = Number(new URL(this.current.hub.url).port);
    for (const l of this.ledgers) l.attach(this.current);
  }

  /** Stops the hub, keeping its data dir for the next start(). */
  async stop(): Promise<void> {
    const h = this.current;
    if (!h) return;
    this.current = undefined;
    for (const l of this.ledgers) l.detach();
    await h.stop({ keepData: true });
  }

  /** Restarts only the embedded MQTT broker (same port): every link drops, the hub stays up. */
  async restartBroker(downMs: number): Promise<void> {
    const broker = this.h.hub.edgeService.broker;
    await broker.stop();
    await new Promise((r) => setTimeout(r, downMs)); // the outage itself, not a wait for state
    await broker.start();
  }

  ledger(namespace: string): StatusLedger {
    const l = new StatusLedger(namespace);
    if (this.current) l.attach(this.current);
    this.ledgers.push(l);
    return l;
  }

  /** Stops the hub and deletes its data dir. */
  async destroy(): Promise<void> {
    for (const l of this.ledgers.splice(0)) l.detach();
    const h = this.current;
    this.current = undefined;
    if (h) await h.stop();
    else if (this.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
