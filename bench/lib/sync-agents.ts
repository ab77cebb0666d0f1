/**
 * bench/sync worker: many simulated edge agents in one process, each speaking the real protocol
 * (EdgeLink over mqtts with its own per-node password or client certificate, SyncAgent, the
 * production NodeHeartbeat)
 * from its own 127.0.0.x source address. Driven by bench/sync.ts over the fork IPC channel.
 *
 * Design notes
 * - Credentials come from the hub's real join endpoint (/edgekube/v1/join with a bootstrap
 *   token): the Node registered by the hub and the password it issued, as `edge-agent join`
 *   does; with `clientCert` (the benches' --client-cert) a CSR per node and the certificate.
 * - Light in-memory parts instead of the agent's SQLite cache and outbox (thousands of SQLite
 *   files per process would measure the disk, not the link): SharedSink keeps a copy-on-write
 *   overlay over one shared base set and a SetDigest like the real cache; MemoryOutbox has the
 *   Outbox's semantics (coalesced per key, never-reused seq).
 * - Seeding: the first agent of the worker syncs normally (a full snapshot); every other agent
 *   starts from a copy of that set and watermark, as a device that synced before would. This
 *   keeps the set-up from shipping N snapshots of N Nodes (N² bytes) that no measured phase
 *   needs; every agent still says hello and gets its own delta.
 * - Links go through a PartitionRelay (partition-relay.ts) so "partition" is a real network
 *   partition (DROP-like: keepalives expire, TCP connects neither complete nor fail until the
 *   agent's connect timeout, through the relay's dialer) rather than a clean DISCONNECT, and
 *   "restore" lets the links come back as a network would. The agents named in connect's
 *   `subset` go through a second relay, so a partition can cut them alone while the rest of
 *   the fleet stays connected (bench/sync's subset reconvergence).
 * - One SecureContext per agent, made once at join and used for every connect of its link
 *   (and of the TLS floor, tls-floor-client.ts): a context per connect costs ≈1 ms of this
 *   process's CPU, load-generator work that would be counted against the hub.
 */
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { request } from "node:https";
import { createSecureContext, type SecureContext } from "node:tls";
import type { Packet } from "mqtt";
import type { JoinRequest, JoinResponse, NodeFacts } from "../../src/api/join.js";
import { NodeHeartbeat } from "../../src/edge-agent/heartbeat.js";
import { leaseReport, nodeStatus } from "../../src/edge-agent/node-status.js";
import { silentLogger } from "../../src/lib/logger.js";
import { createCSR } from "../../src/lib/pki.js";
import { EdgeLink } from "../../src/transport/client.js";
import { type Dialer, netDialer } from "../../src/transport/dialer.js";
import {
  type DesiredChange,
  type DesiredObject,
  envelope,
  type StatusUpdate,
} from "../../src/transport/envelope.js";
import type { StatusOutbox } from "../../src/transport/outbox.js";
import { entryHash, SetDigest } from "../../src/transport/set-digest.js";
import { type DesiredSink, SyncAgent } from "../../src/transport/sync-agent.js";
import { PartitionRelay } from "./partition-relay.js";
import { type FloorRound, floorRound } from "./tls-floor-client.js";

export type WorkerCommand =
  | {
      cmd: "join";
      hubUrl: string;
      token: string;
      ca: string;
      nodes: { name: string; ip: string }[];
      /** join with a CSR and authenticate with the certificate (default: a password) */
      clientCert?: boolean;
    }
  /** subset: nodes that go through the second relay (partitioned alone with scope "subset") */
  | { cmd: "connect"; subset?: string[] }
  /** one storm of TLS connects to the bare floor server (tls-floor.ts); direct: no relay */
  | { cmd: "floor"; host: string; port: number; direct?: boolean }
  | { cmd: "report" }
  /** one message of a periodic kind from every agent, to price it on the wire */
  | { cmd: "send-one"; kind: "report" | "heartbeat" }
  /** start (on) or stop counting what the links carry; answers the counts so far (WireTally) */
  | { cmd: "tally"; on: boolean }
  | { cmd: "partition"; scope?: Scope }
  /** heal; measured agents must then hold pods [first, first + pods) of their node */
  | { cmd: "restore"; pods: number; first?: number; namespace: string; scope?: Scope }
  | { cmd: "stop" };

