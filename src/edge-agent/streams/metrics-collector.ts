/**
 * Usage sampling for metrics.k8s.io: per-container CPU and memory from Docker stats, and the
 * node's from /proc.
 *
 * Design notes
 * - One non-streaming stats call per container (`stream: false`): Docker then samples twice,
 *   about a second apart, and returns both (`cpu_stats`, `precpu_stats`), so CPU nanocores come
 *   from one call without us keeping per-container history. Calls run in parallel.
 * - Memory is the working set as the kubelet/cAdvisor define it: usage minus inactive file
 *   pages (`inactive_file` on cgroup v2, `total_inactive_file` on v1), never below zero.
 * - Node CPU comes from /proc/stat deltas between two calls of `NodeSampler.sample()`; node
 *   memory is MemTotal − MemAvailable.
 */
import { readFile } from "node:fs/promises";
import type Docker from "dockerode";
import type { PodUsage, Usage } from "../../transport/streams/index.js";
import type { ContainerRuntime } from "../runtime/index.js";

interface StatsLike {
  read?: string;
  preread?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  precpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; stats?: Record<string, number | undefined> };
}

/** CPU nanocores and working-set bytes from one Docker stats sample; pure, unit-tested. */
export function usageFromStats(s: StatsLike): Usage & { windowSeconds: number } {
  const cpu = (s.cpu_stats?.cpu_usage?.total_usage ?? 0) - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const t1 = Date.parse(s.read ?? "");
  const t0 = Date.parse(s.preread ?? "");
  const windowNs = Number.isFinite(t1) && Number.isFinite(t0) && t1 > t0 ? (t1 - t0) * 1e6 : 0;
  const cpuNanoCores = windowNs > 0 && cpu > 0 ? Math.round((cpu / windowNs) * 1e9) : 0;
  const mem = s.memory_stats;
  const inactive = mem?.stats?.["inactive_file"] ?? mem?.stats?.["total_inactive_file"] ?? 0;
  const memoryBytes = Math.max(0, (mem?.usage ?? 0) - inactive);
  return { cpuNanoCores, memoryBytes, windowSeconds: windowNs > 0 ? windowNs / 1e9 : 1 };
}

/** Usage of every running app container of every pod the runtime knows. */
export async function collectPodMetrics(
  runtime: ContainerRuntime,
  docker: Docker,
  now: () => Date = () => new Date(),
): Promise<PodUsage[]> {
  const pods = await runtime.listPods();
  const out = await Promise.all(
    pods.map(async (pod): Promise<PodUsage | undefined> => {
      const running = pod.containers.filter((c) => c.role === "app" && "running" in c.state);
      if (running.length === 0) return undefined;
      let window = 1;
      const containers = await Promise.all(
        running.map(async (c) => {
          const id = c.containerID.replace(/^docker:\/\//, "");
          try {
            const stats = (await docker.getContainer(id).stats({ stream: false })) as unknown as StatsLike;
            const u = usageFromStats(stats);
            window = u.windowSeconds;
            return { name: c.name, cpuNanoCores: u.cpuNanoCores, memoryBytes: u.memoryBytes };
          } catch {
            return undefined; // the container stopped meanwhile
          }
        }),
      );
      const present = containers.filter((c) => c !== undefined);
      if (present.length === 0) return undefined;
      return {
        namespace: pod.namespace,
        name: pod.name,
        uid: pod.uid,
        timestamp: now().toISOString(),
        windowSeconds: Math.max(1, Math.round(window)),
        containers: present,
      };
    }),
  );
  return out.filter((p) => p !== undefined);
}

/** Node CPU and memory from /proc, CPU averaged since the previous sample. */
export class NodeSampler {
  private last: { busy: number; total: number; at: number } | undefined;

  constructor(private readonly procDir = "/proc") {}

  async sample(): Promise<Usage & { windowSeconds: number }> {
    const [stat, meminfo] = await Promise.all([
      readFile(`${this.procDir}/stat`, "utf8"),
      readFile(`${this.procDir}/meminfo`, "utf8"),
    ]);
    const cpuLine = stat.split("\n").find((l) => l.startsWith("cpu "));
    const ticks = (cpuLine ?? "").trim().split(/\s+/).slice(1).map(Number);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
    const at = Date.now();
    const prev = this.last;
    this.last = { busy: total - idle, total, at };
    let cpuNanoCores = 0;
    let windowSeconds = 1;
    if (prev && at > prev.at && total > prev.total) {
      windowSeconds = (at - prev.at) / 1000;
      // ticks are USER_HZ (100/s): busy ticks per second / 100 = cores
      cpuNanoCores = Math.round((((total - idle - prev.busy) / windowSeconds) * 1e9) / 100);
    }
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(meminfo)?.[1] ?? 0) * 1024;
    return { cpuNanoCores, memoryBytes: Math.max(0, kb("MemTotal") - kb("MemAvailable")), windowSeconds };
  }
}
