/**
 * bench/sync's partition phase: cut the agents' links (all of them, or the subset that goes
 * through the workers' second relay), create `pods` pods per cut node on the hub meanwhile,
 * heal after `partitionSeconds`, and time until every cut agent holds all its pods.
 *
 * Design notes
 * - The whole-fleet figure is bounded by TLS on the hub's one event loop (N resumed handshakes
 *   take seconds even on a bare server, tls-floor.ts); the subset figure is what a real outage
 *   of part of a fleet (one site, one cellular cell) looks like while the rest stays connected,
 *   and is where "< 2 s after the link returns" can hold.
 * - Pod names are p<first+i>-<node>, so a later round creates new pods for the same nodes and
 *   the agents must converge on those, not on the earlier round's.
 * - The hub's CPU from the heal until all converged, per reconnected agent, is what the storm
 *   of reconnects cost it (TLS included; the floor says how much TLS alone is).
 */
import type { AgentWorker } from "./agent-workers.js";
import { runLoad, type Target } from "./https-load.js";
import { cpuMs, percentile } from "./stats.js";
import type { Scope } from "./sync-agents.js";
import { pollUntil, sumOf } from "./sync-poll.js";

export interface ReconvergeParams {
  api: Target;
  hubPid: () => number;
  workers: AgentWorker[];
  /** the nodes this round cuts */
  nodes: string[];
  scope: Scope;
  podsPerNode: number;
  /** index of this round's first pod per node (pods of earlier rounds are p0.. p<first-1>) */
  firstPod: number;
  namespace: string;
  partitionSeconds: number;
  log: (msg: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const pcts = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  return {
    p50: percentile(v, 50),
    p90: percentile(v, 90),
    p99: percentile(v, 99),
    max: v[v.length - 1] ?? null,
  };
};

export async function reconverge(p: ReconvergeParams) {
  const { workers, nodes, scope } = p;
  await Promise.all(workers.map((w) => w.call({ cmd: "partition", scope })));
  const partitionAt = Date.now();
  const podLoad = await runLoad(p.api, nodes.length * p.podsPerNode, 16, (i) => {
    const node = nodes[i % nodes.length]!;
    const name = `p${p.firstPod + Math.floor(i / nodes.length)}-${node}`;
    return {
      method: "POST",
      path: `/api/v1/namespaces/${p.namespace}/pods`,
      body: JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: p.namespace },
        spec: { nodeName: node, containers: [{ name: "c", image: "busybox" }] },
      }),
    };
  });
  p.log(
    `${scope}: ${nodes.length * p.podsPerNode} pods created during the partition (${podLoad.errors} errors)`,
  );
  await sleep(Math.max(0, partitionAt + p.partitionSeconds * 1000 - Date.now()));
  const restoreAt = Date.now();
  const hubCpuAtRestore = cpuMs(p.hubPid());
  const restored = await Promise.all(
    workers.map((w) =>
      w.call<{ at: number; cpuMs: number }>({
        cmd: "restore",
        pods: p.podsPerNode,
        first: p.firstPod,
        namespace: p.namespace,
        scope,
      }),
    ),
  );
  const workersCpuAtRestore = restored.reduce((a, x) => a + x.cpuMs, 0);
  const conv = await pollUntil(workers, (r) => r.every((x) => x.convergedAt > 0), 180_000);
  const hubCpuMs = cpuMs(p.hubPid()) - hubCpuAtRestore;
  const workersCpuMs = sumOf(conv.reports, (x) => x.cpuMs) - workersCpuAtRestore;
  const perAgent = conv.reports.flatMap((x) => x.convergeMs).sort((a, b) => a - b);
  const fromHeal = conv.reports.flatMap((x) => x.convergeFromHealMs).sort((a, b) => a - b);
  const reconnected = sumOf(conv.reports, (x) => x.reconnectedSinceRestore);
  return {
    scope,
    /** agents cut by the partition (the rest of the fleet stayed connected) */
    partitioned: sumOf(conv.reports, (x) => x.measured),
    allConverged: !conv.timedOut,
    converged: sumOf(conv.reports, (x) => x.converged),
    partitionSeconds: (restoreAt - partitionAt) / 1000,
    /** agents whose link was declared dead and reconnected; the rest kept their connection */
    reconnected,
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
    perAgentFromHealMs: pcts(fromHeal),
    /** agents that reconnected: heal → TCP connect (the policy), TCP → CONNACK+SUBACK (hub, TLS) */
    reconnectTcpFromHealMs: pcts(conv.reports.flatMap((x) => x.tcpFromHealMs)),
    reconnectConnackAfterTcpMs: pcts(conv.reports.flatMap((x) => x.connackAfterTcpMs)),
    /** hub CPU from the heal until all converged (≈ wall time × 1 core: the hub is the bound) */
    hubCpuSeconds: hubCpuMs / 1000,
    /** the same per agent that reconnected (TLS included: compare tlsFloor's server CPU) */
    hubCpuMsPerReconnect: reconnected > 0 ? hubCpuMs / reconnected : null,
    /** the simulated agents' processes (TLS client side, relay), all workers together */
    workersCpuSeconds: workersCpuMs / 1000,
    failedConnectionAttempts: conv.failedAttempts,
    failuresByError: conv.errors,
    tlsHandshakes: conv.tlsHandshakes,
  };
}

export type Reconvergence = Awaited<ReturnType<typeof reconverge>>;
