/**
 * bench/hub-memory: where the hub's memory goes with a fleet (issue 4's RSS, measured in
 * stages so each cost has its own figure). The hub runs as its own process (bench/lib/
 * hub-process.ts); N simulated agents join through the real join endpoint and hold real
 * MQTT/TLS connections from worker processes (bench/lib/sync-agents.ts, as bench/sync does).
 *
 *   stage "nodes":     N Nodes joined (each with its podCIDR), no agent connected
 *   stage "connected": every agent connected and synced, idle
 *   stage "restarted": the hub restarted, every agent reconnected and resynced, idle
 *   stage "pods":      + N × --pods-per-node pods bound to the nodes (agents receive them)
 *
 * At each stage: the hub's VmRSS (median of 3 reads) and, with --heap-snapshot DIR, a heap
 * snapshot summarised by bench/lib/heap-summary.ts (top rows into the result). VmHWM at the
 * end is the peak. Per connected node = (connected − nodes) / N.
 *
 *   npm run bench -- hub-memory [--nodes 5000] [--pods-per-node 10] [--workers 4] [--heap-snapshot DIR]
 *     [--linger S]   (after "connected": the memory split every 10 s for S seconds)
 *     [--rounds R]   (after "connected": R rounds in which every node sends one status report
 *                     (lease + node status) and one heartbeat; after each round a heap snapshot
 *                     (a full GC) gives the live heap, so growth per round is a leak, not garbage)
 *     [--hub-node-flags "--cpu-prof --cpu-prof-dir=D"]  (node/V8 flags for the hub process)
 *     [--hub-log FILE]  (the hub's stdout, with its log at level info, appended to FILE)
 *     [--hub-env K=V]  (repeatable: set in the hub's environment, e.g.
 *                     GLIBC_TUNABLES=glibc.malloc.mmap_threshold=16384, for malloc A/Bs; the hub
 *                     otherwise gets its shipped unit's GLIBC_TUNABLES, and `--hub-env GLIBC_TUNABLES=`
 *                     runs it without: bench/lib/hub-unit-env.ts)
 *   npm run bench -- hub-memory --quick    (= --nodes 500)
 * The first connect and the restart's resync record their duration, the hub's CPU, and the
 * agents' counters summed over every poll (a report resets them): failed attempts (CONNACK
 * timeouts and the like, each after a full TLS handshake the agent then abandoned), errors by
 * message, and handshakes that reached CONNACK, full or resumed.
 * Result: bench/results/hub-memory-<date>.json. Target (issue 4): ≤ 400 MB connected at 5,000.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { get as httpsGet } from "node:https";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { BOOTSTRAP_NAMESPACE, bootstrapTokenSecret } from "../src/hub/edge/bootstrap-token.js";
import { formatJoinToken, generateTokenParts } from "../src/lib/join-token.js";
import { caHash } from "../src/lib/pki.js";
import { AgentWorker, stopWorkers } from "./lib/agent-workers.js";
import { summarise } from "./lib/heap-summary.js";
import { runLoad, type Target } from "./lib/https-load.js";
import { freePort, type HubMemorySplit, HubProcess, nodesWithoutPodCIDR } from "./lib/hub-process.js";
import { shippedHubEnvironment } from "./lib/hub-unit-env.js";
import { smapsSplit } from "./lib/smaps.js";
import { writeResult } from "./lib/stats.js";
import type { WorkerReport } from "./lib/sync-agents.js";
import { pollUntil, sumOf } from "./lib/sync-poll.js";

const quick = process.argv.includes("--quick");
/** agents join with CSRs and authenticate with client certificates (default: per-node passwords) */
const CLIENT_CERT = process.argv.includes("--client-cert");
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const NODES = Number(arg("nodes") ?? (quick ? 500 : 5000));
const PODS = Number(arg("pods-per-node") ?? 10);
const WORKERS = Number(arg("workers") ?? 4);
const SNAPSHOTS = arg("heap-snapshot");
/** --hub-log FILE: the hub's log at level info (and what V8 tracing flags print), appended to FILE */
const HUB_LOG = arg("hub-log");
/** seconds to keep sampling the hub's memory split after the first connect (V8's memory reducer) */
const LINGER_S = Number(arg("linger") ?? 0);
/** report rounds after "connected" (needs --heap-snapshot: each snapshot forces a full GC) */
const ROUNDS = Number(arg("rounds") ?? 0);
/** `--hub-node-flags "--cpu-prof --cpu-prof-dir=D"`: node/V8 flags for the hub process */
const HUB_NODE_FLAGS = (arg("hub-node-flags") ?? "").split(/\s+/).filter((f) => f.startsWith("--"));
/** `--hub-env K=V`, repeatable */
const HUB_ENV = process.argv.flatMap((a, i) => (a === "--hub-env" ? [process.argv[i + 1] ?? ""] : []));
const MB = 1048576;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number) => Math.round(x * 10) / 10;

