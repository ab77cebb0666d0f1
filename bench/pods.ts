/**
 * bench/pods (`npm run bench -- pods`): pods on Docker through the whole product — a hub process
 * and ONE edge agent process (`edgekube agent join`, in its own network namespace with its own
 * dockerd: a dev cluster of one node, test/helpers/dev-cluster-fixture.ts), local busybox image,
 * imagePullPolicy Never. Measured:
 *   1. apply→Running: from each pod's create request to status.phase Running seen on a watch on
 *      the hub; p50/p99 for batches of 1, 10 and 50 pods (created concurrently); several runs
 *      per size, the run's percentiles and their medians reported. Targets (50 pods): p50 < 1 s,
 *      p99 < 3 s.
 *   2. agent RSS (/proc/<pid>/status VmRSS) idle after join, and with 50 pods running; target
 *      < 60 MB idle. Idle after the restart is sampled twice: 3 s after Ready (`idleEarly`, the
 *      figure before 2026-11-26's agentrss branch) and settled, 15 s after Ready (`idle`), once
 *      V8's memory reducer has returned start-up garbage (≈3 MiB, 8 s after start-up's last
 *      full GC).
 *   3. log throughput through the hub: a container writes --log-mb MB, then the log is read to
 *      its end over HTTPS (pods/log) and with `kubectl logs`; `docker logs` on the node's dockerd
 *      is the baseline. Target ≥ 5 MB/s.
 *   4. exec round trip: one `cat` session over WebSocket v5.channel.k8s.io (hub ⇄ MQTT ⇄ agent ⇄
 *      Docker), one line echoed per round; and `kubectl exec -- true` wall time.
 *   5. the physical limit (bench/lib/docker-baseline.ts): the node's dockerd creating and starting
 *      50 sandbox + app pairs straight through dockerode with the agent's create options and
 *      concurrency, network wiring excluded; the agent's 50-pod figures are given as ratios to it.
 *   6. with --trace, the agent runs with --log-level debug and each 50-pod run is broken down
 *      into phases (bench/lib/pod-trace.ts: queued, sync, images, sandbox, network, started,
 *      reported, running; median ms after the create and per step).
 * Results: bench/results/pods-<date>.json. Needs root and Docker (like the integration tests).
 *
 *   npm run bench -- pods [--quick] [--runs-1 5] [--runs-10 3] [--runs-50 3] [--log-mb 64]
 *     [--baseline-runs 3] [--baseline-concurrency 1,4,8] [--trace] [--agent-v8-flags "..."] [--idle-only] [--skip-streams]
 *     [--tag NAME]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_CONCURRENCY } from "../src/edge-agent/pods/pod-manager.js";
import { DevClusterFixture } from "../test/helpers/dev-cluster-fixture.js";
import { dockerBaselineSummary } from "./lib/docker-baseline.js";
import { type PodEvent, watchPods } from "./lib/hub-streams.js";
import { batch, deleteAll, podManifest, until } from "./lib/pod-batches.js";
import { phaseBreakdown, readMarks } from "./lib/pod-trace.js";
import { measureStreams } from "./lib/pods-streams.js";
import { median, percentile, rssBytes, writeResult } from "./lib/stats.js";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    "runs-1": { type: "string" },
    "runs-10": { type: "string" },
    "runs-50": { type: "string" },
    "log-mb": { type: "string" },
    "exec-rounds": { type: "string" },
    "idle-only": { type: "boolean", default: false },
    "skip-streams": { type: "boolean", default: false },
    "agent-node-options": { type: "string" },
    "agent-v8-flags": { type: "string" },
    "agent-node-args": { type: "string" },
    "baseline-runs": { type: "string" },
    "baseline-concurrency": { type: "string" },
    trace: { type: "boolean", default: false },
    /** suffix of the result file (pods-<date>-<tag>.json), so a loaded or partial run keeps the quiet one */
    tag: { type: "string" },
  },
});
const quick = values.quick === true;
const num = (v: string | undefined, full: number, q: number) =>
  v !== undefined ? Number(v) : quick ? q : full;
