/**
 * Pod facts the ReplicaSet controller decides on (upstream pkg/controller/controller_utils.go
 * and pkg/api/v1/pod): which pods count as active, ready and available, and which pods to
 * delete first when scaling down (ActivePodsWithRanks).
 */
import type { KubeObject } from "../../../api/object.js";

interface PodCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
}

interface PodStatusView {
  phase?: string;
  conditions?: PodCondition[];
  containerStatuses?: { restartCount?: number }[];
}

function statusOf(pod: KubeObject): PodStatusView {
  return (pod.status ?? {}) as PodStatusView;
}

/** not terminating and not finished: what replicas counts (FilterActivePods) */
export function isPodActive(pod: KubeObject): boolean {
  const phase = statusOf(pod).phase;
  return phase !== "Succeeded" && phase !== "Failed" && !pod.metadata.deletionTimestamp;
}

function readyCondition(pod: KubeObject): PodCondition | undefined {
  return statusOf(pod).conditions?.find((c) => c.type === "Ready");
}

export function isPodReady(pod: KubeObject): boolean {
  return readyCondition(pod)?.status === "True";
}

/** ms since epoch when the pod became ready, undefined when not ready */
export function readySince(pod: KubeObject): number | undefined {
  const c = readyCondition(pod);
  if (c?.status !== "True") return undefined;
  const t = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : Number.NaN;
  return Number.isNaN(t) ? 0 : t;
}

/** ready for at least minReadySeconds (IsPodAvailable) */
export function isPodAvailable(pod: KubeObject, minReadySeconds: number, now: Date): boolean {
  const since = readySince(pod);
  if (since === undefined) return false;
  if (minReadySeconds <= 0) return true;
  return since + minReadySeconds * 1000 <= now.getTime();
}

/** ms until a ready pod becomes available, or undefined when not applicable */
export function msUntilAvailable(pod: KubeObject, minReadySeconds: number, now: Date): number | undefined {
  const since = readySince(pod);
  if (since === undefined || minReadySeconds <= 0) return undefined;
  const left = since + minReadySeconds * 1000 - now.getTime();
  return left > 0 ? left : undefined;
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function restarts(pod: KubeObject): number {
  return (statusOf(pod).containerStatuses ?? []).reduce((n, c) => Math.max(n, c.restartCount ?? 0), 0);
}

function created(pod: KubeObject): number {
  const t = pod.metadata.creationTimestamp ? Date.parse(String(pod.metadata.creationTimestamp)) : 0;
  return Number.isNaN(t) ? 0 : t;
}

/**
 * Order in which pods are deleted on scale-down, first = deleted first: unscheduled before
 * scheduled, Pending < Unknown < Running, not ready before ready, ready for less time first,
 * more restarts first, newer first.
 */
export function compareForDeletion(a: KubeObject, b: KubeObject): number {
  const na = (a.spec as { nodeName?: string } | undefined)?.nodeName ? 1 : 0;
  const nb = (b.spec as { nodeName?: string } | undefined)?.nodeName ? 1 : 0;
  if (na !== nb) return na - nb;
  const pa = PHASE_RANK[statusOf(a).phase ?? "Pending"] ?? 0;
  const pb = PHASE_RANK[statusOf(b).phase ?? "Pending"] ?? 0;
  if (pa !== pb) return pa - pb;
  const ra = isPodReady(a) ? 1 : 0;
  const rb = isPodReady(b) ? 1 : 0;
  if (ra !== rb) return ra - rb;
  if (ra === 1) {
    const sa = readySince(a) ?? 0;
    const sb = readySince(b) ?? 0;
    if (sa !== sb) return sb - sa;
  }
  const xa = restarts(a);
  const xb = restarts(b);
  if (xa !== xb) return xb - xa;
  return created(b) - created(a);
}

export function podsToDelete(pods: readonly KubeObject[], count: number): KubeObject[] {
  return [...pods].sort(compareForDeletion).slice(0, Math.max(0, count));
}
