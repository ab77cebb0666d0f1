/**
 * bench/scheduler: 1,000 simulated nodes, 10,000 pods from 100 Deployments of 100 replicas:
 * Deployments → ReplicaSets → pods → scheduled and bound → Running (simulated kubelets) →
 * every Deployment Available. Records pods bound per second, the time until every Deployment is
 * Available, and the hub's resident memory (peak and at the end).
 *
 * The hub runs as users run it: `edge-hub server` from the dev bundle in its own process
 * (bench/lib/hub-process.ts). The simulated kubelets (test/helpers/kubelet-sim.ts, with their
 * own pod informer) and the observer run in this process and talk HTTPS to it
 * (bench/lib/https-client.ts), so the RSS is the hub's alone: VmHWM (the kernel's peak) and
 * VmRSS at the end from /proc/<hub pid>/status, plus the V8 heap figures of a diagnostic report.
 *
 * Targets (this 2-core machine): ≥ 500 pods/s bound, all Available < 60 s, hub RSS < 300 MB.
 * Run: npm run bench -- scheduler [--quick] (quick: 100 nodes, 10 × 100 pods, for development);
 * BENCH_NODES / BENCH_GROUPS / BENCH_PER_GROUP override the sizes; --heap-snapshot DIR writes a
 * heap snapshot of the hub once everything is Available (summarise: bench/lib/heap-summary.ts).
 * Result: bench/results/scheduler-<date>.json (also printed).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { KubeObject } from "../src/api/object.js";
import { refs } from "../src/client/client.js";
import { KubeletSim } from "../test/helpers/kubelet-sim.js";
import { HttpsClient } from "./lib/https-client.js";
import { freePort, HubProcess } from "./lib/hub-process.js";
import { writeResult } from "./lib/stats.js";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    "heap-snapshot": { type: "string" },
    /** extra `edge-hub server` flags for A/B runs, e.g. --hub-args "--max-semi-space 0" */
    "hub-args": { type: "string" },
    /** results go to scheduler-DATE-TAG.json instead of the day's file (writeResult) */
    tag: { type: "string" },
  },
});
const QUICK = values.quick ?? false;
const NODES = Number(process.env.BENCH_NODES ?? (QUICK ? 100 : 1000));
const GROUPS = Number(process.env.BENCH_GROUPS ?? (QUICK ? 10 : 100));
const PER_GROUP = Number(process.env.BENCH_PER_GROUP ?? 100);
const TOTAL = GROUPS * PER_GROUP;
const NS = "bench";
const MB = 1048576;
const log = (m: string) => process.stderr.write(`scheduler: ${m}\n`);

/** CPU seconds a process has used (utime + stime from /proc/<pid>/stat) */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

function template(): KubeObject["spec"] {
  return {
    containers: [{ name: "app", image: "busybox", resources: { requests: { cpu: "10m", memory: "16Mi" } } }],
  };
}

function deployment(name: string, replicas: number): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: template() },
    },
  };
}

