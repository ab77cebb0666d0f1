/**
 * What one DaemonSet sync should do, as a pure function of the DaemonSet, the nodes, its
 * pods and the current revision hash (upstream's manage + rollingUpdate + updateStatus).
 *
 * Design notes
 * - Pods are mapped to nodes by spec.nodeName or, before binding, by their pinned affinity;
 *   otherwise an unbound pod would look missing and be created twice.
 * - Per node: missing and eligible → create; failed → delete (recreated next sync); more
 *   than one → keep the oldest; not allowed to continue → delete. Pods for nodes that no
 *   longer exist are deleted (the daemon follows node removal).
 * - Rolling update runs only when the node pass changed nothing: old-revision pods that are
 *   not available go first, then available ones while fewer than maxUnavailable nodes are
 *   without an available pod (upstream's surge-free path; maxSurge is not implemented).
 */
import type { KubeObject } from "../../../api/object.js";
import { REVISION_HASH_LABEL } from "../workload-common/controller-history.js";
import {
  isPodAvailable,
  isPodReady,
  isTerminating,
  msUntilAvailable,
  podPhase,
  scaledValue,
} from "../workload-common/pods.js";
import { daemonPodSpec } from "./daemon-pod.js";
import { nodeShouldRunDaemonPod, targetNodeName } from "./node-eligibility.js";

export interface DaemonSetStatus {
  currentNumberScheduled: number;
  numberMisscheduled: number;
  desiredNumberScheduled: number;
  numberReady: number;
  observedGeneration: number;
  updatedNumberScheduled: number;
  numberAvailable: number;
  numberUnavailable: number;
  collisionCount?: number;
}

export interface DeleteAction {
  pod: KubeObject;
  /** FailedDaemonPod warning when a failed pod is removed */
  failed?: boolean;
  node: string;
}

export interface DaemonSetPlan {
  create: string[];
  delete: DeleteAction[];
  status: DaemonSetStatus;
  /** re-check when a ready pod turns available (minReadySeconds) */
  requeueAfterMs?: number;
}

interface DsSpec {
  minReadySeconds?: number;
  updateStrategy?: {
    type?: string;
    rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string };
  };
}

export function planDaemonSet(
  ds: KubeObject,
  nodes: KubeObject[],
  pods: KubeObject[],
  hash: string,
  now: Date,
): DaemonSetPlan {
  const spec = (ds.spec ?? {}) as DsSpec;
  const minReady = spec.minReadySeconds ?? 0;
  const podSpec = daemonPodSpec(ds);
  const byNode = new Map<string, KubeObject[]>();
  const create: string[] = [];
  const del: DeleteAction[] = [];
  for (const p of pods) {
    if (isTerminating(p)) continue;
    const n = targetNodeName(p) ?? "";
    byNode.set(n, [...(byNode.get(n) ?? []), p]);
  }
  const nodeNames = new Set(nodes.map((n) => n.metadata.name ?? ""));
  for (const [n, ps] of byNode) {
    if (!nodeNames.has(n)) for (const p of ps) del.push({ pod: p, node: n });
  }

  const status: DaemonSetStatus = {
    currentNumberScheduled: 0,
    numberMisscheduled: 0,
    desiredNumberScheduled: 0,
    numberReady: 0,
    observedGeneration: ds.metadata.generation ?? 0,
    updatedNumberScheduled: 0,
    numberAvailable: 0,
    numberUnavailable: 0,
  };
  let requeueAfterMs: number | undefined;
  /** the pod kept per eligible node, for the rolling update */
  const kept = new Map<string, KubeObject>();
  for (const node of nodes) {
    const name = node.metadata.name ?? "";
    const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(podSpec, node);
    const onNode = byNode.get(name) ?? [];
    if (shouldRun) status.desiredNumberScheduled++;
    if (onNode.length > 0) {
      if (shouldRun) status.currentNumberScheduled++;
      else status.numberMisscheduled++;
    }
    if (shouldRun || shouldContinueRunning) {
      const running: KubeObject[] = [];
      for (const p of onNode) {
        if (podPhase(p) === "Failed") del.push({ pod: p, failed: true, node: name });
        else running.push(p);
      }
      if (running.length === 0 && shouldRun) create.push(name);
      running.sort((a, b) =>
        String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)),
      );
      const [oldest, ...extra] = running;
      for (const p of extra) del.push({ pod: p, node: name });
      if (!oldest) continue;
      kept.set(name, oldest);
      if (isPodReady(oldest)) status.numberReady++;
      if (isPodAvailable(oldest, minReady, now)) status.numberAvailable++;
      else {
        const ms = msUntilAvailable(oldest, minReady, now);
        if (ms !== undefined) requeueAfterMs = Math.min(requeueAfterMs ?? ms, ms);
      }
      if (oldest.metadata.labels?.[REVISION_HASH_LABEL] === hash) status.updatedNumberScheduled++;
    } else {
      for (const p of onNode) del.push({ pod: p, node: name });
    }
  }
  status.numberUnavailable = Math.max(0, status.desiredNumberScheduled - status.numberAvailable);

  if (create.length === 0 && del.length === 0 && spec.updateStrategy?.type !== "OnDelete") {
    del.push(...rollingUpdate(spec, kept, hash, minReady, now, status.desiredNumberScheduled));
  }
  return {
    create,
    delete: del,
    status,
    ...(requeueAfterMs !== undefined ? { requeueAfterMs: requeueAfterMs + 50 } : {}),
  };
}

function rollingUpdate(
  spec: DsSpec,
  kept: Map<string, KubeObject>,
  hash: string,
  minReady: number,
  now: Date,
  desired: number,
): DeleteAction[] {
  const ru = spec.updateStrategy?.rollingUpdate ?? {};
  let maxUnavailable = scaledValue(ru.maxUnavailable ?? 1, desired, true);
  if (maxUnavailable < 1) maxUnavailable = 1;
  const out: DeleteAction[] = [];
  let unavailable = 0;
  const oldAvailable: [string, KubeObject][] = [];
  for (const [node, pod] of kept) {
    const available = isPodAvailable(pod, minReady, now);
    if (!available) unavailable++;
    if (pod.metadata.labels?.[REVISION_HASH_LABEL] === hash) continue;
    if (!available) out.push({ pod, node });
    else oldAvailable.push([node, pod]);
  }
  // nodes that should have a pod but have none also count as unavailable (upstream)
  unavailable += Math.max(0, desired - kept.size);
  for (const [node, pod] of oldAvailable.sort(([a], [b]) => a.localeCompare(b))) {
    if (unavailable >= maxUnavailable) break;
    out.push({ pod, node });
    unavailable++;
  }
  return out;
}
