/**
 * PodInfo: what the scheduler needs to know about a pod, computed once per pod version so
 * that per-node checks are plain number and string comparisons (O(nodes) per pod, cheap).
 *
 * Design notes
 * - Requests follow upstream's computePodResourceRequest: the sum over app containers, raised
 *   to the largest init container (init containers run one at a time), plus pod overhead.
 * - `nonZero` requests are what scoring uses (upstream's NonZeroRequested): a container
 *   without requests counts as 100m CPU and 200Mi memory, so best-effort pods still spread
 *   instead of all landing on the first node.
 * - Host ports are kept as "protocol/port" → host IP (0.0.0.0 for "any"), the shape the
 *   conflict check of upstream's NodePorts plugin needs.
 * - Labels and compiled affinity terms are kept so that placed pods can be matched by other
 *   pods' affinity, anti-affinity and topology spread constraints.
 */

import type { Container, Pod, Toleration } from "kubernetes-types/core/v1";
import type { KubeObject } from "../../api/object.js";
import { toBytes, toMilli } from "../../api/quantity.js";
import { compilePodAffinity, type PodAffinityInfo } from "./affinity-terms.js";
import type { StorageNeed } from "./volume-capacity.js";

export interface Resources {
  milliCpu: number;
  memory: number;
  ephemeralStorage: number;
}

export interface HostPort {
  /** "TCP/8080" */
  key: string;
  ip: string;
}

export interface PodInfo {
  key: string;
  namespace: string;
  name: string;
  uid: string;
  requests: Resources;
  nonZero: { milliCpu: number; memory: number };
  hostPorts: HostPort[];
  /** uid of the controller owner (ReplicaSet, StatefulSet, Job …), for spreading */
  ownerUid: string | undefined;
  tolerations: readonly Toleration[];
  /** PVC names the pod mounts */
  claims: string[];
  labels: Readonly<Record<string, string>>;
  /** being deleted: still occupies its node, but topology spreading ignores it */
  terminating: boolean;
  /** compiled pod (anti-)affinity terms; undefined for the common pod without any */
  affinity: PodAffinityInfo | undefined;
  /** unbound claims to be provisioned on the pod's node (set by the scheduler; volume-capacity.ts) */
  storage?: StorageNeed[];
}

export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

function quantity(v: unknown, conv: (q: string) => number): number {
  if (typeof v !== "string" && typeof v !== "number") return 0;
  try {
    return conv(String(v));
  } catch {
    return 0;
  }
}

function containerRequests(c: Container): Resources & { nzCpu: number; nzMem: number } {
  const r = (c.resources?.requests ?? {}) as Record<string, unknown>;
  // upstream: limits stand in for missing requests (the apiserver defaults them that way)
  const l = (c.resources?.limits ?? {}) as Record<string, unknown>;
  const cpu = r.cpu ?? l.cpu;
  const mem = r.memory ?? l.memory;
  const eph = r["ephemeral-storage"] ?? l["ephemeral-storage"];
  const milliCpu = quantity(cpu, toMilli);
  const memory = quantity(mem, toBytes);
  return {
    milliCpu,
    memory,
    ephemeralStorage: quantity(eph, toBytes),
    nzCpu: cpu === undefined ? DEFAULT_MILLI_CPU_REQUEST : milliCpu,
    nzMem: mem === undefined ? DEFAULT_MEMORY_REQUEST : memory,
  };
}

export function podKeyOf(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ""}/${obj.metadata.name ?? ""}`;
}

export function computePodInfo(obj: KubeObject): PodInfo {
  const pod = obj as unknown as Pod;
  const spec = pod.spec ?? { containers: [] };
  const sum = { milliCpu: 0, memory: 0, ephemeralStorage: 0 };
  const nonZero = { milliCpu: 0, memory: 0 };
  const hostPorts: HostPort[] = [];
  for (const c of spec.containers ?? []) {
    const r = containerRequests(c);
    sum.milliCpu += r.milliCpu;
    sum.memory += r.memory;
    sum.ephemeralStorage += r.ephemeralStorage;
    nonZero.milliCpu += r.nzCpu;
    nonZero.memory += r.nzMem;
    for (const p of c.ports ?? []) {
      if (p.hostPort && p.hostPort > 0) {
        hostPorts.push({ key: `${p.protocol ?? "TCP"}/${p.hostPort}`, ip: p.hostIP || "0.0.0.0" });
      }
    }
  }
  for (const c of spec.initContainers ?? []) {
    const r = containerRequests(c);
    sum.milliCpu = Math.max(sum.milliCpu, r.milliCpu);
    sum.memory = Math.max(sum.memory, r.memory);
    sum.ephemeralStorage = Math.max(sum.ephemeralStorage, r.ephemeralStorage);
    nonZero.milliCpu = Math.max(nonZero.milliCpu, r.nzCpu);
    nonZero.memory = Math.max(nonZero.memory, r.nzMem);
  }
  const overhead = (spec.overhead ?? {}) as Record<string, unknown>;
  sum.milliCpu += quantity(overhead.cpu, toMilli);
  sum.memory += quantity(overhead.memory, toBytes);
  sum.ephemeralStorage += quantity(overhead["ephemeral-storage"], toBytes);
  const owner = (obj.metadata.ownerReferences ?? []).find((o) => o.controller);
  const claims: string[] = [];
  for (const v of spec.volumes ?? []) {
    if (v.persistentVolumeClaim?.claimName) claims.push(v.persistentVolumeClaim.claimName);
  }
  return {
    key: podKeyOf(obj),
    namespace: obj.metadata.namespace ?? "",
    name: obj.metadata.name ?? "",
    uid: obj.metadata.uid ?? "",
    requests: sum,
    nonZero,
    hostPorts,
    ownerUid: owner?.uid,
    tolerations: spec.tolerations ?? [],
    claims,
    labels: obj.metadata.labels ?? {},
    terminating: !!obj.metadata.deletionTimestamp,
    affinity: compilePodAffinity(pod),
  };
}

/** pods the scheduler accounts on their node: bound and not finished */
export function occupiesNode(obj: KubeObject): string | undefined {
  const pod = obj as unknown as Pod;
  const node = pod.spec?.nodeName;
  if (!node) return undefined;
  const phase = pod.status?.phase;
  if (phase === "Succeeded" || phase === "Failed") return undefined;
  return node;
}
