/**
 * Pod and owner helpers shared by the workload controllers: controller references, pod
 * phase/readiness predicates as upstream's podutil defines them, timestamps and the
 * "create from template" step every controller performs.
 */
import type { KubeObject } from "../../../api/object.js";
import { cloneJson, isObject } from "../../../api/object.js";
import { controllerRef, type OwnerReference } from "../owner-index.js";

export type { OwnerReference };

export interface PodCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
}

/**
 * The controller reference upstream puts on everything a workload creates. `fallback` is the
 * owner's type for callers that may hold an object without apiVersion/kind.
 */
export function newControllerRef(
  owner: KubeObject,
  fallback: { apiVersion: string; kind: string } = { apiVersion: "", kind: "" },
): OwnerReference {
  return {
    apiVersion: owner.apiVersion ?? fallback.apiVersion,
    kind: owner.kind ?? fallback.kind,
    name: owner.metadata.name ?? "",
    uid: owner.metadata.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** the ownerReference with controller: true, if any */
export const controllerRefOf: (o: KubeObject) => OwnerReference | undefined = controllerRef;

/** owned by exactly this owner incarnation (uid), not a deleted namesake */
export function isControlledBy(o: KubeObject, owner: KubeObject): boolean {
  const r = controllerRefOf(o);
  return !!r && r.uid === owner.metadata.uid;
}

export function podPhase(pod: KubeObject): string {
  return ((pod.status ?? {}) as { phase?: string }).phase ?? "Pending";
}

export function isTerminating(o: KubeObject): boolean {
  return !!o.metadata.deletionTimestamp;
}

export function isFinished(pod: KubeObject): boolean {
  const p = podPhase(pod);
  return p === "Succeeded" || p === "Failed";
}

/** upstream FilterActivePods: not finished and not being deleted */
export function isActive(pod: KubeObject): boolean {
  return !isFinished(pod) && !isTerminating(pod);
}

export function podCondition(pod: KubeObject, type: string): PodCondition | undefined {
  const conds = ((pod.status ?? {}) as { conditions?: PodCondition[] }).conditions ?? [];
  return conds.find((c) => c.type === type);
}

export function isPodReady(pod: KubeObject): boolean {
  return podCondition(pod, "Ready")?.status === "True";
}

export function isRunningAndReady(pod: KubeObject): boolean {
  return podPhase(pod) === "Running" && isPodReady(pod);
}

/** ready for at least minReadySeconds (upstream IsPodAvailable) */
export function isPodAvailable(pod: KubeObject, minReadySeconds: number, now: Date): boolean {
  const ready = podCondition(pod, "Ready");
  if (ready?.status !== "True") return false;
  if (minReadySeconds <= 0) return true;
  const since = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : Number.NaN;
  return Number.isFinite(since) && since + minReadySeconds * 1000 <= now.getTime();
}

/** ms until a ready pod becomes available, for a requeue; undefined when not pending */
export function msUntilAvailable(pod: KubeObject, minReadySeconds: number, now: Date): number | undefined {
  const ready = podCondition(pod, "Ready");
  if (ready?.status !== "True" || minReadySeconds <= 0 || !ready.lastTransitionTime) return undefined;
  const left = Date.parse(ready.lastTransitionTime) + minReadySeconds * 1000 - now.getTime();
  return left > 0 ? left : undefined;
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

/**
 * A new pod from a workload's template (upstream GetPodFromTemplate): the template's labels,
 * annotations and finalizers, a controller reference, and a copy of the spec.
 */
export function podFromTemplate(
  template: unknown,
  owner: KubeObject,
  name: { name?: string; generateName?: string },
): KubeObject {
  const t = (isObject(template) ? cloneJson(template) : {}) as PodTemplate & {
    metadata?: { finalizers?: string[] };
  };
  const meta = t.metadata ?? {};
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      ...name,
      namespace: owner.metadata.namespace,
      labels: { ...(meta.labels ?? {}) },
      ...(meta.annotations ? { annotations: { ...meta.annotations } } : {}),
      ...(meta.finalizers ? { finalizers: [...meta.finalizers] } : {}),
      ownerReferences: [newControllerRef(owner)],
    },
    spec: t.spec ?? {},
  };
}

/** resolves an int-or-percent (maxUnavailable, maxSurge) against a total, rounding up */
export function scaledValue(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === "number") return v;
  if (typeof v === "string" && v.endsWith("%")) {
    const pct = Number(v.slice(0, -1));
    if (!Number.isFinite(pct)) return 0;
    const x = (pct * total) / 100;
    return roundUp ? Math.ceil(x) : Math.floor(x);
  }
  if (typeof v === "string" && /^\d+$/.test(v)) return Number(v);
  return 0;
}