/** which agents a partition cuts (and a restore measures): all, or connect's subset */
export type Scope = "all" | "subset";

export interface WorkerReport {
  agents: number;
  /** agents measured by the last restore (its scope) */
  measured: number;
  connected: number;
  /** agents whose hello since their last (re)connect was answered */
  synced: number;
  /** connection attempts that ended in an error, since the last report reset */
  failedAttempts: number;
  /** those failures by error message (digits masked), since the last report reset */
  errors: Record<string, number>;
  /** ms epoch when the last agent synced (0 = not all yet) */
  lastSyncedAt: number;
  snapshots: number;
  deltas: number;
  /** restore: agents holding every expected pod, and per-agent ms from its reconnect to that */
  converged: number;
  convergedAt: number;
  convergeMs: number[];
  /** restore: per-agent ms from the heal (restore) to holding every expected pod */
  convergeFromHealMs: number[];
  /**
   * restore, agents that reconnected: ms from the heal to their TCP connect, and from that to
   * CONNACK + SUBACK (what the reconnect policy decides vs what the hub and TLS take)
   */
  tcpFromHealMs: number[];
  connackAfterTcpMs: number[];
  /** CPU time this worker process has used so far (ms, user + system) */
  cpuMs: number;
  /** status updates not yet acked by the hub, over all agents */
  outboxPending: number;
  /** agents whose link (re)connected after the last restore (the others kept their TCP) */
  reconnectedSinceRestore: number;
  /** connects whose TLS handshake resumed the previous session / was full, since the last report */
  tlsResumed: number;
  tlsFull: number;
}

/**
 * What the agents' links carried while tallying: MQTT packets by direction and type
 * ("out:pingreq", "in:puback"), envelopes by direction and type, the keys of desired-state
 * changes and status updates by resource ("delta:core/nodes", "status:lease"), and a few sample
 * keys. Summed over all agents of the worker.
 */
export interface WireTally {
  packets: Record<string, number>;
  envelopes: Record<string, number>;
  keys: Record<string, number>;
  publishPayloadBytes: { in: number; out: number };
  samples: string[];
}

const FACTS: NodeFacts = {
  architecture: "arm64",
  operatingSystem: "linux",
  kernelVersion: "6.1.0-rpi",
  osImage: "Debian GNU/Linux 12 (bookworm)",
  containerRuntimeVersion: "docker://24.0.7",
  cpu: 4,
  memoryBytes: 4 * 1024 ** 3,
  ephemeralStorageBytes: 32 * 1024 ** 3,
  pods: 110,
  machineID: "0123456789abcdef",
  bootID: "boot-1",
  hostname: "",
};

/** Desired set as a copy-on-write overlay over a base shared by many agents. */
class SharedSink implements DesiredSink {
  private readonly overlay = new Map<string, DesiredObject | null>();
  private sum: SetDigest;
  private wm: number;
  snapshots = 0;
  deltas = 0;
  onApplied: (() => void) | undefined;

  constructor(
    private base: ReadonlyMap<string, DesiredObject & { hash: Buffer }>,
    baseDigest: SetDigest,
    watermark: number,
  ) {
    this.sum = baseDigest.clone();
    this.wm = watermark;
  }

  get(key: string): DesiredObject | undefined {
    const o = this.overlay.get(key);
    return o === null ? undefined : (o ?? this.base.get(key));
  }

  watermark(): number {
    return this.wm;
  }

  version(key: string): number | undefined {
    return this.get(key)?.revision;
  }

  digest(): string {
    return this.sum.hex();
  }

  apply(changes: DesiredChange[], watermark: number): void {
    for (const c of changes) {
      const had = this.get(c.key);
      if (had) this.sum.toggle(entryHash(c.key, had.object));
      if (c.op === "put") {
        this.overlay.set(c.key, { key: c.key, revision: c.revision, object: c.object });
        this.sum.toggle(entryHash(c.key, c.object));
      } else this.overlay.set(c.key, null);
    }
    this.wm = watermark;
    this.deltas++;
    this.onApplied?.();
  }

