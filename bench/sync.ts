/**
 * bench/sync: the edge link at fleet scale. The hub runs as its own process (as users run it);
 * N simulated agents speak the real protocol over real MQTT/TLS connections from worker
 * processes (bench/lib/sync-agents.ts), each agent on its own 127.x.y.z source address so no
 * source address runs out of ports. Agents join through the real join endpoint and run the
 * production link, sync engine and node heartbeat with their default settings.
 *
 * Measured (issue 4 targets in brackets):
 *   connect storm after a hub restart: time until every agent's hello was answered (it got
 *     its delta or snapshot and acked), failed connection attempts, agents left unconnected
 *     [all N = 5,000 resynced < 45 s, none left failed]
 *   hub RSS: after the initial joins with N agents connected (rss.afterInitialJoinsMB), after
 *     the restart storm (rss.afterRestartStormMB), and (the first − idle RSS with N Nodes but
 *     no agent) / N [≤ 400 MB at 5,000], each with its V8/kernel split (rss.split)
 *   bytes on the wire per node per idle hour [≤ 50 KB]: TCP payload (TLS records included)
 *     and segment counts of every agent connection from the kernel (`ss -ti` on the hub's
 *     MQTT port: bytes_sent/bytes_received, segs_out/segs_in), plus 52 bytes of IPv4 + TCP
 *     header per segment (20 IP + 20 TCP + 12 timestamp option; link-layer framing excluded),
 *     over an idle window (keepalives only: a whole number of keepalive periods, so every agent
 *     pings the same number of times whatever its phase), scaled to an hour, plus the rarer
 *     periodic messages (per hour: 1 lease + node status report, 1 heartbeat envelope; see
 *     docs/sync-protocol.md "Idle budget") each priced by sending one from every agent and
 *     reading the same counters. Node's TLSSocket bytesRead/bytesWritten count
 *     plaintext, so they would miss the TLS record overhead; the kernel's counters do not.
 *   reconvergence after a partition (every agent's link black-holed for --partition-seconds,
 *     DROP-like: bench/lib/partition-relay.ts) during which --pods-per-node pods per node are
 *     created on the hub: time from the network healing until every agent holds all its pods,
 *     and per agent from its reconnect (or from the heal, when its TCP connection survived) and
 *     from the heal [< 2 s]; for agents that reconnected, heal → TCP connect (the reconnect
 *     policy's share) and TCP connect → CONNACK (the hub's), and the hub's CPU meanwhile
 *
 *   npm run bench -- sync [--nodes 5000] [--workers 4] [--partition-seconds 60] [--idle-seconds 60]
 *   npm run bench -- sync --quick      (= --nodes 200 --partition-seconds 5 --idle-seconds 30)
 *   --label X writes bench/results/sync-DATE-X.json (--quick: -quick) instead of sync-DATE.json
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { BOOTSTRAP_NAMESPACE, bootstrapTokenSecret } from "../src/hub/edge/bootstrap-token.js";
import { formatJoinToken, generateTokenParts } from "../src/lib/join-token.js";
import { caHash } from "../src/lib/pki.js";
import { AgentWorker, stopWorkers } from "./lib/agent-workers.js";
import { runLoad, type Target } from "./lib/https-load.js";
import { freePort, type HubMemorySplit, HubProcess, nodesWithoutPodCIDR } from "./lib/hub-process.js";
import { cpuMs, percentile, writeResult } from "./lib/stats.js";
import type { WireTally, WorkerReport } from "./lib/sync-agents.js";

const quick = process.argv.includes("--quick");
const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const NODES = arg("nodes", quick ? 200 : 5000);
const WORKERS = arg("workers", 4);
const PARTITION_S = arg("partition-seconds", quick ? 5 : 60);
/** the agents' MQTT keepalive (EdgeLink's default); the idle window is a multiple of it */
const KEEPALIVE_S = 30;
const IDLE_S = Math.max(1, Math.ceil(arg("idle-seconds", quick ? 30 : 60) / KEEPALIVE_S)) * KEEPALIVE_S;
const PODS = arg("pods-per-node", 10);
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

async function reports(workers: AgentWorker[]): Promise<WorkerReport[]> {
  return Promise.all(workers.map((w) => w.call<WorkerReport>({ cmd: "report" })));
}

