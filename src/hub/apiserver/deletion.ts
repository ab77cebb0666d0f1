/**
 * Deletion planning (pure): what a DELETE does to an object — go at once, or stay with a
 * deletionTimestamp until finalizers are removed (finalizers, the GC's foregroundDeletion and
 * orphan finalizers, a Namespace's spec.finalizers) or its kubelet confirms (a bound pod's
 * grace period).
 */
import { ApiError } from "../../api/errors.js";
import type { KubeObject } from "../../api/object.js";
import type { ResourceInfo } from "./resource-info.js";

export interface DeletionInput {
  propagationPolicy?: "Orphan" | "Background" | "Foreground";
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export type DeletionPlan =
  | { kind: "now" }
  /** nothing changes: already deleting with the same finalizers and no shorter grace */
  | { kind: "unchanged" }
  | { kind: "mark"; next: KubeObject };

/** a Namespace stays Terminating until the namespace controller empties spec.finalizers */
export function namespaceFinalizers(info: ResourceInfo, obj: KubeObject): number {
  if (!(info.group === "" && info.kind === "Namespace")) return 0;
  return ((obj.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []).length;
}

/** grace period honoured: pods bound to a node wait for their kubelet; others go at once */
export function gracePeriod(info: ResourceInfo, cur: KubeObject, requested?: number): number {
  if (!(info.group === "" && info.kind === "Pod")) return 0;
  const spec = cur.spec as { nodeName?: string; terminationGracePeriodSeconds?: number } | undefined;
  const status = cur.status as { phase?: string } | undefined;
  if (!spec?.nodeName) return 0;
  if (status?.phase === "Succeeded" || status?.phase === "Failed") return 0;
  return Math.max(0, requested ?? spec.terminationGracePeriodSeconds ?? 30);
}

export function checkPreconditions(
  info: ResourceInfo,
  cur: KubeObject,
  revision: number,
  opts: DeletionInput,
): void {
  const pre = opts.preconditions;
  const name = cur.metadata.name ?? "";
  if (pre?.uid && pre.uid !== cur.metadata.uid) {
    throw ApiError.conflict(
      info.resource,
      name,
      info.group,
      `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cur.metadata.uid}`,
    );
  }
  if (pre?.resourceVersion && pre.resourceVersion !== String(revision)) {
    throw ApiError.conflict(
      info.resource,
      name,
      info.group,
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${revision}`,
    );
  }
}

export function planDeletion(
  info: ResourceInfo,
  cur: KubeObject,
  opts: DeletionInput,
  gcEnabled: boolean,
  deadline: (graceSeconds: number) => string,
): DeletionPlan {
  const finalizers = [...(cur.metadata.finalizers ?? [])];
  if (gcEnabled) {
    if (opts.propagationPolicy === "Foreground" && !finalizers.includes("foregroundDeletion"))
      finalizers.push("foregroundDeletion");
    if (opts.propagationPolicy === "Orphan" && !finalizers.includes("orphan")) finalizers.push("orphan");
  }
  const grace = gracePeriod(info, cur, opts.gracePeriodSeconds);
  if (finalizers.length === 0 && grace === 0 && namespaceFinalizers(info, cur) === 0) return { kind: "now" };
  if (
    cur.metadata.deletionTimestamp &&
    finalizers.length === (cur.metadata.finalizers ?? []).length &&
    grace >= (cur.metadata.deletionGracePeriodSeconds ?? 0)
  ) {
    return { kind: "unchanged" };
  }
  const next: KubeObject = structuredClone(cur);
  next.metadata.finalizers = finalizers;
  next.metadata.deletionTimestamp ??= deadline(grace);
  next.metadata.deletionGracePeriodSeconds = grace;
  if (info.group === "" && info.kind === "Namespace")
    next.status = { ...(next.status as object), phase: "Terminating" };
  return { kind: "mark", next };
}
