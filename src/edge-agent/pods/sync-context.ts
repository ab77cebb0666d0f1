/**
 * What the parts of a pod sync share: their dependencies and the small steps each of them
 * takes (events, the downward context, resolving a container's env and mounts, the
 * CrashLoopBackOff gate). pod-sync.ts drives a sync; pod-start.ts starts a pod and
 * pod-restart.ts keeps a running one going.
 *
 * Design notes
 * - `trace` marks the phases of a pod start at debug level (`podTrace` field): bench/pods reads
 *   them from the agent's log to show where the time of a batch goes. With the default level
 *   pino's debug is a no-op, so the marks cost nothing in production. "sync" is marked once the
 *   volumes are prepared (a projected service account token comes from the hub there).
 */
import type { Pod } from "kubernetes-types/core/v1";
import type { Logger } from "../../lib/logger.js";
import type { ContainerRuntime, PodRuntimeSpec, RuntimeContainerStatus } from "../runtime/runtime.js";
import { type Backoff, goDuration } from "./backoff.js";
import { ConfigError, type DownwardContext } from "./downward.js";
import { resolveEnv } from "./env.js";
import type { PodState } from "./pod-state.js";
import type { Clock, EventType, PodNetwork, PodSource, StatusReporter, VolumeHost } from "./ports.js";
import type { RunProbe } from "./probe-runner.js";
import { type ClusterDNS, pullAuth, type ResolvedContainer, runtimeSpec } from "./runtime-spec.js";
import { VolumeError } from "./volumes/paths.js";
import { containerMounts, type PreparedVolume } from "./volumes/volumes.js";

export interface SyncDeps {
  runtime: ContainerRuntime;
  source: PodSource;
  reporter: StatusReporter;
  volumeHost: VolumeHost;
  network: PodNetwork;
  hostIP?: string;
  nodeLabels: Record<string, string>;
  allocatable: DownwardContext["allocatable"];
  clock: Clock;
  crash: Backoff;
  pulls: Backoff;
  runProbe: RunProbe;
  cluster?: ClusterDNS;
  isRoot: boolean;
  log: Logger;
  enqueue(uid: string): void;
}

/** Phases of a pod start, in order (bench/pods reads them back). */
export type TracePhase = "queued" | "sync" | "images" | "sandbox" | "network" | "started" | "reported";

export function trace(d: SyncDeps, uid: string, phase: TracePhase): void {
  d.log.debug({ podTrace: phase, podUid: uid }, "pod phase");
}

export const terminated = (s: RuntimeContainerStatus | undefined) =>
  s !== undefined && "terminated" in s.state ? s.state.terminated : undefined;
export const isRunning = (s: RuntimeContainerStatus | undefined) => s !== undefined && "running" in s.state;
export const ms = (t: string | undefined) => (t ? Date.parse(t) : Number.NaN);

export function podOf(st: PodState): Pod {
  return st.obj as unknown as Pod;
}

export function event(d: SyncDeps, st: PodState, type: EventType, reason: string, message: string): void {
  st.event(d.reporter, d.clock.now(), type, reason, message);
}

export function podRef(pod: Pod): string {
  return `${pod.metadata?.name ?? ""}_${pod.metadata?.namespace ?? ""}(${pod.metadata?.uid ?? ""})`;
}

export function downward(d: SyncDeps, st: PodState): DownwardContext {
  return { pod: podOf(st), podIP: st.podIP, hostIP: d.hostIP, allocatable: d.allocatable };
}

/** The full runtime spec, or undefined with the waiting reason of the container whose config is wrong. */
export function resolveSpec(
  d: SyncDeps,
  st: PodState,
  volumes: ReadonlyMap<string, PreparedVolume>,
): PodRuntimeSpec | undefined {
  const pod = podOf(st);
  const ctx = downward(d, st);
  const resolved = new Map<string, ResolvedContainer>();
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    try {
      const r = resolveEnv(c, ctx, (kind, ns, name) => d.source.get(kind, ns, name));
      for (const w of r.warnings) event(d, st, "Warning", "InvalidEnvironmentVariableNames", w);
      const envMap = new Map(r.env.map((e) => [e.name, e.value]));
      resolved.set(c.name, { env: r.env, mounts: containerMounts(c, volumes, envMap) });
    } catch (err) {
      if (!(err instanceof ConfigError) && !(err instanceof VolumeError)) throw err;
      st.waiting.set(c.name, { reason: "CreateContainerConfigError", message: err.message });
      event(d, st, "Warning", "Failed", `Error: ${err.message}`);
      return undefined;
    }
  }
  return runtimeSpec(pod, resolved, { cluster: d.cluster, auth: pullAuth(pod, d.source) });
}

/**
 * CrashLoopBackOff, keyed by pod uid + role + container and measured from the container's
 * finishedAt. undefined: go ahead (back-off armed for next time); a number: wait that long.
 */
export function backoffGate(
  d: SyncDeps,
  st: PodState,
  role: string,
  name: string,
  startedAt: string,
  finishedAt: string,
): number | undefined {
  const pod = podOf(st);
  const key = `${st.uid}/${role}/${name}`;
  const failedAt = Number.isNaN(ms(finishedAt)) ? d.clock.now() : ms(finishedAt);
  const remaining = d.crash.remaining(key, failedAt);
  if (remaining > 0) {
    const delay = goDuration(d.crash.delay(key) ?? d.crash.baseMs);
    st.waiting.set(name, {
      reason: "CrashLoopBackOff",
      message: `back-off ${delay} restarting failed container=${name} pod=${podRef(pod)}`,
    });
    event(d, st, "Warning", "BackOff", `Back-off restarting failed container ${name} in pod ${podRef(pod)}`);
    return remaining;
  }
  const ranFor = failedAt - ms(startedAt);
  d.crash.next(key, failedAt, Number.isNaN(ranFor) ? 0 : ranFor);
  return undefined;
}