async function pollUntil(
  workers: AgentWorker[],
  done: (r: WorkerReport[]) => boolean,
  timeoutMs: number,
): Promise<{
  reports: WorkerReport[];
  timedOut: boolean;
  failedAttempts: number;
  errors: Record<string, number>;
  /** the agents' successful TLS handshakes meanwhile: resumed from a ticket vs full */
  tlsHandshakes: { resumed: number; full: number };
}> {
  const end = Date.now() + timeoutMs;
  let failedAttempts = 0;
  const errors: Record<string, number> = {};
  const tlsHandshakes = { resumed: 0, full: 0 };
  for (;;) {
    const r = await reports(workers);
    failedAttempts += r.reduce((a, x) => a + x.failedAttempts, 0);
    tlsHandshakes.resumed += sumOf(r, (x) => x.tlsResumed);
    tlsHandshakes.full += sumOf(r, (x) => x.tlsFull);
    for (const x of r) for (const [k, n] of Object.entries(x.errors)) errors[k] = (errors[k] ?? 0) + n;
    if (done(r)) return { reports: r, timedOut: false, failedAttempts, errors, tlsHandshakes };
    if (Date.now() > end) return { reports: r, timedOut: true, failedAttempts, errors, tlsHandshakes };
    await sleep(200);
  }
}

