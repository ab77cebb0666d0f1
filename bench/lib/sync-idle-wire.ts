/**
 * bench/sync's idle-wire phase: bytes and segments on the wire per node per idle hour, from the
 * kernel's counters of every agent connection, and the agents' own tally of what the links
 * carried (see bench/sync.ts's header for the method); plus settleFleet, which waits until
 * the fleet is quiet so a measured window holds no tail of an earlier phase.
 */
import { execFileSync } from "node:child_process";
import type { AgentWorker } from "./agent-workers.js";
import type { WireTally } from "./sync-agents.js";
import { pollUntil, sumOf } from "./sync-poll.js";

/** IPv4 + TCP header bytes per segment (20 + 20 + 12 timestamp option) */
const HEADER_BYTES = 52;
const MB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sum of the kernel's counters over every established connection on the hub's MQTT port. */
function wire(port: number): { conns: number; bytes: number; segs: number; dataSegs: number } {
  const out = execFileSync("ss", ["-tinH", "state", "established", `( sport = :${port} )`], {
    encoding: "utf8",
    maxBuffer: 64 * MB,
  });
  const sum = (re: RegExp) => [...out.matchAll(re)].reduce((a, m) => a + Number(m[1]), 0);
  return {
    conns: (out.match(/bytes_received:/g) ?? []).length,
    bytes: sum(/bytes_sent:(\d+)/g) + sum(/bytes_received:(\d+)/g),
    segs: sum(/ segs_out:(\d+)/g) + sum(/ segs_in:(\d+)/g),
    // segments with payload; the rest of segs are pure ACKs (and handshake/FIN segments)
    dataSegs: sum(/data_segs_out:(\d+)/g) + sum(/data_segs_in:(\d+)/g),
  };
}

/** Polls until the fleet was quiet (no PUBLISH, no failed connect, no unacked status) for 10 s. */
export async function settleFleet(
  workers: AgentWorker[],
  timeoutMs: number,
): Promise<{ quiet: boolean; publishes: Record<string, number> }> {
  const end = Date.now() + timeoutMs;
  const publishes: Record<string, number> = {};
  await Promise.all(workers.map((w) => w.call({ cmd: "tally", on: true })));
  for (let quiet = 0; quiet < 5; ) {
    if (Date.now() > end) return { quiet: false, publishes };
    await sleep(2000);
    const t = mergeTallies(
      await Promise.all(workers.map((w) => w.call<WireTally>({ cmd: "tally", on: true }))),
    );
    const r = await pollUntil(workers, () => true, 0);
    for (const [k, n] of Object.entries(t.envelopes)) publishes[k] = (publishes[k] ?? 0) + n;
    const busy =
      (t.packets["in:publish"] ?? 0) +
      (t.packets["out:publish"] ?? 0) +
      r.failedAttempts +
      sumOf(r.reports, (x) => x.outboxPending);
    quiet = busy === 0 ? quiet + 1 : 0;
  }
  await Promise.all(workers.map((w) => w.call({ cmd: "tally", on: false })));
  return { quiet: true, publishes };
}

export function mergeTallies(ts: WireTally[]): WireTally {
  const out: WireTally = {
    packets: {},
    envelopes: {},
    keys: {},
    publishPayloadBytes: { in: 0, out: 0 },
    samples: [],
  };
  const add = (to: Record<string, number>, from: Record<string, number>) => {
    for (const [k, n] of Object.entries(from)) to[k] = (to[k] ?? 0) + n;
  };
  for (const t of ts) {
    add(out.packets, t.packets);
    add(out.envelopes, t.envelopes);
    add(out.keys, t.keys);
    out.publishPayloadBytes.in += t.publishPayloadBytes.in;
    out.publishPayloadBytes.out += t.publishPayloadBytes.out;
    out.samples.push(...t.samples.slice(0, 5));
  }
  return out;
}