const RUNS: Record<number, number> = {
  1: num(values["runs-1"], 5, 2),
  10: num(values["runs-10"], 3, 1),
  50: num(values["runs-50"], 3, 1),
};
const LOG_MB = num(values["log-mb"], 64, 16);
const EXEC_ROUNDS = num(values["exec-rounds"], 200, 50);
const BASELINE_RUNS = num(values["baseline-runs"], 3, 1);
/** the agent's concurrency always; more values (`--baseline-concurrency 1,4,16`) for a sweep */
const BASELINE_CONCURRENCY = [
  ...new Set([
    DEFAULT_CONCURRENCY,
    ...(values["baseline-concurrency"] ?? "").split(",").filter(Boolean).map(Number),
  ]),
];
const NS = "default";
/** idle RSS is sampled this long after the restarted agent is Ready (then 5 samples over 4 s) */
const IDLE_SETTLE_MS = 15_000;
const NODE = "node1";
const log = (m: string) => process.stderr.write(`pods: ${m}\n`);
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const load = () => os.loadavg().map((l) => round(l, 2));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Median of a few RSS samples of the agent, MiB. */
async function agentRss(pid: number, samples = 5): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < samples; i++) {
    xs.push(rssBytes(pid) / 1024 / 1024);
    if (i < samples - 1) await sleep(1000);
  }
  return round(median(xs));
}

const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