/** Polls until the fleet was quiet (no PUBLISH, no failed connect, no unacked status) for 10 s. */
async function settleFleet(
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

function mergeTallies(ts: WireTally[]): WireTally {
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

const sumOf = (r: WorkerReport[], f: (x: WorkerReport) => number) => r.reduce((a, x) => a + f(x), 0);

async function main(): Promise<void> {
  const build = spawnSync(process.execPath, ["scripts/build-dev.mjs"], { stdio: "inherit" });
  if (build.status !== 0) throw new Error("scripts/build-dev.mjs failed");
  const dir = mkdtempSync(join(tmpdir(), "ek-bench-sync-"));
  const mqttPort = await freePort();
  const hub = new HubProcess({
    dir,
    httpsPort: await freePort(),
    mqttPort,
    // a /24 per node: 5,000 nodes need more than the default /16 (256 nodes)
    args: ["--cluster-cidr", "10.128.0.0/9"],
  });
  const workers: AgentWorker[] = [];
  const t0 = Date.now();
  const loadavgAtStart = loadavg();
  const log = (msg: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
  try {
    await hub.start();
    const ca = hub.ca;
    const api: Target = { url: hub.url, ca, token: hub.token };
    const { id, secret } = generateTokenParts();
    const made = await runLoad(api, 1, 1, () => ({
      method: "POST",
      path: `/api/v1/namespaces/${BOOTSTRAP_NAMESPACE}/secrets`,
      body: JSON.stringify(bootstrapTokenSecret({ id, secret, description: "bench/sync" })),
    }));
    const nsMade = await runLoad(api, 1, 1, () => ({
      method: "POST",
      path: "/api/v1/namespaces",
      body: JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "bench" } }),
    }));
    if (made.errors + nsMade.errors > 0) throw new Error("could not create the join token or namespace");
    const token = formatJoinToken(caHash(ca.toString("utf8")), id, secret);

    // --- join N nodes through the real endpoint, spread over the workers
    for (let w = 0; w < WORKERS; w++) workers.push(new AgentWorker());
    const names = Array.from({ length: NODES }, (_, i) => ({
      name: `edge-${String(i).padStart(5, "0")}`,
      ip: `127.${10 + Math.floor(i / 250)}.0.${1 + (i % 250)}`,
    }));
    let tj = Date.now();
    await Promise.all(
      workers.map((w, k) =>
        w.call({
          cmd: "join",
          hubUrl: hub.url,
          token,
          ca: ca.toString("utf8"),
          nodes: names.filter((_, i) => i % WORKERS === k),
        }),
      ),
    );
    const joinSeconds = (Date.now() - tj) / 1000;
    log(`${NODES} nodes joined in ${joinSeconds.toFixed(1)} s`);
    // every Node must have its podCIDR before the agents connect: each allocation changes the
    // Node view every agent holds (the overlay needs it), so allocating while 5,000 agents are
    // connected would ship N² deltas — real fleets join gradually; the bench starts set up
    const end = Date.now() + 600_000;
    for (;;) {
      const missing = await nodesWithoutPodCIDR(api);
      if (missing === 0) break;
      if (Date.now() > end) throw new Error(`${missing} nodes still have no podCIDR after 10 min`);
      await sleep(1000);
    }
    log("every node has its podCIDR");
    await sleep(3000);
    const idleRss = hub.rss();
    const idleSplit = await hub.memorySplit();

    // --- first connect (seeded: see sync-agents.ts), informative
    tj = Date.now();
    await Promise.all(workers.map((w) => w.call({ cmd: "connect" })));
    const first = await pollUntil(workers, (r) => sumOf(r, (x) => x.synced) === NODES, 300_000);
    const firstConnectSeconds = (Date.now() - tj) / 1000;
    log(
      `all connected and synced in ${firstConnectSeconds.toFixed(1)} s (timed out: ${first.timedOut}; failures: ${JSON.stringify(first.errors)})`,
    );
    // settle: the idle window must hold no tail of the connect (late hello answers, initial
    // status reports and their acks, retries after timeouts): wait until no agent sent or got a
    // PUBLISH, none failed to connect and no status is unacked, for 10 s in a row
    const settleStart = Date.now();
    const settleTally = await settleFleet(workers, 300_000);
    const settled = {
      seconds: (Date.now() - settleStart) / 1000,
      quiet: settleTally.quiet,
      publishes: settleTally.publishes,
    };
    log(`settled: ${JSON.stringify(settled)}`);
    const connectedRss = hub.rss();
    const connectedSplit = await hub.memorySplit();
    log(`hub after the initial joins and first connect: ${JSON.stringify(connectedSplit)}`);

    // --- idle wire cost with the production keepalive/heartbeat settings
    await Promise.all(workers.map((w) => w.call({ cmd: "tally", on: true })));
    const w0 = wire(mqttPort);
    const idleStart = Date.now();
    await sleep(IDLE_S * 1000);
    const w1 = wire(mqttPort);
    const carried = mergeTallies(
      await Promise.all(workers.map((w) => w.call<WireTally>({ cmd: "tally", on: false }))),
    );
    const idleSeconds = (Date.now() - idleStart) / 1000;
    // the same fleet after the idle window: what the first connect left once V8 had time to
    // give its burst memory back (the hub's HeapReclaimer, then V8's memory reducer)
    const connectedIdleRss = hub.rss();
    const connectedIdleSplit = await hub.memorySplit();
    const idleFailures = (await pollUntil(workers, () => true, 0)).failedAttempts;
    const payload = w1.bytes - w0.bytes;
    const segs = w1.segs - w0.segs;
    const dataSegs = w1.dataSegs - w0.dataSegs;
    const perNodeHour = (x: number) => (x / NODES) * (3600 / idleSeconds);
    log(
      `idle: ${w1.conns} connections, ${payload} B payload, ${segs} segments (${segs - dataSegs} pure ACKs) in ${idleSeconds.toFixed(0)} s`,
    );
    log(`idle window carried (agents' side): ${JSON.stringify(carried)}`);
    // the rarer periodic messages (lease + node status together about hourly, a heartbeat
    // envelope about hourly) do not fit in the window: price one of each and add them per hour
    // done = every report acked / every heartbeat PUBACKed, then 1 s for trailing pure ACKs
    // (a fixed 3 s was too short at N = 5,000: part of the reports' cost fell into the
    // heartbeat's measurement)
    const carriedPerMessage: Record<string, WireTally> = {};
    const price = async (kind: "report" | "heartbeat") => {
      await Promise.all(workers.map((w) => w.call({ cmd: "tally", on: true })));
      const b = wire(mqttPort);
      await Promise.all(workers.map((w) => w.call({ cmd: "send-one", kind })));
      await pollUntil(workers, (r) => sumOf(r, (x) => x.outboxPending) === 0, 120_000);
      await sleep(1000);
      const e = wire(mqttPort);
      carriedPerMessage[kind] = mergeTallies(
        await Promise.all(workers.map((w) => w.call<WireTally>({ cmd: "tally", on: false }))),
      );
      return (e.bytes - b.bytes + (e.segs - b.segs) * HEADER_BYTES) / NODES;
    };
    const perMessage = {
      report: await price("report"),
      heartbeat: await price("heartbeat"),
    };
    log(`one message per node carried: ${JSON.stringify(carriedPerMessage)}`);
    const periodicPerHour = 1 * perMessage.report + 1 * perMessage.heartbeat;
    log(`one message per node on the wire (bytes): ${JSON.stringify(perMessage)}`);

    // --- hub restart: connect storm
    const { stoppedAt: restartAt, readyAt } = await hub.restart();
    const storm = await pollUntil(workers, (r) => r.every((x) => x.lastSyncedAt > 0), 180_000);
    const lastSynced = Math.max(...storm.reports.map((x) => x.lastSyncedAt));
    await sleep(2000);
    const after = await pollUntil(workers, () => true, 0);
    const stormResult = {
      allResynced: !storm.timedOut,
      secondsFromRestart: storm.timedOut ? null : (lastSynced - restartAt) / 1000,
      secondsFromHubReady: storm.timedOut ? null : (lastSynced - readyAt) / 1000,
      hubStartSeconds: (readyAt - restartAt) / 1000,
      failedConnectionAttempts: storm.failedAttempts,
      failuresByError: storm.errors,
      tlsHandshakes: storm.tlsHandshakes,
      leftUnconnected: NODES - sumOf(after.reports, (x) => x.connected),
      snapshotsReceivedTotal: sumOf(after.reports, (x) => x.snapshots),
    };
    log(`restart storm: ${JSON.stringify(stormResult)}`);
    const rssAfterStorm = hub.rss();
    const stormSplit: HubMemorySplit = await hub.memorySplit();
    log(`hub after the restart storm: ${JSON.stringify(stormSplit)}`);

    // --- partition with pod changes on the hub, then reconvergence
    await Promise.all(workers.map((w) => w.call({ cmd: "partition" })));
    const partitionAt = Date.now();
    const podLoad = await runLoad(api, NODES * PODS, 16, (i) => {
      const node = names[i % NODES]!.name;
      const name = `p${Math.floor(i / NODES)}-${node}`;
      return {
        method: "POST",
        path: "/api/v1/namespaces/bench/pods",
        body: JSON.stringify({
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name, namespace: "bench" },
          spec: { nodeName: node, containers: [{ name: "c", image: "busybox" }] },
        }),
      };
    });
    log(`${NODES * PODS} pods created during the partition (${podLoad.errors} errors)`);
    await sleep(Math.max(0, partitionAt + PARTITION_S * 1000 - Date.now()));
    const restoreAt = Date.now();
    const hubCpuAtRestore = cpuMs(hub.pid);
    const restored = await Promise.all(
      workers.map((w) =>
        w.call<{ at: number; cpuMs: number }>({ cmd: "restore", pods: PODS, namespace: "bench" }),
      ),
    );
    const workersCpuAtRestore = restored.reduce((a, x) => a + x.cpuMs, 0);
    const conv = await pollUntil(workers, (r) => r.every((x) => x.convergedAt > 0), 180_000);
    const hubCpuMs = cpuMs(hub.pid) - hubCpuAtRestore;
    const workersCpuMs = sumOf(conv.reports, (x) => x.cpuMs) - workersCpuAtRestore;
    const pcts = (xs: number[]) => {
      const v = [...xs].sort((a, b) => a - b);
      return {
        p50: percentile(v, 50),
        p90: percentile(v, 90),
        p99: percentile(v, 99),
        max: v[v.length - 1] ?? null,
      };
    };
    const perAgent = conv.reports.flatMap((x) => x.convergeMs).sort((a, b) => a - b);
    const fromHeal = conv.reports.flatMap((x) => x.convergeFromHealMs).sort((a, b) => a - b);
    const convResult = {
      allConverged: !conv.timedOut,
      converged: sumOf(conv.reports, (x) => x.converged),
      partitionSeconds: (restoreAt - partitionAt) / 1000,
      /** agents whose link was declared dead and reconnected; the rest kept their connection */
      reconnected: sumOf(conv.reports, (x) => x.reconnectedSinceRestore),
      podCreateErrors: podLoad.errors,
      secondsUntilAllConverged: conv.timedOut
        ? null
        : (Math.max(...conv.reports.map((x) => x.convergedAt)) - restoreAt) / 1000,
      perAgentFromReconnectMs: {
        p50: percentile(perAgent, 50),
        p99: percentile(perAgent, 99),
        max: perAgent[perAgent.length - 1] ?? null,
      },
      /** per agent from the heal (includes its wait to notice the link is back and reconnect) */
      perAgentFromHealMs: {
        p50: percentile(fromHeal, 50),
        p90: percentile(fromHeal, 90),
        p99: percentile(fromHeal, 99),
        max: fromHeal[fromHeal.length - 1] ?? null,
      },
      /** agents that reconnected: heal → TCP connect (the policy), TCP → CONNACK+SUBACK (hub, TLS) */
      reconnectTcpFromHealMs: pcts(conv.reports.flatMap((x) => x.tcpFromHealMs)),
      reconnectConnackAfterTcpMs: pcts(conv.reports.flatMap((x) => x.connackAfterTcpMs)),
      /** hub CPU from the heal until all converged (≈ wall time × 1 core: the hub is the bound) */
      hubCpuSeconds: hubCpuMs / 1000,
      /** the simulated agents' processes (TLS client side, relay), all workers together */
      workersCpuSeconds: workersCpuMs / 1000,
      failedConnectionAttempts: conv.failedAttempts,
      failuresByError: conv.errors,
      tlsHandshakes: conv.tlsHandshakes,
    };
    log(`reconvergence: ${JSON.stringify(convResult)}`);

    const result = {
      machine: { cores: cpus().length, node: process.version, loadavgAtStart, loadavgAtEnd: loadavg() },
      settings: { nodes: NODES, workers: WORKERS, podsPerNode: PODS, idleSeconds: IDLE_S, quick },
      settle: settled,
      setup: {
        joinSeconds,
        firstConnectSeconds,
        firstConnectAllSynced: !first.timedOut,
        credentials: "real join endpoint (bootstrap token Secret via the API, CSR per node)",
      },
      connectStorm: stormResult,
      rss: {
        /** N Nodes joined (each with its podCIDR), no agent connected yet */
        idleMB: idleRss / MB,
        /** the target's figure: N fresh joins, then every agent connected, synced and settled */
        afterInitialJoinsMB: connectedRss / MB,
        /** the same fleet reconnected to a restarted hub (resumed TLS, delta hellos) */
        afterRestartStormMB: rssAfterStorm / MB,
        /** afterInitialJoinsMB again after the idle-wire window (≈ IDLE_S later, still connected) */
        afterInitialJoinsIdleMB: connectedIdleRss / MB,
        afterInitialJoinsPerNodeKB: connectedRss / NODES / 1024,
        afterRestartStormPerNodeKB: rssAfterStorm / NODES / 1024,
        perConnectedNodeKB: (connectedRss - idleRss) / NODES / 1024,
        /** earlier names of afterInitialJoinsMB / afterRestartStormMB (BENCHMARKS.md history) */
        connectedMB: connectedRss / MB,
        afterStormMB: rssAfterStorm / MB,
        /** V8 (process.memoryUsage names) and kernel split at each point: HubProcess.memorySplit */
        split: {
          idle: idleSplit,
          afterInitialJoins: connectedSplit,
          afterInitialJoinsIdle: connectedIdleSplit,
          afterRestartStorm: stormSplit,
        },
      },
      idleWire: {
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
      },
      reconvergence: convResult,
      targets: {
        stormSeconds: 45,
        leftFailed: 0,
        hubRssMBAt5000: 400,
        bytesPerNodeHour: 50 * 1024,
        reconvergeSeconds: 2,
      },
    };
    const label = process.argv.indexOf("--label");
    const file = writeResult(
      "sync",
      result,
      label > 0 ? process.argv[label + 1] : quick ? "quick" : undefined,
    );
    console.log(JSON.stringify(result, null, 2));
    console.log(`written to ${file}`);
  } finally {
    await stopWorkers(workers);
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
