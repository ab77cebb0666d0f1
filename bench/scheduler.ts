/**
 * bench/scheduler: 1,000 simulated nodes, 10,000 pods from 100 Deployments of 100 replicas, on
 * an in-process hub (real SQLite store): Deployments → ReplicaSets → pods → scheduled and bound
 * → Running (simulated kubelets) → every Deployment Available. Records pods bound per second,
 * the time until every Deployment is Available, and the hub's resident memory (peak, sampled
 * every 250 ms, and at the end).
 *
 * What the RSS covers: the process is the hub plus the simulated kubelets and this observer.
 * The kubelets read pods from the hub's shared pod cache and the observer counts names from a
 * bare watch, so no second copy of any pod is held: the figure is the hub's own, plus the
 * kubelets' small per-node state.
 *
 * Targets (this 2-core machine): ≥ 500 pods/s bound, all Available < 60 s, RSS < 300 MB.
 * Run: npm run bench -- scheduler [--quick] (quick: 100 nodes, 10 × 100 pods, for development);
 * BENCH_NODES / BENCH_GROUPS / BENCH_PER_GROUP override the sizes; BENCH_HEAP_SNAPSHOT=FILE writes
 * a heap snapshot once everything is Available.
 * Result: bench/results/scheduler-<date>.json (also printed).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { writeHeapSnapshot } from "node:v8";
import type { KubeObject } from "../src/api/object.js";
import { refs } from "../src/client/client.js";
import type { SharedInformers } from "../src/hub/controllers/shared-informers.js";
import { startHub } from "../test/helpers/hub.js";
import { KubeletSim } from "../test/helpers/kubelet-sim.js";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    // the kubelets keep their own pod cache (counted in the RSS): compares trees without a shared cache
    "private-sim-cache": { type: "boolean", default: false },
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
  const load0 = loadavg();
  const tStart = Date.now();
  const t = await startHub();
  const startMs = Date.now() - tStart;
  const rssAfterStart = process.memoryUsage().rss;
  let rssPeak = rssAfterStart;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }, 250);
  const client = t.hub.client!;
  const informers = (t.hub as { informers?: SharedInformers }).informers;
  const shared = informers && !values["private-sim-cache"] ? { pods: informers.informer(refs.pods) } : {};
  const sim = new KubeletSim(client, { leaseRenewMs: 20_000, ...shared });
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
  const cpu0 = process.cpuUsage();
  for (let g = 0; g < GROUPS; g++) await client.create(refs.deployments, NS, deployment(`w${g}`, PER_GROUP));
  const createdMs = Date.now() - start;
  const available = async () =>
    (await client.list(refs.deployments, NS)).items.filter(
      (d) => (d.status as { availableReplicas?: number } | undefined)?.availableReplicas === PER_GROUP,
    ).length;
  await waitFor(`all ${TOTAL} pods bound`, () => bound.size >= TOTAL, 300_000);
  await waitFor(`all ${GROUPS} Deployments Available`, async () => (await available()) >= GROUPS, 300_000);
  const availableMs = Date.now() - start;
  const cpu = process.cpuUsage(cpu0);
  const rssEnd = process.memoryUsage().rss;
  rssPeak = Math.max(rssPeak, rssEnd);
  clearInterval(sampler);
  // BENCH_HEAP_SNAPSHOT=file: what holds the memory at the end (open in Chrome DevTools)
  if (process.env.BENCH_HEAP_SNAPSHOT) writeHeapSnapshot(process.env.BENCH_HEAP_SNAPSHOT);
  const heap = process.memoryUsage();
  const result = {
    benchmark: "scheduler",
    date: new Date().toISOString(),
    mode: QUICK ? "quick" : "full",
    source: "deployments",
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
    /** CPU seconds the process (hub + kubelets) spent from the first Deployment to all Available */
    cpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100,
    simPodCache: "pods" in shared ? "hub's shared informer" : "private (counted in RSS)",
    rssAfterStartMB: Math.round(rssAfterStart / MB),
    rssPeakMB: Math.round(rssPeak / MB),
    rssEndMB: Math.round(rssEnd / MB),
    heapUsedEndMB: Math.round(heap.heapUsed / MB),
    loadAverageBefore: load0.map((x) => Math.round(x * 100) / 100),
    loadAverageAfter: loadavg().map((x) => Math.round(x * 100) / 100),
    targets: { podsBoundPerSecond: 500, allAvailableMs: 60_000, rssMB: 300 },
  };
  watch.cancel();
  sim.stop();
  await t.stop();
  mkdirSync("bench/results", { recursive: true });
  const tag = `${QUICK ? "-quick" : ""}${"pods" in shared ? "" : "-private-sim-cache"}`;
  const file = `bench/results/scheduler-${result.date.slice(0, 10)}${tag}.json`;
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result));
  log(`written to ${file}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
