/**
 * bench/scheduler: 1,000 simulated nodes, 10,000 pods from 100 workloads, on an in-process
 * hub (real SQLite store). Records pods bound per second, the time until every pod is
 * bound and Running, and the process RSS (hub + simulated kubelets).
 *
 * When a deployment controller runs in the hub, the pods come from 100 Deployments of 100
 * replicas and "all Available" is measured on them; otherwise the bench creates the pods
 * itself (100 groups of 100, same labels) and says so in the result (`source`).
 * Targets (this 2-core machine): ≥ 500 pods/s bound, everything up < 60 s, RSS < 300 MB.
 */
import type { KubeObject } from "../src/api/object.js";
import { refs } from "../src/client/client.js";
import { Informer } from "../src/client/informer.js";
import { startHub } from "../test/helpers/hub.js";
import { KubeletSim } from "../test/helpers/kubelet-sim.js";

const NODES = Number(process.env.BENCH_NODES ?? 1000);
const GROUPS = Number(process.env.BENCH_GROUPS ?? 100);
const PER_GROUP = Number(process.env.BENCH_PER_GROUP ?? 100);
const TOTAL = GROUPS * PER_GROUP;
const NS = "bench";

function template(_group: number): KubeObject["spec"] {
  return {
    containers: [{ name: "app", image: "busybox", resources: { requests: { cpu: "10m", memory: "16Mi" } } }],
  };
}

async function main(): Promise<void> {
  const t = await startHub();
  const client = t.hub.client!;
  const sim = new KubeletSim(client, { leaseRenewMs: 20_000 });
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
  await client.create(refs.namespaces, undefined, {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: NS },
  });

  let bound = 0;
  let running = 0;
  let firstBound = 0;
  let lastBound = 0;
  let allRunning = 0;
  const seen = new Set<string>();
  const seenRunning = new Set<string>();
  const pods = new Informer(client, refs.pods, { namespace: NS });
  const onPod = (p: KubeObject) => {
    const name = p.metadata.name ?? "";
    if ((p.spec as { nodeName?: string }).nodeName && !seen.has(name)) {
      seen.add(name);
      bound++;
      if (bound === 1) firstBound = Date.now();
      lastBound = Date.now();
    }
    if ((p.status as { phase?: string } | undefined)?.phase === "Running" && !seenRunning.has(name)) {
      seenRunning.add(name);
      running++;
      if (running === TOTAL) allRunning = Date.now();
    }
  };
  pods.addHandlers({ onAdd: onPod, onUpdate: onPod });
  await pods.start();

  // deployments if a controller turns them into pods, pods directly otherwise
  await client.create(refs.deployments, NS, deployment(0, 1));
  const hasDeploymentController = await waitFor(
    async () => (await client.list(refs.replicasets, NS)).items.length > 0,
    3000,
  );
  await client.delete(refs.deployments, NS, "probe-0").catch(() => {});
  const start = Date.now();
  if (hasDeploymentController) {
    for (let g = 0; g < GROUPS; g++) await client.create(refs.deployments, NS, deployment(g, PER_GROUP));
  } else {
    for (let g = 0; g < GROUPS; g++) {
      await Promise.all(
        Array.from({ length: PER_GROUP }, (_, i) =>
          client.create(refs.pods, NS, {
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: `w${g}-${i}`, labels: { app: `w${g}` } },
            spec: template(g),
          }),
        ),
      );
    }
  }
  const createdMs = Date.now() - start;
  await waitFor(async () => running >= TOTAL, 180_000);
  let availableMs: number | undefined;
  if (hasDeploymentController) {
    await waitFor(async () => {
      const l = await client.list(refs.deployments, NS);
      return (
        l.items.filter(
          (d) => (d.status as { availableReplicas?: number } | undefined)?.availableReplicas === PER_GROUP,
        ).length >= GROUPS
      );
    }, 120_000);
    availableMs = Date.now() - start;
  }
  const rss = process.memoryUsage().rss;
  const result = {
    benchmark: "scheduler",
    date: new Date().toISOString(),
    source: hasDeploymentController
      ? "deployments"
      : "pods created directly (no deployment controller in this tree)",
    nodes: NODES,
    pods: TOTAL,
    nodeRegistrationMs: nodesMs,
    podCreateMs: createdMs,
    bound,
    bindWindowMs: lastBound - firstBound,
    podsBoundPerSecond: Math.round((bound * 1000) / Math.max(1, lastBound - start)),
    allBoundMs: lastBound - start,
    allRunningMs: allRunning ? allRunning - start : undefined,
    allAvailableMs: availableMs,
    rssMB: Math.round(rss / 1048576),
    targets: { podsBoundPerSecond: 500, allAvailableMs: 60_000, rssMB: 300 },
  };
  pods.stop();
  sim.stop();
  await t.stop();
  console.log(JSON.stringify(result));
}

function deployment(g: number, replicas: number): KubeObject {
  const name = replicas === 1 ? `probe-${g}` : `w${g}`;
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: template(g) },
    },
  };
}

async function waitFor(fn: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
