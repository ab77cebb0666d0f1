/**
 * Per-kind write strategy (upstream's rest.RESTCreateStrategy / RESTUpdateStrategy): what a
 * create resets, what an update of the main resource or of its status subresource may change,
 * and when metadata.generation moves.
 *
 * Design notes
 * - For kinds with a status subresource, writes to the main resource keep the stored status
 *   and writes to /status keep everything but status (and labels/annotations upstream lets
 *   status writers touch). This is what lets controllers and users write concurrently.
 * - generation starts at 1 and is bumped when anything outside metadata and status changes.
 */
import { isDeepStrictEqual } from "node:util";
import type { KubeObject } from "../../api/object.js";
import type { ResourceInfo } from "./resource-info.js";

export type Subresource = "" | "status";

function specOf(o: KubeObject): Record<string, unknown> {
  const { apiVersion: _a, kind: _k, metadata: _m, status: _s, ...rest } = o;
  return rest;
}

/** kinds whose generation upstream tracks (everything with a spec/status split but pods) */
function tracksGeneration(info: ResourceInfo): boolean {
  return (
    info.hasStatus &&
    !(info.group === "" && (info.kind === "Pod" || info.kind === "Namespace" || info.kind === "Node"))
  );
}

export function prepareForCreate(info: ResourceInfo, obj: KubeObject): void {
  if (tracksGeneration(info) || info.group === "apiextensions.k8s.io") obj.metadata.generation = 1;
  const core = info.group === "";
  if (core && info.kind === "Namespace") {
    obj.status = { phase: "Active" };
  } else if (core && info.kind === "Pod") {
    obj.status = { phase: "Pending", qosClass: qosClass(obj) };
  } else if (info.hasStatus && !(core && (info.kind === "Node" || info.kind === "PersistentVolume"))) {
    // upstream strategies drop client-supplied status on create for controller-owned kinds
    delete obj.status;
  }
  if (core && info.kind === "PersistentVolume") obj.status = { phase: "Pending" };
  if (core && info.kind === "PersistentVolumeClaim") obj.status = { phase: "Pending" };
}

/**
 * Merge an incoming write with the stored object according to the subresource written.
 * Returns the object to store.
 */
export function prepareForUpdate(
  info: ResourceInfo,
  incoming: KubeObject,
  old: KubeObject,
  sub: Subresource,
): KubeObject {
  let next: KubeObject;
  if (sub === "status") {
    // only status (and, as upstream allows, labels/annotations are kept from old) changes
    next = { ...old, status: incoming.status };
    next.metadata = { ...old.metadata };
    if (incoming.status === undefined) delete next.status;
  } else if (info.hasStatus && "status" in old) {
    next = { ...incoming, status: old.status };
  } else if (info.hasStatus) {
    next = { ...incoming };
    delete next.status;
  } else {
    next = incoming;
  }
  // system-owned metadata never comes from the client
  next.metadata = {
    ...next.metadata,
    uid: old.metadata.uid,
    creationTimestamp: old.metadata.creationTimestamp,
    generation: old.metadata.generation,
  };
  // as upstream's field manager: an update without managedFields keeps the live ones (the
  // hub's controllers write from informer caches, which drop them)
  if (next.metadata.managedFields === undefined && old.metadata.managedFields !== undefined) {
    next.metadata.managedFields = old.metadata.managedFields;
  }
  if (old.metadata.deletionTimestamp) {
    next.metadata.deletionTimestamp = old.metadata.deletionTimestamp;
    if (old.metadata.deletionGracePeriodSeconds !== undefined) {
      next.metadata.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
    }
  } else {
    delete next.metadata.deletionTimestamp;
    delete next.metadata.deletionGracePeriodSeconds;
  }
  if (next.metadata.generation === undefined) delete next.metadata.generation;
  if (sub === "" && next.metadata.generation !== undefined && !isDeepStrictEqual(specOf(next), specOf(old))) {
    next.metadata.generation = (old.metadata.generation ?? 0) + 1;
  }
  return next;
}

/** Pod QoS class from requests/limits, as the kubelet and apiserver compute it. */
export function qosClass(pod: KubeObject): "Guaranteed" | "Burstable" | "BestEffort" {
  const spec = (pod.spec ?? {}) as {
    containers?: { resources?: { requests?: Record<string, string>; limits?: Record<string, string> } }[];
    initContainers?: { resources?: { requests?: Record<string, string>; limits?: Record<string, string> } }[];
  };
  const all = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  let any = false;
  let guaranteed = all.length > 0;
  for (const c of all) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    const names = new Set(
      [...Object.keys(req), ...Object.keys(lim)].filter((n) => n === "cpu" || n === "memory"),
    );
    if (names.size > 0) any = true;
    for (const n of ["cpu", "memory"]) {
      const l = lim[n];
      const r = req[n] ?? l;
      if (l === undefined || r !== l) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}