/** CPU time (user + system, ms) a process used so far: robust to other load on shared cores. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return Math.round(((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK);
}

async function main(): Promise<void> {
  const loadAtStart = load();
  const nodeOptions = values["agent-node-options"];
  const v8Flags = values["agent-v8-flags"];
  const fx = new DevClusterFixture({
    agentEnv: {
      ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
      ...(v8Flags !== undefined ? { EDGEKUBE_V8_FLAGS: v8Flags } : {}),
    },
    ...(values.trace ? { agentArgs: ["--log-level", "debug"] } : {}),
    ...(values["agent-node-args"]
      ? { agentNodeArgs: values["agent-node-args"].split(/\s+/).filter(Boolean) }
      : {}),
  });
  const result: Record<string, unknown> = {
    bench: "pods",
    date: new Date().toISOString(),
    commit: execFileSync("git", ["rev-parse", "--short=12", "HEAD"]).toString().trim(),
    node: process.version,
    host: { cpus: os.cpus().length, loadavgAtStart: loadAtStart },
    quick,
    agent: {
      v8Flags: v8Flags ?? "(role default)",
      nodeOptions,
      trace: values.trace,
      concurrency: DEFAULT_CONCURRENCY,
    },
  };
  let stopWatch: (() => void) | undefined;
  const home = mkdtempSync(join(os.tmpdir(), "ek-bench-pods-kubectl-"));
  try {
    log("starting a hub and one agent (dev cluster of one node)");
    await fx.up(1);
    const c = fx.cluster;
    const api = c.client();
    const cfg = api.config;
    let agentPid = c.node(NODE).agent?.pid ?? 0;
    const cmdline = execFileSync("cat", [`/proc/${agentPid}/cmdline`])
      .toString()
      .replace(/\0/g, " ");
    log(`agent pid ${agentPid}: ${cmdline}`);

    await sleep(3000); // let start-up garbage be collected before the idle sample
    const afterJoin = await agentRss(agentPid);
    log(`agent RSS idle after join ${afterJoin} MiB (pid ${agentPid})`);
    // what a device runs from then on: \`edge-agent run\` (the systemd unit) from the data dir
    await c.stopAgent(NODE);
    await c.startAgent(NODE, "run");
    await c.waitNodeReady(NODE);
    agentPid = c.node(NODE).agent?.pid ?? 0;
    const readyAt = Date.now();
    await sleep(3000);
    const idleEarly = await agentRss(agentPid);
    // V8's memory reducer returns start-up garbage 8 s after the last start-up full GC
    // (--gc-memory-reducer-start-delay-ms): what an idle device holds is the figure after it
    await sleep(Math.max(0, readyAt + IDLE_SETTLE_MS - Date.now()));
    const idleMiB = await agentRss(agentPid);
    log(
      `agent RSS idle after restart (edge-agent run): ${idleEarly} MiB 3 s after ready, ${idleMiB} MiB settled (pid ${agentPid})`,
    );
    result.agentRssMiB = { idleAfterJoin: afterJoin, idleEarly, idle: idleMiB };
    if (values["idle-only"]) {
      log(
        `agent log tail:\n${readFileSync(c.node(NODE).agent?.log ?? "", "utf8")
          .split("\n")
          .slice(-8)
          .join("\n")}`,
      );
      return;
    }

    const running = new Map<string, { perf: number; wall: number }>();
    const w = await watchPods(cfg, NS, (e: PodEvent) => {
      if (e.phase === "Running" && !running.has(e.name))
        running.set(e.name, { perf: performance.now(), wall: Date.now() });
    });
    stopWatch = w.stop;

    const latency: Record<string, unknown> = {};
    let rss50 = 0;
    for (const n of [1, 10, 50]) {
      const runs: { agentCpuMs: number; p50: number; p99: number; max: number; phases?: unknown }[] = [];
      for (let r = 0; r < (RUNS[n] ?? 1); r++) {
        const cpu0 = cpuMs(agentPid);
        const agentLog = c.node(NODE).agent?.log ?? "";
        const logFrom = values.trace ? statSync(agentLog).size : 0;
        const { ms, times } = await batch(api, { ns: NS, node: NODE, image: fx.image }, running, n, r);
        const agentCpuMs = cpuMs(agentPid) - cpu0;
        runs.push({
          agentCpuMs,
          p50: Math.round(percentile(ms, 50)),
          p99: Math.round(percentile(ms, 99)),
          max: Math.round(ms.at(-1) ?? 0),
          ...(values.trace
            ? { phases: phaseBreakdown(readMarks(agentLog, logFrom), times.created, times.running) }
            : {}),
        });
        if (values.trace)
          log(`phases (median ms after create / step): ${JSON.stringify(runs.at(-1)?.phases)}`);
        log(
          `${n} pods, run ${r + 1}: p50 ${runs.at(-1)?.p50} ms, p99 ${runs.at(-1)?.p99} ms, agent CPU ${agentCpuMs} ms (load ${load().join(" ")})`,
        );
        if (n === 50 && r === 0) {
          rss50 = await agentRss(agentPid);
          log(`agent RSS with 50 pods ${rss50} MiB`);
        }
        await deleteAll(api, NS);
        // the next batch starts on an empty node: dockerd still removing 100 containers of
        // this one made every second run slower
        await until("the node's containers to be removed", async () =>
          c.docker(c.node(NODE), ["ps", "-aq", "--filter", "label=edgekube.io/role"]).trim() === ""
            ? true
            : undefined,
        );
      }
      latency[`pods${n}`] = {
        runs,
        p50Ms: median(runs.map((x) => x.p50)),
        p99Ms: median(runs.map((x) => x.p99)),
        agentCpuMs: median(runs.map((x) => x.agentCpuMs)),
      };
    }
    result.applyToRunning = latency;

    // the physical limit: the same dockerd starting 50 sandbox + app pairs without the agent
    result.dockerBaseline50 = await dockerBaselineSummary({
      dockerSock: c.node(NODE).dockerSock,
      image: fx.image,
      runs: (RUNS[50] ?? 0) > 0 ? BASELINE_RUNS : 0,
      concurrency: DEFAULT_CONCURRENCY,
      sweep: BASELINE_CONCURRENCY,
      agent50: latency.pods50 as { p50Ms: number; p99Ms: number },
      log,
    });
    result.agentRssMiB = {
      ...(result.agentRssMiB as object),
      with50Pods: rss50,
      afterDeleting: await agentRss(agentPid, 3),
    };

    if (values["skip-streams"]) return;

    const streams = await measureStreams({
      api,
      cluster: c,
      node: NODE,
      ns: NS,
      manifest: (name, script) => podManifest(name, fx.image, script, NODE),
      until,
      log,
      home,
      logMb: LOG_MB,
      execRounds: EXEC_ROUNDS,
      reads: quick ? 1 : 3,
      kubectlExecs: quick ? 3 : 10,
    });
    result.logThroughputMBps = streams.logThroughputMBps;
    result.execRoundTripMs = streams.execRoundTripMs;
    await deleteAll(api, NS);

    const p50 = (latency.pods50 as { p50Ms: number }).p50Ms;
    const p99 = (latency.pods50 as { p99Ms: number }).p99Ms;
    result.targets = {
      pods50P50Ms: 1000,
      pods50P99Ms: 3000,
      agentRssIdleMiB: 60,
      logMBps: 5,
      met: {
        p50: p50 < 1000,
        p99: p99 < 3000,
        rssIdle: idleMiB < 60,
        log: streams.logThroughputMBps.api >= 5,
      },
    };
  } finally {
    stopWatch?.();
    (result.host as Record<string, unknown>).loadavgAtEnd = load();
    log("tearing the cluster down");
    await fx.down();
    rmSync(home, { recursive: true, force: true });
    // the partial modes return from inside the try: their figures are printed here, not filed
    if (values["idle-only"] || values["skip-streams"]) console.log(JSON.stringify(result, null, 2));
  }
  if (values["idle-only"] || values["skip-streams"]) return;
  console.log(JSON.stringify(result, null, 2));
  log(`written ${writeResult("pods", result, values.tag)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