async function waitFor(what: string, fn: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not happen within ${timeoutMs / 1000} s`);
}

async function main(): Promise<void> {
  const build = spawnSync(process.execPath, ["scripts/build-dev.mjs"], { stdio: "inherit" });
  if (build.status !== 0) throw new Error("scripts/build-dev.mjs failed");
  const load0 = loadavg();
  const dir = mkdtempSync(join(tmpdir(), "ek-bench-sched-"));
  const snapshotDir = values["heap-snapshot"];
  const hub = new HubProcess({
    dir,
    httpsPort: await freePort(),
    mqttPort: await freePort(),
    // a /24 per node: 1,000 nodes need more than the default /16
    args: [
      "--cluster-cidr",
      "10.128.0.0/9",
      ...(values["hub-args"] ?? "").split(/\s+/).filter((a) => a !== ""),
    ],
    ...(snapshotDir ? { snapshotDir } : {}),
  });
  const tStart = Date.now();
  await hub.start();
  const startMs = Date.now() - tStart;
  const rssAfterStart = hub.memory().rss;
  const client = new HttpsClient(hub.url, hub.ca, hub.token);
  const sim = new KubeletSim(client, { leaseRenewMs: 20_000 });
  try {
    await sim.start();
    const t0 = Date.now();
    for (let i = 0; i < NODES; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, NODES - i) }, (_, j) =>
          sim.addNode({ name: `node-${String(i + j).padStart(4, "0")}`, cpu: "4", memory: "8Gi" }),
        ),
      );
    }
    const nodesMs = Date.now() - t0;
    log(`${NODES} nodes registered in ${nodesMs} ms`);
    await client.create(refs.namespaces, undefined, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: NS },
    });
    const rssWithNodes = hub.memory().rss;

    // the observer keeps names, not pods
    const bound = new Set<string>();
    const running = new Set<string>();
    let lastBound = 0;
    const watch = client.watch(
      refs.pods,
      NS,
      "0",
      (events) => {
        for (const e of events) {
          const p = e.object;
          const name = p.metadata.name ?? "";
          if ((p.spec as { nodeName?: string }).nodeName && !bound.has(name)) {
            bound.add(name);
            lastBound = Date.now();
          }
          if ((p.status as { phase?: string } | undefined)?.phase === "Running") running.add(name);
        }
      },
      (err) => log(`observer watch ended: ${err.message}`),
    );

    const start = Date.now();
    const cpu0 = cpuSeconds(hub.pid);
    for (let g = 0; g < GROUPS; g++)
      await client.create(refs.deployments, NS, deployment(`w${g}`, PER_GROUP));
    const createdMs = Date.now() - start;
    const available = async () =>
      (await client.list(refs.deployments, NS)).items.filter(
        (d) => (d.status as { availableReplicas?: number } | undefined)?.availableReplicas === PER_GROUP,
      ).length;
    await waitFor(`all ${TOTAL} pods bound`, () => bound.size >= TOTAL, 300_000);
    await waitFor(`all ${GROUPS} Deployments Available`, async () => (await available()) >= GROUPS, 300_000);
    const availableMs = Date.now() - start;
    const hubCpu = cpuSeconds(hub.pid) - cpu0;
    const mem = hub.memory();
    const v8 = await hub.report();
    if (snapshotDir) log(`heap snapshot: ${await hub.heapSnapshot()}`);
    watch.cancel();
    const result = {
      benchmark: "scheduler",
      date: new Date().toISOString(),
      mode: QUICK ? "quick" : "full",
      source: "deployments",
      hub: "edge-hub server (dev bundle) in its own process; kubelets and observer over HTTPS",
      nodes: NODES,
      pods: TOTAL,
      deployments: GROUPS,
      hubStartMs: startMs,
      nodeRegistrationMs: nodesMs,
      deploymentCreateMs: createdMs,
      bound: bound.size,
      running: running.size,
      podsBoundPerSecond: Math.round((bound.size * 1000) / Math.max(1, lastBound - start)),
      allBoundMs: lastBound - start,
      allAvailableMs: availableMs,
      /** CPU seconds the hub process spent from the first Deployment to all Available */
      hubCpuSeconds: Math.round(hubCpu * 100) / 100,
      hubRssAfterStartMB: Math.round(rssAfterStart / MB),
      hubRssWithNodesMB: Math.round(rssWithNodes / MB),
      /** VmHWM: the kernel's peak resident set of the hub process since it started */
      hubRssPeakMB: Math.round(mem.hwm / MB),
      hubRssEndMB: Math.round(mem.rss / MB),
      hubHeapUsedEndMB: Math.round(v8.heapUsed / MB),
      hubHeapCommittedEndMB: Math.round(v8.heapCommitted / MB),
      hubExternalEndMB: Math.round(v8.external / MB),
      loadAverageBefore: load0.map((x) => Math.round(x * 100) / 100),
      loadAverageAfter: loadavg().map((x) => Math.round(x * 100) / 100),
      targets: { podsBoundPerSecond: 500, allAvailableMs: 60_000, hubRssMB: 300 },
    };
    const file = writeResult("scheduler", result, values.tag ?? (QUICK ? "quick" : undefined));
    console.log(JSON.stringify(result));
    log(`written to ${file}`);
  } finally {
    sim.stop();
    client.close();
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