  replace(objects: DesiredObject[], revision: number): void {
    const base = new Map<string, DesiredObject & { hash: Buffer }>();
    const sum = new SetDigest();
    for (const o of objects) {
      const hash = entryHash(o.key, o.object);
      base.set(o.key, { ...o, hash });
      sum.toggle(hash);
    }
    this.base = base;
    this.overlay.clear();
    this.sum = sum;
    this.wm = revision;
    this.snapshots++;
    this.onApplied?.();
  }

  /** the whole set, for seeding other agents */
  shareable(): { base: Map<string, DesiredObject & { hash: Buffer }>; digest: SetDigest; watermark: number } {
    const base = new Map<string, DesiredObject & { hash: Buffer }>();
    const digest = new SetDigest();
    for (const [k, v] of this.base) if (!this.overlay.has(k)) base.set(k, v);
    for (const [k, v] of this.overlay) if (v) base.set(k, { ...v, hash: entryHash(k, v.object) });
    for (const v of base.values()) digest.toggle(v.hash);
    return { base, digest, watermark: this.wm };
  }
}

/** The Outbox's semantics in memory. */
class MemoryOutbox implements StatusOutbox {
  readonly epoch = randomUUID();
  private seq = 0;
  private readonly rows = new Map<string, StatusUpdate>();

  put(key: string, status: unknown, observedRevision?: number): number {
    this.rows.delete(key);
    const u: StatusUpdate = { key, seq: ++this.seq, status };
    if (observedRevision !== undefined) u.observedRevision = observedRevision;
    this.rows.set(key, u);
    return u.seq;
  }

  pending(afterSeq = 0, limit = 200): StatusUpdate[] {
    const out: StatusUpdate[] = [];
    for (const u of this.rows.values()) {
      if (u.seq > afterSeq) out.push(u);
      if (out.length >= limit) break;
    }
    return out;
  }

  ack(upTo: number): number {
    let n = 0;
    for (const [k, u] of this.rows) {
      if (u.seq <= upTo) {
        this.rows.delete(k);
        n++;
      }
    }
    return n;
  }

  size(): number {
    return this.rows.size;
  }
}

interface Sim {
  name: string;
  ip: string;
  joined: JoinResponse;
  /** the client certificate's key (joined with clientCert) */
  keyPem?: string;
  /** made once from the CA, certificate and key (see the design notes) */
  context: SecureContext;
  /** behind the subset relay (see the design notes) */
  subset: boolean;
  floorSession?: Buffer;
  sink?: SharedSink;
  link?: EdgeLink;
  sync?: SyncAgent;
  heartbeat?: NodeHeartbeat;
  outbox?: MemoryOutbox;
  synced: boolean;
  connectedAt: number;
  convergedAt: number;
  /** when its last TCP connect (to the relay) completed */
  tcpAt: number;
}

const sims: Sim[] = [];
let failedAttempts = 0;
let errors: Record<string, number> = {};
let lastSyncedAt = 0;
let expect: { pods: number; first: number; namespace: string; scope: Scope } | undefined;
let restoreAt = 0;
let relay: PartitionRelay | undefined;
let subsetRelay: PartitionRelay | undefined;
let relayUrl = "";
let subsetRelayUrl = "";
let tallying = false;
let handshakes = { resumed: 0, full: 0 };
let tally: WireTally = newTally();
/** --worker-cpu-prof (agent-workers.ts): heals on the profile's clock (monotonic µs), written at stop */
const marksDir = process.env.EK_WORKER_MARKS_DIR;
const marks: { name: string; monoUs: number }[] = [];

function newTally(): WireTally {
  return { packets: {}, envelopes: {}, keys: {}, publishPayloadBytes: { in: 0, out: 0 }, samples: [] };
}

const bump = (r: Record<string, number>, k: string) => {
  r[k] = (r[k] ?? 0) + 1;
};

