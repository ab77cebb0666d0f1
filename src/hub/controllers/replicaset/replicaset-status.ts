/**
 * ReplicaSet status as upstream's calculateStatus computes it: counts over the active pods the
 * ReplicaSet owns, observedGeneration, and the ReplicaFailure condition when creating or
 * deleting pods failed. Zero counts are omitted like Go's omitempty (except replicas).
 */
import { isDeepStrictEqual } from "node:util";
import type { KubeObject } from "../../../api/object.js";
import { metaTime } from "../../../api/time.js";
import { isPodAvailable, isPodReady } from "./pod-state.js";

export interface RsCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface ReplicaSetStatus {
  replicas: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: RsCondition[];
}

export interface ManageFailure {
  reason: "FailedCreate" | "FailedDelete";
  message: string;
}

function templateLabels(rs: KubeObject): Record<string, string> {
  const t = (rs.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)
    ?.template;
  return t?.metadata?.labels ?? {};
}

export function computeReplicaSetStatus(
  rs: KubeObject,
  activePods: readonly KubeObject[],
  now: Date,
  failure: ManageFailure | undefined,
): ReplicaSetStatus {
  const spec = (rs.spec ?? {}) as { minReadySeconds?: number };
  const tl = Object.entries(templateLabels(rs));
  let fully = 0;
  let ready = 0;
  let available = 0;
  for (const p of activePods) {
    const labels = p.metadata.labels ?? {};
    if (tl.every(([k, v]) => labels[k] === v)) fully++;
    if (isPodReady(p)) ready++;
    if (isPodAvailable(p, spec.minReadySeconds ?? 0, now)) available++;
  }
  const prev = (rs.status ?? {}) as ReplicaSetStatus;
  const status: ReplicaSetStatus = { replicas: activePods.length };
  if (fully) status.fullyLabeledReplicas = fully;
  if (ready) status.readyReplicas = ready;
  if (available) status.availableReplicas = available;
  if (rs.metadata.generation !== undefined) status.observedGeneration = rs.metadata.generation;
  const others = (prev.conditions ?? []).filter((c) => c.type !== "ReplicaFailure");
  const old = (prev.conditions ?? []).find((c) => c.type === "ReplicaFailure");
  const conditions = [...others];
  if (failure) {
    conditions.push(
      old && old.reason === failure.reason && old.message === failure.message
        ? old
        : {
            type: "ReplicaFailure",
            status: "True",
            lastTransitionTime: old?.lastTransitionTime ?? metaTime(now),
            reason: failure.reason,
            message: failure.message,
          },
    );
  }
  if (conditions.length > 0) status.conditions = conditions;
  return status;
}

export function statusDiffers(rs: KubeObject, next: ReplicaSetStatus): boolean {
  return !isDeepStrictEqual(rs.status ?? {}, next);
}
