/**
 * Which released local-path volumes of this node may be reclaimed now, and how. Pure, so the
 * "never while a pod uses it" rule is unit-tested exhaustively.
 *
 * Design notes
 * - A volume is due when it is ours (provisioned, on this node) and either marked for deletion
 *   (the hub deleted the PV; our finalizer holds it) or Released. Delete removes the directory,
 *   Retain keeps it; both end with a `pv/<name>` report so the hub can drop the finalizer.
 * - In use means: a desired pod on this node names the PV's claim (whatever its phase: a
 *   terminating pod still has the directory mounted), or the runtime still holds a pod the cache
 *   no longer knows (being removed; we cannot see its mounts, so we wait for it to go).
 * - Only a PV with a deletionTimestamp is reported: a merely Released PV with Delete is cleaned
 *   early (the hub's delete follows at once), a Released PV with Retain is left alone.
 */
import type { PersistentVolume, Pod } from "kubernetes-types/core/v1";
import { isProvisioned, volumeNode } from "./volume-path.js";

export type ReclaimAction =
  | { pv: PersistentVolume; action: "delete"; report: boolean }
  | { pv: PersistentVolume; action: "retain"; report: true }
  /** `until`: what ends the wait — a cache change (a desired pod goes) or the runtime letting go */
  | { pv: PersistentVolume; action: "wait"; reason: string; until: "pod" | "runtime" };

export interface ReclaimInput {
  node: string;
  pvs: readonly PersistentVolume[];
  /** desired pods bound to this node */
  pods: readonly Pod[];
  /** uids of pods the container runtime still holds; undefined when unknown */
  runtimePods?: readonly string[];
}

function claimNames(pod: Pod): string[] {
  return (pod.spec?.volumes ?? []).flatMap((v) => {
    if (v.persistentVolumeClaim?.claimName) return [v.persistentVolumeClaim.claimName];
    // generic ephemeral volume: upstream names its PVC <pod>-<volume>
    if (v.ephemeral) return [`${pod.metadata?.name ?? ""}-${v.name}`];
    return [];
  });
}

/** Pods (namespace/name) on this node that use the PV through its claim. */
export function volumeUsers(pv: PersistentVolume, pods: readonly Pod[]): string[] {
  const ref = pv.spec?.claimRef;
  if (!ref?.name) return [];
  return pods
    .filter((p) => p.metadata?.namespace === ref.namespace && claimNames(p).includes(ref.name ?? ""))
    .map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`);
}

/** What to do now with each of this node's released or deleted volumes. */
export function reclaimPlan(input: ReclaimInput): ReclaimAction[] {
  const out: ReclaimAction[] = [];
  const known = new Set(input.pods.map((p) => p.metadata?.uid ?? ""));
  const leaving = (input.runtimePods ?? []).filter((uid) => !known.has(uid));
  for (const pv of input.pvs) {
    if (!isProvisioned(pv) || volumeNode(pv) !== input.node) continue;
    const deleting = !!pv.metadata?.deletionTimestamp;
    const released = pv.status?.phase === "Released" || pv.status?.phase === "Failed";
    if (!deleting && !released) continue;
    const policy = pv.spec?.persistentVolumeReclaimPolicy ?? "Retain";
    if (policy !== "Delete") {
      if (deleting) out.push({ pv, action: "retain", report: true });
      continue;
    }
    const users = volumeUsers(pv, input.pods);
    if (users.length > 0) {
      out.push({ pv, action: "wait", reason: `still used by pod ${users.join(", ")}`, until: "pod" });
    } else if (leaving.length > 0) {
      out.push({
        pv,
        action: "wait",
        reason: `pod ${leaving.join(", ")} is still being removed`,
        until: "runtime",
      });
    } else {
      out.push({ pv, action: "delete", report: deleting });
    }
  }
  return out;
}