/** resource of a key: "core/nodes/edge-1" → "core/nodes", "lease/edge-1" → "lease" */
const resourceOf = (key: string) => {
  const parts = key.split("/");
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : (parts[0] ?? key);
};

function count(direction: "in" | "out", packet: Packet): void {
  if (!tallying) return;
  bump(tally.packets, `${direction}:${packet.cmd}`);
  if (packet.cmd !== "publish") return;
  const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
  tally.publishPayloadBytes[direction] += payload.length;
  let env: { type?: string; changes?: { key: string }[]; updates?: { key: string }[] };
  try {
    env = JSON.parse(payload.toString("utf8")) as typeof env;
  } catch {
    bump(tally.envelopes, `${direction}:undecodable`);
    return;
  }
  bump(tally.envelopes, `${direction}:${env.type ?? "?"}`);
  const keys = [
    ...(env.changes ?? []).map((c) => `delta:${c.key}`),
    ...(env.updates ?? []).map((u) => `status:${u.key}`),
  ];
  for (const k of keys) {
    const [kind, key] = [k.slice(0, k.indexOf(":")), k.slice(k.indexOf(":") + 1)];
    bump(tally.keys, `${kind}:${resourceOf(key)}`);
    if (tally.samples.length < 20) tally.samples.push(k);
  }
}