/** the hub's user + system CPU so far, ms (from /proc: the diagnostic reports cost CPU too) */
function hubCpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  // fields 14 and 15 (utime, stime) are the 12th and 13th after the ") "; clock ticks of 10 ms
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** bytes the process caused to be written to storage (page-dirtying time), /proc/PID/io */
function hubWriteBytes(pid: number): number {
  const m = readFileSync(`/proc/${pid}/io`, "utf8").match(/^write_bytes: (\d+)$/m);
  return Number(m?.[1] ?? Number.NaN);
}

/** the store's current revision: a list's resourceVersion (one object asked for) */
function storeRevision(hub: HubProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    httpsGet(
      `${hub.url}/api/v1/namespaces?limit=1`,
      { ca: hub.ca, headers: { Authorization: `Bearer ${hub.token}` } },
      (res) => {
        let body = "";
        res.on("data", (c: Buffer) => {
          body += c.toString();
        });
        res.on("end", () => {
          const rv = Number(
            (JSON.parse(body) as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion,
          );
          if (Number.isFinite(rv)) resolve(rv);
          else reject(new Error(`no resourceVersion in ${body.slice(0, 200)}`));
        });
      },
    ).on("error", reject);
  });
}

async function until(what: string, fn: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`${what} did not happen within ${ms / 1000} s`);
    await sleep(500);
  }
}

/** worker counters summed over polls (each report resets them in the worker) */
interface ConnectTally {
  failedAttempts: number;
  tlsFull: number;
  tlsResumed: number;
  errors: Record<string, number>;
}

function addReports(t: ConnectTally, reports: WorkerReport[]): void {
  for (const r of reports) {
    t.failedAttempts += r.failedAttempts;
    t.tlsFull += r.tlsFull;
    t.tlsResumed += r.tlsResumed;
    for (const [k, n] of Object.entries(r.errors)) t.errors[k] = (t.errors[k] ?? 0) + n;
  }
}

function hubEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const kv of HUB_ENV) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new Error(`--hub-env takes KEY=VALUE, got "${kv}"`);
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return env;
}

