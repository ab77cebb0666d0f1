/**
 * Starting a pod (or resuming a start): images → sandbox → network → env → runPod.
 *
 * Design notes
 * - Each failure leaves the pod waiting with upstream's reason and a requeue time; nothing
 *   throws out except unexpected runtime errors, which the work queue retries with its back-off.
 * - The network is wired between the sandbox and the app containers because the env needs the
 *   pod IP (status.podIP in fieldRefs); the spec is resolved again once the IP is known.
 * - The runtime pod runPod answers with is handed back to the sync, which reports from it
 *   instead of asking Docker again: one list + inspect less per start.
 * - Images are checked once per distinct image of the pod; the runtime caches the answer across
 *   pods (image-cache.ts), so a batch of pods of one image costs one inspect.
 */
import type { Container } from "kubernetes-types/core/v1";
import { ContainerStartError, ImagePullError, InitContainerError } from "../runtime/errors.js";
import type { RuntimePod } from "../runtime/runtime.js";
import { ensurePulled } from "./image-puller.js";
import type { PodState } from "./pod-state.js";
import { pullAuth } from "./runtime-spec.js";
import { backoffGate, event, podOf, resolveSpec, type SyncDeps, terminated, trace } from "./sync-context.js";
import type { PreparedVolume } from "./volumes/volumes.js";

export interface StartOutcome {
  /** requeue after this many ms (undefined: nothing to wait for) */
  requeue?: number;
  /** the pod as the runtime reported it after the start, when known without asking again */
  rt?: RuntimePod;
}

/** Created/Started events for containers we have not announced yet. */
export function announce(d: SyncDeps, st: PodState, rt: RuntimePod): void {
  for (const c of rt.containers) {
    if (!c.containerID || st.announced.has(c.containerID) || "waiting" in c.state) continue;
    st.announced.add(c.containerID);
    event(d, st, "Normal", "Created", `Created container: ${c.name}`);
    event(d, st, "Normal", "Started", `Started container: ${c.name}`);
  }
}

/** Init containers that failed: CrashLoopBackOff before runPod retries them. */
function initBackoff(d: SyncDeps, st: PodState, rt: RuntimePod | undefined): number | "never" | undefined {
  const pod = podOf(st);
  for (const c of pod.spec?.initContainers ?? []) {
    const r = rt?.containers.find((x) => x.role === "init" && x.name === c.name);
    const t = terminated(r);
    if (!t || t.exitCode === 0) continue;
    if ((pod.spec?.restartPolicy ?? "Always") === "Never") return "never";
    return backoffGate(d, st, "init", c.name, t.startedAt, t.finishedAt);
  }
  return undefined;
}

/** Every distinct image present (or pulled); the shortest retry when one is not. */
async function pullImages(d: SyncDeps, st: PodState): Promise<number | undefined> {
  const pod = podOf(st);
  let wait: number | undefined;
  const seen = new Set<string>();
  const all: Container[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  for (const c of all) {
    if (seen.has(c.image ?? "")) continue;
    seen.add(c.image ?? "");
    const r = await ensurePulled(
      {
        runtime: d.runtime,
        backoff: d.pulls,
        now: () => d.clock.now(),
        podUid: st.uid,
        auth: pullAuth(pod, d.source),
        event: (type, reason, message) => event(d, st, type, reason, message),
        failedAt: st.pullFailedAt,
      },
      c,
    );
    if (!r.ok) {
      for (const x of all) if (x.image === c.image) st.waiting.set(x.name, r.waiting);
      wait = Math.min(wait ?? r.retryMs, r.retryMs);
    }
  }
  return wait;
}

export async function startPod(
  d: SyncDeps,
  st: PodState,
  rt: RuntimePod | undefined,
  volumes: ReadonlyMap<string, PreparedVolume>,
): Promise<StartOutcome> {
  const pod = podOf(st);
  const gate = initBackoff(d, st, rt);
  if (gate === "never") return {};
  if (gate !== undefined) return { requeue: gate };
  const wait = await pullImages(d, st);
  if (wait !== undefined) return { requeue: wait };
  trace(d, st.uid, "images");
  let spec = resolveSpec(d, st, volumes);
  if (!spec) return { requeue: d.crash.baseMs };
  const sandbox = await d.runtime.runSandbox(spec);
  trace(d, st.uid, "sandbox");
  if (!pod.spec?.hostNetwork && sandbox.netnsPath && st.netSandboxId !== sandbox.id) {
    st.podIP = (await d.network.setup(st.obj, sandbox.netnsPath)).podIP;
    st.netSandboxId = sandbox.id;
    trace(d, st.uid, "network");
    spec = resolveSpec(d, st, volumes);
    if (!spec) return { requeue: d.crash.baseMs };
  }
  try {
    const after = await d.runtime.runPod(spec, st.abort.signal);
    trace(d, st.uid, "started");
    announce(d, st, after);
    return { rt: after };
  } catch (err) {
    const now = await d.runtime.podStatus(st.uid);
    if (now) announce(d, st, now);
    if (st.abort.signal.aborted) return { rt: now };
    if (err instanceof InitContainerError) return { requeue: 1, rt: now };
    if (err instanceof ContainerStartError) {
      st.waiting.set(err.container, { reason: err.reason, message: err.message });
      event(d, st, "Warning", "Failed", `Error: ${err.message}`);
      return { requeue: d.crash.baseMs, rt: now };
    }
    if (err instanceof ImagePullError) {
      event(d, st, "Warning", "Failed", err.message);
      return { requeue: d.pulls.baseMs, rt: now };
    }
    throw err;
  }
}