function post(
  url: string,
  ca: string,
  token: string,
  body: unknown,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = request(
      url,
      {
        method: "POST",
        ca,
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

async function join(m: Extract<WorkerCommand, { cmd: "join" }>): Promise<void> {
  const bearer = m.token.slice(m.token.indexOf("::") + 2);
  let next = 0;
  const one = async () => {
    while (next < m.nodes.length) {
      const n = m.nodes[next++]!;
      const csr = m.clientCert ? await createCSR(`system:node:${n.name}`, ["system:nodes"]) : undefined;
      const body: JoinRequest = {
        nodeName: n.name,
        nodeIP: n.ip,
        labels: {},
        taints: [],
        facts: { ...FACTS, hostname: n.name },
        ...(csr ? { csr: csr.csrPem } : {}),
      };
      const res = await post(`${m.hubUrl}/edgekube/v1/join`, m.ca, bearer, body);
      if (res.status !== 200) throw new Error(`join of ${n.name} failed: ${res.status} ${res.text}`);
      const joined = JSON.parse(res.text) as JoinResponse;
      const cert = csr && joined.clientCert ? { cert: joined.clientCert, key: csr.keyPem } : {};
      sims.push({
        ...n,
        joined,
        ...(csr ? { keyPem: csr.keyPem } : {}),
        context: createSecureContext({ ca: joined.ca, ...cert }),
        subset: false,
        synced: false,
        connectedAt: 0,
        convergedAt: 0,
        tcpAt: 0,
      });
    }
  };
  await Promise.all(Array.from({ length: 4 }, one));
}

const measuredBy = (s: Sim, scope: Scope | undefined) => scope !== "subset" || s.subset;

function converged(s: Sim): boolean {
  if (!expect || !s.sink) return false;
  for (let i = expect.first; i < expect.first + expect.pods; i++) {
    if (!s.sink.get(`core/pods/${expect.namespace}/${podName(s.name, i)}`)) return false;
  }
  return true;
}

export function podName(node: string, i: number): string {
  return `p${i}-${node}`;
}

function markSynced(s: Sim): void {
  if (!s.synced && s.link?.connected) {
    s.synced = true;
    if (sims.every((x) => x.synced)) lastSyncedAt = Date.now();
  }
  if (expect && !s.convergedAt && converged(s)) s.convergedAt = Date.now();
}

function cpuMsSoFar(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** the relay's dialer, noting when each of the agent's TCP connects completes */
function timedDial(dial: Dialer, s: Sim): Dialer {
  return async (target, signal) => {
    const sock = await dial(target, signal);
    s.tcpAt = Date.now();
    return sock;
  };
}

function start(s: Sim, seed: ReturnType<SharedSink["shareable"]> | undefined): void {
  const sink = seed
    ? new SharedSink(seed.base, seed.digest, seed.watermark)
    : new SharedSink(new Map(), new SetDigest(), 0);
  sink.onApplied = () => markSynced(s);
  const via = s.subset ? subsetRelay : relay;
  const dial = via?.dialer();
  const link = new EdgeLink({
    url: s.subset ? subsetRelayUrl : relayUrl,
    secureContext: s.context,
    node: s.name,
    ca: s.joined.ca,
    ...(s.joined.clientCert && s.keyPem
      ? { cert: s.joined.clientCert, key: s.keyPem }
      : { username: s.name, password: s.joined.password ?? "" }),
    localAddress: s.ip,
    ...(dial ? { dial: timedDial(dial, s) } : {}),
    onPacket: count,
  });
  link.onStatus((st) => {
    if (st.type === "connected") {
      s.connectedAt = Date.now();
      if (st.tlsResumed) handshakes.resumed++;
      else handshakes.full++;
      return;
    }
    s.synced = false;
    if (st.error) {
      failedAttempts++;
      const kind = st.error.message.replace(/\d+/g, "N").slice(0, 120);
      errors[kind] = (errors[kind] ?? 0) + 1;
    }
  });
  const outbox = new MemoryOutbox();
  const sync = new SyncAgent({ node: s.name, agentVersion: "bench", channel: link, sink, outbox });
  const heartbeat = new NodeHeartbeat({
    node: s.name,
    nodeIP: s.ip,
    facts: { ...FACTS, hostname: s.name },
    report: (key, status) => sync.reportStatus(key, status),
    logger: silentLogger(),
  });
  Object.assign(s, { sink, link, sync, heartbeat, outbox });
  void sync.start();
  void link.start();
  void heartbeat.start();
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function connectAll(subset: string[]): Promise<void> {
  const first = sims[0];
  if (!first) return;
  const hub = new URL(first.joined.mqtt.url);
  relay = new PartitionRelay({ host: hub.hostname, port: Number(hub.port) });
  relayUrl = `mqtts://${hub.hostname}:${await relay.start()}`;
  subsetRelay = new PartitionRelay({ host: hub.hostname, port: Number(hub.port) });
  subsetRelayUrl = `mqtts://${hub.hostname}:${await subsetRelay.start()}`;
  const inSubset = new Set(subset);
  for (const s of sims) s.subset = inSubset.has(s.name);
  start(first, undefined);
  await waitFor(() => first.synced, 120_000);
  const seed = first.sink!.shareable();
  // paced (250/s per worker, ≈1,000/s in all): the first connect only sets the fleet up, and an
  // unpaced one is a storm of its own that the restart measurement below already covers
  const rest = sims.slice(1);
  for (let i = 0; i < rest.length; i += 25) {
    for (const s of rest.slice(i, i + 25)) start(s, seed);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One floor storm from every agent, through a relay of its own to the floor server (or not). */
async function floorOf(host: string, port: number, direct: boolean): Promise<FloorRound> {
  if (direct) return floorRound(sims, netDialer, { host, port });
  const via = new PartitionRelay({ host, port });
  const relayPort = await via.start();
  try {
    return await floorRound(sims, via.dialer(), { host: "127.0.0.1", port: relayPort });
  } finally {
    await via.stop();
  }
}

function report(): WorkerReport {
  const measured = sims.filter((s) => measuredBy(s, expect?.scope));
  const r: WorkerReport = {
    agents: sims.length,
    measured: measured.length,
    connected: sims.filter((s) => s.link?.connected).length,
    synced: sims.filter((s) => s.synced).length,
    failedAttempts,
    errors,
    lastSyncedAt: sims.every((s) => s.synced) ? lastSyncedAt : 0,
    snapshots: sims.reduce((a, s) => a + (s.sink?.snapshots ?? 0), 0),
    deltas: sims.reduce((a, s) => a + (s.sink?.deltas ?? 0), 0),
    converged: measured.filter((s) => s.convergedAt > 0).length,
    // a worker with no measured agent has nothing to wait for
    convergedAt: measured.every((s) => s.convergedAt > 0)
      ? Math.max(restoreAt, ...measured.map((s) => s.convergedAt))
      : 0,
    convergeMs: [],
    convergeFromHealMs: [],
    tcpFromHealMs: [],
    connackAfterTcpMs: [],
    cpuMs: cpuMsSoFar(),
    outboxPending: sims.reduce((a, s) => a + (s.outbox?.size() ?? 0), 0),
    reconnectedSinceRestore: restoreAt ? measured.filter((s) => s.connectedAt >= restoreAt).length : 0,
    tlsResumed: handshakes.resumed,
    tlsFull: handshakes.full,
  };
  if (expect && r.convergedAt) {
    r.convergeMs = measured.map((s) => s.convergedAt - Math.max(s.connectedAt, restoreAt));
    r.convergeFromHealMs = measured.map((s) => s.convergedAt - restoreAt);
    const back = measured.filter((s) => s.connectedAt >= restoreAt && s.tcpAt >= restoreAt);
    r.tcpFromHealMs = back.map((s) => s.tcpAt - restoreAt);
    r.connackAfterTcpMs = back.map((s) => s.connectedAt - s.tcpAt);
  }
  return r;
}

process.on("message", (m: WorkerCommand) => {
  const reply = (x: unknown) => process.send?.({ ok: true, value: x });
  const fail = (e: Error) => process.send?.({ ok: false, error: e.message });
  switch (m.cmd) {
    case "join":
      join(m).then(() => reply(sims.length), fail);
      return;
    case "connect":
      connectAll(m.subset ?? []).then(() => reply(sims.length), fail);
      return;
    case "floor":
      floorOf(m.host, m.port, m.direct === true).then(reply, fail);
      return;
    case "report": {
      reply(report());
      failedAttempts = 0;
      errors = {};
      handshakes = { resumed: 0, full: 0 };
      return;
    }
    case "send-one": {
      const now = new Date();
      const sent: Promise<void>[] = [];
      for (const s of sims) {
        if (m.kind === "report") {
          // what NodeHeartbeat queues at a refresh: lease and status in one tick, one envelope
          const facts = { ...FACTS, hostname: s.name };
          s.sync?.reportStatus(`lease/${s.name}`, leaseReport(s.name, now));
          s.sync?.reportStatus(
            `node/${s.name}`,
            nodeStatus(facts, { nodeIP: s.ip, hostname: s.name, readySince: now, now }),
          );
        } else {
          const hb = envelope({ type: "heartbeat", watermark: s.sink?.watermark() ?? 0, pending: 0 });
          if (s.link) sent.push(s.link.send(hb).catch(() => {}));
        }
      }
      // heartbeats: answered once every PUBACK is in; reports: the caller waits for outboxPending 0
      void Promise.all(sent).then(() => reply(true));
      return;
    }
    case "tally":
      reply(tally);
      tally = newTally();
      tallying = m.on;
      return;
    case "partition":
      if (m.scope !== "subset") relay?.partition();
      subsetRelay?.partition();
      reply(Date.now());
      return;
    case "restore":
      expect = { pods: m.pods, first: m.first ?? 0, namespace: m.namespace, scope: m.scope ?? "all" };
      restoreAt = Date.now();
      marks.push({ name: `restore:${expect.scope}`, monoUs: Number(process.hrtime.bigint() / 1000n) });
      for (const s of sims) s.convergedAt = 0;
      relay?.heal();
      subsetRelay?.heal();
      reply({ at: restoreAt, cpuMs: cpuMsSoFar() });
      return;
    case "stop":
      if (marksDir) writeFileSync(`${marksDir}/marks-${process.pid}.json`, JSON.stringify(marks));
      for (const s of sims) {
        s.heartbeat?.stop();
        s.sync?.stop();
      }
      Promise.all(sims.map((s) => s.link?.stop())).then(
        async () => {
          await relay?.stop();
          await subsetRelay?.stop();
          reply(true);
          process.exit(0);
        },
        () => process.exit(0),
      );
      return;
  }
});
