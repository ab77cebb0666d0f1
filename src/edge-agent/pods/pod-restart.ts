/**
 * Keeping a running pod going: exited containers under the restart policy, and containers a
 * liveness or startup probe asked to kill.
 *
 * Design notes
 * - Restarts go through the CrashLoopBackOff back-off keyed by pod uid + container, measured
 *   from the container's finishedAt, so an agent restart does not reset a running back-off clock
 *   for a crash it did not witness (the delay itself restarts at the base).
 * - A pod whose containers all run as desired is not touched and Docker is not asked again:
 *   the status the sync read is the answer. That is the periodic resync of every running pod,
 *   so it must stay at one list + inspect per pod (it was three).
 */
import { ContainerStartError } from "../runtime/errors.js";
import type { PodRuntimeSpec, RuntimePod } from "../runtime/runtime.js";
import { announce } from "./pod-start.js";
import type { PodState } from "./pod-state.js";
import {
  backoffGate,
  event,
  isRunning,
  ms,
  podOf,
  podRef,
  resolveSpec,
  type SyncDeps,
  terminated,
} from "./sync-context.js";
import type { PreparedVolume } from "./volumes/volumes.js";

export interface KeepOutcome {
  /** requeue after this many ms (undefined: nothing to wait for) */
  wait?: number;
  /** the pod now: the one passed in when nothing was changed, else read again */
  rt: RuntimePod | undefined;
}

export async function keepRunning(
  d: SyncDeps,
  st: PodState,
  rt: RuntimePod,
  volumes: ReadonlyMap<string, PreparedVolume>,
): Promise<KeepOutcome> {
  const pod = podOf(st);
  const policy = pod.spec?.restartPolicy ?? "Always";
  let wait: number | undefined;
  let changed = false;
  let spec: PodRuntimeSpec | undefined;
  const specOnce = () => {
    spec ??= resolveSpec(d, st, volumes);
    return spec;
  };
  const reread = async (): Promise<RuntimePod | undefined> => {
    const now = changed ? await d.runtime.podStatus(st.uid) : rt;
    if (now) announce(d, st, now);
    return now;
  };
  for (const c of pod.spec?.containers ?? []) {
    const r = rt.containers.find((x) => x.role === "app" && x.name === c.name);
    const kill = st.kills.get(c.name);
    if (kill && r && isRunning(r) && r.containerID === kill.containerID) {
      st.kills.delete(c.name);
      event(d, st, "Normal", "Killing", `Container ${c.name} failed ${kill.kind} probe, will be restarted`);
      if (policy === "Never") {
        d.log.warn(
          { pod: podRef(pod), container: c.name },
          "restartPolicy Never: a failed probe does not restart",
        );
        continue;
      }
      const s = specOnce();
      if (!s) return { wait: d.crash.baseMs, rt: await reread() };
      const started = ms("running" in r.state ? r.state.running.startedAt : undefined);
      d.crash.next(`${st.uid}/app/${c.name}`, d.clock.now(), d.clock.now() - started);
      changed = true;
      await d.runtime.restartContainer(s, c.name);
      continue;
    }
    const t = terminated(r);
    if (!t) continue;
    const restart = policy === "Always" || (policy === "OnFailure" && t.exitCode !== 0);
    if (!restart) continue;
    const gate = backoffGate(d, st, "app", c.name, t.startedAt, t.finishedAt);
    if (gate !== undefined) {
      wait = Math.min(wait ?? gate, gate);
      continue;
    }
    const s = specOnce();
    if (!s) return { wait: d.crash.baseMs, rt: await reread() };
    changed = true;
    try {
      await d.runtime.startContainer(s, c.name);
    } catch (err) {
      if (!(err instanceof ContainerStartError)) throw err;
      st.waiting.set(c.name, { reason: err.reason, message: err.message });
      event(d, st, "Warning", "Failed", `Error: ${err.message}`);
      wait = Math.min(wait ?? d.crash.baseMs, d.crash.baseMs);
    }
  }
  return { wait, rt: await reread() };
}
