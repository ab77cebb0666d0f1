/**
 * What one StatefulSet sync does next (upstream's StatefulSetControl.updateStatefulSet),
 * as a pure function of the set, its pods and its two revisions.
 *
 * Design notes
 * - OrderedReady ("monotonic") takes one step and waits: create ordinal N only after 0..N-1
 *   are Running and Ready; scale down deletes the highest ordinal only when every other pod
 *   is healthy; a terminating or unhealthy pod blocks progress. Parallel does every step.
 * - Failed pods are deleted and recreated with the same name (stable identity).
 * - Rolling update walks ordinals from the highest down to `start + partition`: delete the
 *   first pod whose revision is not the update revision, or wait on an unhealthy one.
 * - A new pod below the partition gets the *current* revision's template, at or above it
 *   the update revision's (upstream newVersionedStatefulSetPod); OnDelete uses the update
 *   revision for every new pod.
 */
import type { KubeObject } from "../../../api/object.js";
import {
  isPodAvailable,
  isRunningAndReady,
  isTerminating,
  msUntilAvailable,
  podPhase,
} from "../workload-common/pods.js";
import { ordinalOf, podRevision, stsSpec } from "./stateful-identity.js";

export type StsAction =
  | { type: "create"; ordinal: number; revision: "current" | "update" }
  | { type: "delete"; pod: KubeObject; reason: "failed" | "scale-down" | "update" };

export interface StsStatus {
  observedGeneration: number;
  replicas: number;
  readyReplicas: number;
  currentReplicas: number;
  updatedReplicas: number;
  availableReplicas: number;
  currentRevision: string;
  updateRevision: string;
  collisionCount?: number;
}

export interface StsPlan {
  actions: StsAction[];
  status: StsStatus;
  requeueAfterMs?: number;
}

export function planStatefulSet(
  sts: KubeObject,
  pods: KubeObject[],
  currentRevision: string,
  updateRevision: string,
  now: Date,
): StsPlan {
  const spec = stsSpec(sts);
  const replicas = spec.replicas ?? 1;
  const start = spec.ordinals?.start ?? 0;
  const minReady = spec.minReadySeconds ?? 0;
  const monotonic = (spec.podManagementPolicy ?? "OrderedReady") !== "Parallel";
  const rolling = (spec.updateStrategy?.type ?? "RollingUpdate") === "RollingUpdate";
  const partition = spec.updateStrategy?.rollingUpdate?.partition ?? 0;
  const healthy = (p: KubeObject) =>
    !isTerminating(p) && isRunningAndReady(p) && isPodAvailable(p, minReady, now);

  const byOrdinal = new Map<number, KubeObject>();
  const condemned: KubeObject[] = [];
  for (const p of pods) {
    const o = ordinalOf(sts, p);
    if (o < 0) continue;
    if (o >= start && o < start + replicas) byOrdinal.set(o, p);
    else condemned.push(p);
  }
  condemned.sort((a, b) => ordinalOf(sts, b) - ordinalOf(sts, a));
  const status = computeStatus(
    sts,
    [...byOrdinal.values(), ...condemned],
    currentRevision,
    updateRevision,
    now,
  );
  let requeueAfterMs: number | undefined;
  for (const p of byOrdinal.values()) {
    const ms = msUntilAvailable(p, minReady, now);
    if (ms !== undefined) requeueAfterMs = Math.min(requeueAfterMs ?? ms, ms);
  }
  const plan = (actions: StsAction[]): StsPlan => ({
    actions,
    status,
    ...(requeueAfterMs !== undefined ? { requeueAfterMs: requeueAfterMs + 50 } : {}),
  });

  const actions: StsAction[] = [];
  for (let o = start; o < start + replicas; o++) {
    const pod = byOrdinal.get(o);
    if (!pod) {
      const useCurrent = rolling && o < start + partition;
      actions.push({ type: "create", ordinal: o, revision: useCurrent ? "current" : "update" });
      if (monotonic) return plan(actions);
      continue;
    }
    if (podPhase(pod) === "Failed" && !isTerminating(pod)) {
      actions.push({ type: "delete", pod, reason: "failed" });
      if (monotonic) return plan(actions);
      continue;
    }
    if (monotonic && !healthy(pod)) return plan(actions);
  }
  const all = [...byOrdinal.values(), ...condemned];
  for (const pod of condemned) {
    if (isTerminating(pod)) {
      if (monotonic) return plan(actions);
      continue;
    }
    if (monotonic && all.some((p) => p !== pod && !healthy(p))) return plan(actions);
    actions.push({ type: "delete", pod, reason: "scale-down" });
    if (monotonic) return plan(actions);
  }
  if (!rolling || actions.length > 0) return plan(actions);
  for (let o = start + replicas - 1; o >= start + partition; o--) {
    const pod = byOrdinal.get(o);
    if (!pod) continue;
    if (podRevision(pod) !== updateRevision && !isTerminating(pod)) {
      actions.push({ type: "delete", pod, reason: "update" });
      return plan(actions);
    }
    if (!healthy(pod)) return plan(actions);
  }
  return plan(actions);
}

/** upstream's status counting, then completeRollingUpdate */
export function computeStatus(
  sts: KubeObject,
  pods: KubeObject[],
  currentRevision: string,
  updateRevision: string,
  now: Date,
): StsStatus {
  const spec = stsSpec(sts);
  const minReady = spec.minReadySeconds ?? 0;
  const s: StsStatus = {
    observedGeneration: sts.metadata.generation ?? 0,
    replicas: 0,
    readyReplicas: 0,
    currentReplicas: 0,
    updatedReplicas: 0,
    availableReplicas: 0,
    currentRevision,
    updateRevision,
  };
  for (const p of pods) {
    if (isTerminating(p)) continue;
    s.replicas++;
    if (isRunningAndReady(p)) {
      s.readyReplicas++;
      if (isPodAvailable(p, minReady, now)) s.availableReplicas++;
    }
    if (podRevision(p) === currentRevision) s.currentReplicas++;
    if (podRevision(p) === updateRevision) s.updatedReplicas++;
  }
  const rolling = (spec.updateStrategy?.type ?? "RollingUpdate") === "RollingUpdate";
  if (rolling && s.updatedReplicas === s.replicas && s.readyReplicas === s.replicas) {
    s.currentRevision = updateRevision;
    s.currentReplicas = s.updatedReplicas;
  }
  return s;
}