export interface IdleWireParams {
  workers: AgentWorker[];
  mqttPort: number;
  nodes: number;
  /** a whole number of keepalive periods */
  idleSeconds: number;
  log: (msg: string) => void;
}

export async function measureIdleWire(p: IdleWireParams) {
  await Promise.all(p.workers.map((w) => w.call({ cmd: "tally", on: true })));
  const w0 = wire(p.mqttPort);
  const idleStart = Date.now();
  await sleep(p.idleSeconds * 1000);
  const w1 = wire(p.mqttPort);
  const carried = mergeTallies(
    await Promise.all(p.workers.map((w) => w.call<WireTally>({ cmd: "tally", on: false }))),
  );
  const idleSeconds = (Date.now() - idleStart) / 1000;
  const idleFailures = (await pollUntil(p.workers, () => true, 0)).failedAttempts;
  const payload = w1.bytes - w0.bytes;
  const segs = w1.segs - w0.segs;
  const dataSegs = w1.dataSegs - w0.dataSegs;
  const perNodeHour = (x: number) => (x / p.nodes) * (3600 / idleSeconds);
  p.log(
    `idle: ${w1.conns} connections, ${payload} B payload, ${segs} segments (${segs - dataSegs} pure ACKs) in ${idleSeconds.toFixed(0)} s`,
  );
  p.log(`idle window carried (agents' side): ${JSON.stringify(carried)}`);
  // the rarer periodic messages (lease + node status together about hourly, a heartbeat
  // envelope about hourly) do not fit in the window: price one of each and add them per hour
  // done = every report acked / every heartbeat PUBACKed, then 1 s for trailing pure ACKs
  // (a fixed 3 s was too short at N = 5,000: part of the reports' cost fell into the
  // heartbeat's measurement)
  const carriedPerMessage: Record<string, WireTally> = {};
  const price = async (kind: "report" | "heartbeat") => {
    await Promise.all(p.workers.map((w) => w.call({ cmd: "tally", on: true })));
    const b = wire(p.mqttPort);
    await Promise.all(p.workers.map((w) => w.call({ cmd: "send-one", kind })));
    await pollUntil(p.workers, (r) => sumOf(r, (x) => x.outboxPending) === 0, 120_000);
    await sleep(1000);
    const e = wire(p.mqttPort);
    carriedPerMessage[kind] = mergeTallies(
      await Promise.all(p.workers.map((w) => w.call<WireTally>({ cmd: "tally", on: false }))),
    );
    return (e.bytes - b.bytes + (e.segs - b.segs) * HEADER_BYTES) / p.nodes;
  };
  const perMessage = {
    report: await price("report"),
    heartbeat: await price("heartbeat"),
  };
  p.log(`one message per node carried: ${JSON.stringify(carriedPerMessage)}`);
  const periodicPerHour = 1 * perMessage.report + 1 * perMessage.heartbeat;
  p.log(`one message per node on the wire (bytes): ${JSON.stringify(perMessage)}`);
  return {
    connections: w1.conns,
    windowSeconds: idleSeconds,
    /** reconnects inside the window (should be 0: otherwise the window is not idle) */
    failedConnectionAttemptsInWindow: idleFailures,
    payloadBytesPerNodeHour: perNodeHour(payload),
    segmentsPerNodeHour: perNodeHour(segs),
    pureAckSegmentsPerNodeHour: perNodeHour(segs - dataSegs),
    /** what the window carried, from the agents' side (all agents, whole window) */
    carried,
    headerBytesPerSegment: HEADER_BYTES,
    windowBytesPerNodeHour: perNodeHour(payload + segs * HEADER_BYTES),
    perMessageBytes: perMessage,
    carriedPerMessage,
    periodicBytesPerNodeHour: periodicPerHour,
    totalBytesPerNodeHour: perNodeHour(payload + segs * HEADER_BYTES) + periodicPerHour,
  };
}
