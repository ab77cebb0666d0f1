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
 *     (reconvergence); then the same with only --subset-fraction of the nodes partitioned
 *     while the rest stays connected (subsetReconvergence: where < 2 s can hold)
 *   the TLS floor (tlsFloor, bench/lib/tls-floor.ts): N full, then N resumed TLS connects at
 *     once to a bare node:tls server with the hub's certificate, ticket key and options, from
 *     the same workers, addresses, relays and SecureContexts; server CPU per handshake. On one
 *     event loop nothing reconnects N nodes faster, so `ratios` gives the storm and the
 *     whole-fleet reconvergence as multiples of the resumed round, and the hub's CPU per
 *     reconnect (storm and reconvergence: hubCpuMsPerReconnect) as a multiple of the bare
 *     server's per resumed handshake
 *
 *   npm run bench -- sync [--nodes 5000] [--workers 4] [--partition-seconds 60] [--idle-seconds 60]
 *                         [--subset-fraction 0.1] [--skip-idle] [--skip-floor] [--hub-cpu-prof DIR]
 *                         [--hub-node-flags "--max-semi-space-size=2"] [--hub-args "--max-semi-space 0"]
 *                         [--worker-cpu-prof DIR] [--workers-from-source] [--skip-whole-fleet]
 *                         [--hub-log FILE]
 *   npm run bench -- sync --quick      (= --nodes 200 --partition-seconds 5 --idle-seconds 30)
 *   --label X / --tag X writes bench/results/sync-DATE-X.json (--quick: -quick) instead of
 *   sync-DATE.json; --hub-cpu-prof DIR runs the hub with --cpu-prof (one profile per hub
 *   process; the second covers the storm and the partitions: bench/lib/cpu-profile-summary.ts);
 *   --worker-cpu-prof DIR does the same for each agent worker, with marks-PID.json beside its
 *   profile: the profile-relative second of each heal ("restore:all", "restore:subset");
 *   the workers run as a bundle built the way the agent ships (bench/lib/agent-worker-bundle.ts:
 *   mqtt.js on node's streams, no tsx), --workers-from-source runs them under tsx as before
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { BOOTSTRAP_NAMESPACE, bootstrapTokenSecret } from "../src/hub/edge/bootstrap-token.js";
import { formatJoinToken, generateTokenParts } from "../src/lib/join-token.js";
import { caHash } from "../src/lib/pki.js";
import { buildAgentWorker } from "./lib/agent-worker-bundle.js";
import { AgentWorker, stopWorkers } from "./lib/agent-workers.js";
import { runLoad, type Target } from "./lib/https-load.js";
import { freePort, type HubMemorySplit, HubProcess, nodesWithoutPodCIDR } from "./lib/hub-process.js";
import { waitHubSettled } from "./lib/hub-settle.js";
import { shippedHubEnvironment } from "./lib/hub-unit-env.js";
import { cpuMs, writeResult } from "./lib/stats.js";
import { measureIdleWire, settleFleet } from "./lib/sync-idle-wire.js";
import { pollUntil, sumOf } from "./lib/sync-poll.js";
import { reconverge } from "./lib/sync-reconverge.js";
import { measureTlsFloor, type TlsFloor } from "./lib/tls-floor.js";

const quick = process.argv.includes("--quick");
/** agents join with CSRs and authenticate with client certificates (default: per-node passwords) */
const CLIENT_CERT = process.argv.includes("--client-cert");
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
/** share of the nodes cut by the second (subset) partition; 0 skips that round */
const SUBSET_FRACTION = arg("subset-fraction", 0.1);
const SKIP_IDLE = process.argv.includes("--skip-idle");
const SKIP_FLOOR = process.argv.includes("--skip-floor");
/** --skip-whole-fleet: only the subset partition round (A/B runs of the subset figure) */
const SKIP_WHOLE_FLEET = process.argv.includes("--skip-whole-fleet");
const strArg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
/** --hub-cpu-prof DIR: the hub runs with --cpu-prof; one profile per hub process lands in DIR */
const CPU_PROF = strArg("hub-cpu-prof");
/** --hub-node-flags "--max-semi-space-size=2 …": node/V8 flags for the hub process (A/B runs) */
/** --hub-args "--max-semi-space 0": extra `edge-hub server` flags (A/B runs) */
const HUB_ARGS = (strArg("hub-args") ?? "").split(/\s+/).filter((a) => a !== "");
const HUB_NODE_FLAGS = (strArg("hub-node-flags") ?? "").split(/\s+/).filter((f) => f.startsWith("--"));
/** --worker-cpu-prof DIR: the agent workers run with --cpu-prof (one profile each, plus marks-PID.json) */
const WORKER_CPU_PROF = strArg("worker-cpu-prof");
/** --workers-from-source: run the agent workers under tsx instead of the agent-like bundle */
/** --hub-log FILE: the hub's log at level info, appended to FILE (diagnosis runs) */
const HUB_LOG = strArg("hub-log");
const WORKERS_FROM_SOURCE = process.argv.includes("--workers-from-source");
const MB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
    args: ["--cluster-cidr", "10.128.0.0/9", ...HUB_ARGS],
    nodeArgs: [...(CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${CPU_PROF}`] : []), ...HUB_NODE_FLAGS],
    ...(HUB_LOG ? { logFile: HUB_LOG } : {}),
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
    const bundle = WORKERS_FROM_SOURCE ? undefined : await buildAgentWorker();
    for (let w = 0; w < WORKERS; w++) {
      workers.push(
        new AgentWorker({
          ...(WORKER_CPU_PROF ? { cpuProfDir: WORKER_CPU_PROF } : {}),
          ...(bundle ? { bundle } : {}),
        }),
      );
    }
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
          clientCert: CLIENT_CERT,
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

    // --- the TLS floor: the same workers, addresses, certificates and options, a bare server
    const loadavgAtFloor = loadavg();
    let floor: TlsFloor | null = null;
    if (!SKIP_FLOOR) {
      floor = await measureTlsFloor(workers, dir);
      log(`TLS floor (load ${loadavgAtFloor.map((x) => x.toFixed(1)).join(" ")}): ${JSON.stringify(floor)}`);
    }
    // every k-th node is in the subset, spread over the source addresses. Not over all workers:
    // with k = 10 and 4 workers (worker = i % 4) the subset's indices are all odd, so it sits in
    // workers 1 and 3. Spreading it over all four was measured (2026-11-26, s11-spread1/2):
    // 2.22 / 2.53 s against 1.96–2.09 s, the workers using 3.0–3.4 s of CPU against 2.2–2.6:
    // four busy simulators take more of the two cores the hub shares with them. Kept as it was.
    const every = SUBSET_FRACTION > 0 ? Math.max(1, Math.round(1 / SUBSET_FRACTION)) : 0;
    const subset = every ? names.filter((_, i) => i % every === every - 1).map((n) => n.name) : [];

    // --- first connect (seeded: see sync-agents.ts), informative
    tj = Date.now();
    await Promise.all(workers.map((w) => w.call({ cmd: "connect", subset })));
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
    // …and once the hub itself settled (its HeapReclaimer had its chance): what it stays at
    const connectedSettled = await waitHubSettled(hub);
    const connectedSettledSplit = await hub.memorySplit();
    log(
      `hub settled after the joins: ${JSON.stringify({ ...connectedSettled, split: connectedSettledSplit })}`,
    );

    // --- idle wire cost with the production keepalive/heartbeat settings (--skip-idle: none)
    const idleWire = SKIP_IDLE
      ? null
      : await measureIdleWire({ workers, mqttPort, nodes: NODES, idleSeconds: IDLE_S, log });
    // the same fleet after the idle window: what the first connect left once V8 had time to
    // give its burst memory back (the hub's HeapReclaimer, then V8's memory reducer)
    const connectedIdleRss = hub.rss();
    const connectedIdleSplit = await hub.memorySplit();
    const idleSettled = await waitHubSettled(hub);
    const idleSettledSplit = await hub.memorySplit();
    log(`hub settled after the idle window: ${JSON.stringify({ ...idleSettled, split: idleSettledSplit })}`);

    // --- hub restart: connect storm
    const loadavgAtStorm = loadavg();
    const { stoppedAt: restartAt, readyAt } = await hub.restart();
    const hubCpuAtReady = cpuMs(hub.pid);
    const storm = await pollUntil(workers, (r) => r.every((x) => x.lastSyncedAt > 0), 180_000);
    const stormHubCpuMs = cpuMs(hub.pid) - hubCpuAtReady;
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
      /** the hub's CPU from ready until all resynced, per node (TLS included: see tlsFloor) */
      hubCpuMsPerReconnect: storm.timedOut ? null : stormHubCpuMs / NODES,
    };
    log(`restart storm: ${JSON.stringify(stormResult)}`);
    const rssAfterStorm = hub.rss();
    const stormSplit: HubMemorySplit = await hub.memorySplit();
    log(`hub after the restart storm: ${JSON.stringify(stormSplit)}`);
    const stormSettled = await waitHubSettled(hub);
    const stormSettledSplit = await hub.memorySplit();
    log(`hub settled after the storm: ${JSON.stringify({ ...stormSettled, split: stormSettledSplit })}`);

    // --- partition with pod changes on the hub, then reconvergence: the whole fleet, then a subset
    const round = (scope: "all" | "subset", nodes: string[], firstPod: number) =>
      reconverge({
        api,
        hubPid: () => hub.pid,
        workers,
        nodes,
        scope,
        podsPerNode: PODS,
        firstPod,
        namespace: "bench",
        partitionSeconds: PARTITION_S,
        log,
      });
    const convResult = SKIP_WHOLE_FLEET
      ? null
      : await round(
          "all",
          names.map((n) => n.name),
          0,
        );
    log(`reconvergence (whole fleet): ${JSON.stringify(convResult)}`);
    const subsetConv = subset.length > 0 ? await round("subset", subset, PODS) : null;
    log(`reconvergence (subset of ${subset.length}): ${JSON.stringify(subsetConv)}`);
    const floorS = floor?.resumed.seconds;
    const ratio = (x: number | null | undefined) => (x != null && floorS ? x / floorS : null);
    const ratios = {
      /** the restart storm (from hub ready) over N resumed connects to a bare TLS server */
      stormToFloor: ratio(stormResult.secondsFromHubReady),
      /** whole-fleet reconvergence (heal → all converged) over the same floor */
      reconvergenceToFloor: ratio(convResult?.secondsUntilAllConverged),
      /** the same over the resumed round without the workers' relays (the integrator's floor) */
      stormToDirectFloor: floor ? (stormResult.secondsFromHubReady ?? 0) / floor.resumedDirect.seconds : null,
      reconvergenceToDirectFloor: floor
        ? (convResult?.secondsUntilAllConverged ?? 0) / floor.resumedDirect.seconds
        : null,
      /** the hub's CPU per reconnect over the bare server's per resumed handshake */
      stormHubCpuToFloor:
        floor && stormResult.hubCpuMsPerReconnect !== null
          ? stormResult.hubCpuMsPerReconnect / floor.resumed.serverCpuMsPerHandshake
          : null,
      reconvergenceHubCpuToFloor:
        floor && convResult && convResult.hubCpuMsPerReconnect !== null
          ? convResult.hubCpuMsPerReconnect / floor.resumed.serverCpuMsPerHandshake
          : null,
    };
    log(`ratios to the TLS floor: ${JSON.stringify(ratios)}`);

    const result = {
      machine: {
        cores: cpus().length,
        node: process.version,
        loadavgAtStart,
        loadavgAtFloor,
        loadavgAtStorm,
        loadavgAtEnd: loadavg(),
      },
      settings: {
        nodes: NODES,
        workers: WORKERS,
        credential: CLIENT_CERT ? "client certificate" : "password",
        podsPerNode: PODS,
        idleSeconds: SKIP_IDLE ? 0 : IDLE_S,
        subsetNodes: subset.length,
        hubCpuProfileDir: CPU_PROF ?? null,
        hubNodeFlags: HUB_NODE_FLAGS,
        hubArgs: HUB_ARGS,
        /** what the shipped unit adds to the hub's environment (bench/lib/hub-unit-env.ts) */
        hubUnitEnv: shippedHubEnvironment(),
        workerCpuProfileDir: WORKER_CPU_PROF ?? null,
        /** the agent workers ran as the agent-like bundle (agent-worker-bundle.ts) or from source */
        workerCode: WORKERS_FROM_SOURCE ? "source (tsx)" : "bundle",
        quick,
      },
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
        /**
         * each reading again once the hub settled (bench/lib/hub-settle.ts: its CPU quiet and its
         * RSS steady for 10 s, so a due HeapReclaimer run happened): what the hub stays at
         */
        settled: {
          afterInitialJoins: connectedSettled,
          afterInitialJoinsIdle: idleSettled,
          afterRestartStorm: stormSettled,
        },
        /** V8 (process.memoryUsage names) and kernel split at each point: HubProcess.memorySplit */
        split: {
          idle: idleSplit,
          afterInitialJoins: connectedSplit,
          afterInitialJoinsIdle: connectedIdleSplit,
          afterRestartStorm: stormSplit,
          afterInitialJoinsSettled: connectedSettledSplit,
          afterInitialJoinsIdleSettled: idleSettledSplit,
          afterRestartStormSettled: stormSettledSplit,
        },
      },
      idleWire,
      reconvergence: convResult,
      /** the same with only --subset-fraction of the nodes partitioned, the rest connected */
      subsetReconvergence: subsetConv,
      /** N TLS connects to a bare node:tls server from the same workers (bench/lib/tls-floor.ts) */
      tlsFloor: floor,
      ratios,
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
