/**
 * The physical limit of bench/pods: what the node's dockerd can do without the agent, the way
 * bench/api measures an HTTPS echo beside the API server.
 *
 * `n` sandbox + app container pairs are created and started straight through dockerode on the
 * same dockerd, with the create options the agent sends (docker-mapping.ts: same images, host
 * config, labels, names), `concurrency` pods in flight at once like the agent's work queue,
 * each sandbox inspected after its start (the agent needs its pid for the network namespace)
 * and each app container once. Network wiring (veth + IPAM, src/cni) is EXCLUDED: this is
 * Docker alone. Latency of a pod = batch start → its app container started, as bench/pods
 * measures apply → Running from the batch's creates.
 */
import { randomUUID } from "node:crypto";
import { loadavg } from "node:os";
import Docker from "dockerode";
import { containerCreateOptions, sandboxCreateOptions } from "../../src/edge-agent/runtime/docker-mapping.js";
import type { PodRuntimeSpec } from "../../src/edge-agent/runtime/runtime.js";
import { median, percentile } from "./stats.js";

export interface BaselineRun {
  pods: number;
  concurrency: number;
  p50Ms: number;
  p99Ms: number;
  /** batch start → the last pod's app container started */
  totalMs: number;
}

function podSpec(image: string, i: number): PodRuntimeSpec {
  return {
    uid: randomUUID(),
    name: `baseline-${i}`,
    namespace: "default",
    terminationGracePeriodSeconds: 0,
    dns: { nameservers: ["10.43.0.10"], searches: ["default.svc.cluster.local"], options: ["ndots:5"] },
    containers: [
      {
        name: "c",
        image,
        imagePullPolicy: "Never",
        command: ["sh", "-c", "exec sleep 3600"],
        env: [{ name: "KUBERNETES_SERVICE_HOST", value: "10.43.0.1" }],
      },
    ],
  };
}

/** One batch of `n` pods; the containers are removed again before it resolves. */
export async function dockerBaseline(
  socketPath: string,
  image: string,
  n: number,
  concurrency: number,
): Promise<BaselineRun> {
  const docker = new Docker({ socketPath });
  const ids: string[] = [];
  const done: number[] = [];
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= n) return;
      const pod = podSpec(image, i);
      const sb = await docker.createContainer(
        sandboxCreateOptions(pod, { image, command: ["sleep", "2147483647"], attempt: 0 }),
      );
      ids.push(sb.id);
      await sb.start();
      await sb.inspect();
      const spec = pod.containers[0];
      if (!spec) throw new Error("baseline pod without a container");
      const app = await docker.createContainer(
        containerCreateOptions(pod, spec, { sandboxId: sb.id, role: "app", attempt: 0, index: 0 }),
      );
      ids.push(app.id);
      await app.start();
      await app.inspect();
      done.push(performance.now() - t0);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  } finally {
    // apps first: a sandbox whose namespaces others still use cannot go first
    for (const id of ids.reverse())
      await docker
        .getContainer(id)
        .remove({ force: true })
        .catch(() => {});
  }
  done.sort((a, b) => a - b);
  return {
    pods: n,
    concurrency,
    p50Ms: Math.round(percentile(done, 50)),
    p99Ms: Math.round(percentile(done, 99)),
    totalMs: Math.round(done.at(-1) ?? 0),
  };
}

/** The baseline as bench/pods reports it, beside the agent's 50-pod figures. */
export interface BaselineSummary {
  networkWiring: "excluded";
  concurrency: number;
  runs: BaselineRun[];
  otherConcurrency?: BaselineRun[];
  p50Ms: number;
  p99Ms: number;
  agentOverDocker: { p50: number; p99: number };
}

/**
 * `runs` rounds of 50 pairs at `concurrency` (the agent's) and at each of `sweep`'s other
 * values; the agent's 50-pod p50/p99 are given as ratios to the baseline at `concurrency`.
 */
export async function dockerBaselineSummary(o: {
  dockerSock: string;
  image: string;
  runs: number;
  concurrency: number;
  sweep: number[];
  agent50: { p50Ms: number; p99Ms: number };
  log: (m: string) => void;
}): Promise<BaselineSummary> {
  const round2 = (x: number) => Math.round(x * 100) / 100;
  const loads = () => loadavg().map(round2).join(" ");
  const base: BaselineRun[] = [];
  const other: BaselineRun[] = [];
  for (let r = 0; r < o.runs; r++) {
    for (const k of new Set([o.concurrency, ...o.sweep])) {
      const b = await dockerBaseline(o.dockerSock, o.image, 50, k);
      (k === o.concurrency ? base : other).push(b);
      o.log(
        `docker alone, 50 pairs at concurrency ${k}: p50 ${b.p50Ms} ms, p99 ${b.p99Ms} ms, all in ${b.totalMs} ms (load ${loads()})`,
      );
    }
  }
  const p50Ms = median(base.map((x) => x.p50Ms));
  const p99Ms = median(base.map((x) => x.p99Ms));
  const agentOverDocker = { p50: round2(o.agent50.p50Ms / p50Ms), p99: round2(o.agent50.p99Ms / p99Ms) };
  o.log(`agent / docker alone (50 pods): p50 ×${agentOverDocker.p50}, p99 ×${agentOverDocker.p99}`);
  return {
    networkWiring: "excluded",
    concurrency: o.concurrency,
    runs: base,
    ...(other.length > 0 ? { otherConcurrency: other } : {}),
    p50Ms,
    p99Ms,
    agentOverDocker,
  };
}