async function main(): Promise<void> {
  const build = spawnSync(process.execPath, ["scripts/build-dev.mjs"], { stdio: "inherit" });
  if (build.status !== 0) throw new Error("scripts/build-dev.mjs failed");
  const load0 = loadavg();
  const dir = mkdtempSync(join(tmpdir(), "ek-bench-hubmem-"));
  const hub = new HubProcess({
    dir,
    httpsPort: await freePort(),
    mqttPort: await freePort(),
    // a /24 per node: thousands of nodes need more than the default /16
    args: ["--cluster-cidr", "10.128.0.0/9"],
    env: hubEnv(),
    ...(SNAPSHOTS ? { snapshotDir: SNAPSHOTS } : {}),
    nodeArgs: HUB_NODE_FLAGS,
    ...(HUB_LOG ? { logFile: HUB_LOG } : {}),
  });
  const workers: AgentWorker[] = [];
  const t0 = Date.now();
  const log = (m: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}`);
  const stages: Record<
    string,
    {
      rssMB: number;
      v8: Record<string, number>;
      kernel: Record<string, number>;
      heap?: { totalMB: number; top: string[] };
    }
  > = {};
  const measure = async (stage: string) => {
    await sleep(3000);
    const rss = hub.rss();
    const r = await hub.report();
    const v8 = {
      heapUsedMB: round(r.heapUsed / MB),
      heapCommittedMB: round(r.heapCommitted / MB),
      externalMB: round(r.external / MB),
      oldSpaceUsedMB: round((r.spaces.old_space?.used ?? 0) / MB),
      oldSpaceCommittedMB: round((r.spaces.old_space?.committed ?? 0) / MB),
      largeObjectsMB: round((r.spaces.large_object_space?.committed ?? 0) / MB),
      mallocedMB: round(r.malloced / MB),
    };
    const k = smapsSplit(hub.pid);
    const kernel = {
      anonymousMB: round(k.anonymous / MB),
      fileMB: round(k.file / MB),
      mainHeapMB: round(k.mainHeap / MB),
      mallocArenas: k.arenas.count,
      mallocArenasMB: round(k.arenas.rss / MB),
      // mappings (vm.max_map_count is 65,530 by default: a low mmap_threshold adds one per buffer)
      mappings: readFileSync(`/proc/${hub.pid}/maps`, "utf8").split("\n").length - 1,
    };
    stages[stage] = { rssMB: round(rss / MB), v8, kernel };
    log(
      `${stage}: hub RSS ${round(rss / MB)} MB; V8 ${JSON.stringify(v8)}; kernel ${JSON.stringify(kernel)}`,
    );
    if (SNAPSHOTS) {
      const file = await hub.heapSnapshot();
      const s = summarise(file);
      const top = s.rows
        .slice(0, 25)
        .map((r) => `${round(r.selfBytes / MB)} MB ${r.count}× ${r.type} ${r.name}`.trim());
      stages[stage].heap = { totalMB: round(s.totalBytes / MB), top };
      log(`${stage}: heap ${round(s.totalBytes / MB)} MB in ${file}\n  ${top.slice(0, 12).join("\n  ")}`);
    }
  };
  try {
    await hub.start();
    const ca = hub.ca;
    const api: Target = { url: hub.url, ca, token: hub.token };
    const { id, secret } = generateTokenParts();
    const setup = await runLoad(api, 2, 1, (i) =>
      i === 0
        ? {
            method: "POST",
            path: `/api/v1/namespaces/${BOOTSTRAP_NAMESPACE}/secrets`,
            body: JSON.stringify(bootstrapTokenSecret({ id, secret, description: "bench/hub-memory" })),
          }
        : {
            method: "POST",
            path: "/api/v1/namespaces",
            body: JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "bench" } }),
          },
    );
    if (setup.errors > 0) throw new Error("could not create the join token or the namespace");
    await measure("empty");
    const token = formatJoinToken(caHash(ca.toString("utf8")), id, secret);
    for (let w = 0; w < WORKERS; w++) workers.push(new AgentWorker());
    const names = Array.from({ length: NODES }, (_, i) => ({
      name: `edge-${String(i).padStart(5, "0")}`,
      ip: `127.${10 + Math.floor(i / 250)}.0.${1 + (i % 250)}`,
    }));
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
    log(`${NODES} nodes joined`);
    await until("every node has a podCIDR", async () => (await nodesWithoutPodCIDR(api)) === 0, 600_000);
    await measure("nodes");

    // reset the workers' counters, then tally the first connect
    await Promise.all(workers.map((w) => w.call<WorkerReport>({ cmd: "report" })));
    const firstConnect: ConnectTally = { failedAttempts: 0, tlsFull: 0, tlsResumed: 0, errors: {} };
    const connectCpu0 = hubCpuMs(hub.pid);
    const connectT0 = Date.now();
    await Promise.all(workers.map((w) => w.call({ cmd: "connect" })));
    const synced = async () => {
      const reports = await Promise.all(workers.map((w) => w.call<WorkerReport>({ cmd: "report" })));
      addReports(firstConnect, reports);
      return reports.reduce((a, r) => a + r.synced, 0) === NODES;
    };
    await until("every agent synced", synced, 600_000);
    const firstConnectResult = {
      ...firstConnect,
      seconds: round((Date.now() - connectT0) / 1000),
      hubCpuMs: hubCpuMs(hub.pid) - connectCpu0,
      hubCpuMsPerAgent: round((hubCpuMs(hub.pid) - connectCpu0) / NODES),
      load: loadavg().map((x) => round(x)),
    };
    log(`every agent connected and synced: ${JSON.stringify(firstConnectResult)}`);
    await measure("connected");
    // how the first connect's leftovers evolve while the fleet idles (V8's memory reducer, or
    // the hub's own burst-end reduction): one split every 10 s
    const linger: { afterSeconds: number; split: HubMemorySplit }[] = [];
    // the hub's CPU while the fleet idles: lease flushes every 15 s for every connected node
    const lingerCpu0 = hubCpuMs(hub.pid);
    // and what it writes to disk meanwhile (the SQLite WAL and database: an SD card's wear)
    const lingerWrite0 = hubWriteBytes(hub.pid);
    const lingerRevision0 = LINGER_S > 0 ? await storeRevision(hub) : 0;
    for (let t = 10; t <= LINGER_S; t += 10) {
      await sleep(10_000);
      linger.push({ afterSeconds: t, split: await hub.memorySplit() });
      log(`connected +${t} s: ${JSON.stringify(linger.at(-1)?.split)}`);
    }
    const lingerCpuMs = hubCpuMs(hub.pid) - lingerCpu0;
    const lingerWritten = hubWriteBytes(hub.pid) - lingerWrite0;
    const lingerWriteMB = Math.round(lingerWritten / 104857.6) / 10;
    const lingerRevisions = LINGER_S > 0 ? (await storeRevision(hub)) - lingerRevision0 : 0;
    const lingerWriteBytesPerRevision =
      lingerRevisions > 0 ? Math.round(lingerWritten / lingerRevisions) : null;
    if (LINGER_S > 0)
      log(
        `hub CPU while idle ${LINGER_S} s: ${lingerCpuMs} ms, written to disk ${lingerWriteMB} MB for ` +
          `${lingerRevisions} store revisions (${lingerWriteBytesPerRevision} B each) (load ${loadavg()[0]})`,
      );

    // report rounds: does the live heap (after the full GC a snapshot makes) grow per round?
    const rounds: {
      round: number;
      heapUsedBeforeGcMB: number;
      liveHeapMB: number;
      split: HubMemorySplit;
      top: string[];
    }[] = [];
    if (ROUNDS > 0 && !SNAPSHOTS)
      throw new Error("--rounds needs --heap-snapshot DIR (a snapshot forces a full GC)");
    for (let k = 0; k <= ROUNDS && SNAPSHOTS; k++) {
      if (k > 0) {
        for (const kind of ["report", "heartbeat"] as const) {
          await Promise.all(workers.map((w) => w.call({ cmd: "send-one", kind })));
          const p = await pollUntil(workers, (r) => sumOf(r, (x) => x.outboxPending) === 0, 300_000);
          if (p.timedOut) throw new Error(`round ${k}: the ${kind}s were not acknowledged within 300 s`);
        }
      }
      // before the snapshot's full GC: what the round left as garbage on top of the live heap
      const pre = await hub.report();
      const s = summarise(await hub.heapSnapshot());
      const top = s.rows
        .slice(0, 15)
        .map((r) => `${round(r.selfBytes / MB)} MB ${r.count}× ${r.type} ${r.name}`.trim());
      rounds.push({
        round: k,
        heapUsedBeforeGcMB: round(pre.heapUsed / MB),
        liveHeapMB: round(s.totalBytes / MB),
        split: await hub.memorySplit(),
        top,
      });
      log(
        `round ${k}: heapUsed ${round(pre.heapUsed / MB)} MB before GC, live ${round(s.totalBytes / MB)} MB; ${JSON.stringify(rounds.at(-1)?.split)}`,
      );
    }

    // the same fleet reconnecting to a restarted hub (delta hellos, resumed TLS sessions):
    // what the join and first-connect phases left behind is the difference to "connected"
    await hub.stop();
    await Promise.all(workers.map((w) => w.call<WorkerReport>({ cmd: "report" })));
    const restartTally: ConnectTally = { failedAttempts: 0, tlsFull: 0, tlsResumed: 0, errors: {} };
    await hub.start();
    const restartCpu0 = hubCpuMs(hub.pid);
    const restartT0 = Date.now();
    const resynced = async () => {
      const reports = await Promise.all(workers.map((w) => w.call<WorkerReport>({ cmd: "report" })));
      addReports(restartTally, reports);
      return reports.every((r) => r.lastSyncedAt > 0 && r.synced === r.agents);
    };
    await sleep(2000);
    await until("every agent resynced after the restart", resynced, 600_000);
    const restartResult = {
      ...restartTally,
      // from hub ready (the hub's failures while it was down are in failedAttempts too)
      seconds: round((Date.now() - restartT0) / 1000),
      hubCpuMs: hubCpuMs(hub.pid) - restartCpu0,
      hubCpuMsPerAgent: round((hubCpuMs(hub.pid) - restartCpu0) / NODES),
    };
    log(`every agent resynced after a hub restart: ${JSON.stringify(restartResult)}`);
    await measure("restarted");

    // --pods-per-node 0 skips the pods stage (a quicker look at the connection cost)
    const made = await runLoad(api, NODES * PODS, 16, (i) => {
      const node = names[i % NODES]!.name;
      return {
        method: "POST",
        path: "/api/v1/namespaces/bench/pods",
        body: JSON.stringify({
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: `p${Math.floor(i / NODES)}-${node}`, namespace: "bench" },
          spec: { nodeName: node, containers: [{ name: "c", image: "busybox" }] },
        }),
      };
    });
    if (PODS > 0) {
      log(`${NODES * PODS} pods created (${made.errors} errors, ${Math.round(made.opsPerSec)}/s)`);
      await measure("pods");
    }
    const peak = hub.memory().hwm;
    const nodes = stages.nodes?.rssMB ?? 0;
    const connected = stages.connected?.rssMB ?? 0;
    const result = {
      benchmark: "hub-memory",
      date: new Date().toISOString(),
      settings: {
        nodes: NODES,
        credential: CLIENT_CERT ? "client certificate" : "password",
        podsPerNode: PODS,
        workers: WORKERS,
        quick,
        hubEnv: HUB_ENV,
        hubUnitEnv: shippedHubEnvironment(),
      },
      stages,
      firstConnect: firstConnectResult,
      restartResync: restartResult,
      ...(linger.length > 0
        ? {
            lingerAfterConnected: linger,
            lingerHubCpuMs: lingerCpuMs,
            lingerHubWriteMB: lingerWriteMB,
            lingerRevisions,
            lingerWriteBytesPerRevision,
          }
        : {}),
      ...(rounds.length > 0 ? { reportRounds: rounds } : {}),
      perConnectedNodeKB: round(((connected - nodes) * 1024) / NODES),
      connectedRssPerNodeKB: round((connected * 1024) / NODES),
      restartedRssPerNodeKB: round(((stages.restarted?.rssMB ?? 0) * 1024) / NODES),
      peakRssMB: round(peak / MB),
      podCreateErrors: made.errors,
      loadAverageBefore: load0.map((x) => round(x)),
      loadAverageAfter: loadavg().map((x) => round(x)),
      targets: { connectedRssMBAt5000: 400 },
    };
    const file = writeResult(`hub-memory${quick ? "-quick" : NODES !== 5000 ? `-n${NODES}` : ""}`, result);
    console.log(JSON.stringify(result, null, 2));
    console.log(`written to ${file}`);
  } finally {
    await stopWorkers(workers);
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
