/**
 * Filters: may this pod run on this node? Each check is upstream's filter plugin of the same
 * name, run in upstream's order, and the first that fails explains the node in upstream's
 * words (those strings end up in the FailedScheduling event, counted per reason).
 *
 * Design notes
 * - `unresolvable` marks upstream's UnschedulableAndUnresolvable: preemption could not help
 *   (taints, affinity, cordon, volume topology), which changes the preemption half of the
 *   FailedScheduling message.
 * - Node affinity and the PV affinity share one NodeSelector evaluator: terms are ORed, the
 *   requirements of a term ANDed, an empty term matches nothing; matchFields only knows
 *   metadata.name (as upstream).
 * - PodTopologySpread and InterPodAffinity look at other pods, so they need a per-pod
 *   pre-filter pass over the cache (prepareRelations) before the per-node checks; they run
 *   last, as in upstream's default plugin order.
 */

import type { NodeSelector, NodeSelectorTerm, Pod, Taint, Toleration } from "kubernetes-types/core/v1";
import { requirementMatches, toleratesTaint } from "../../api/node-selection.js";
import type { NamespaceLabels } from "./affinity-terms.js";
import {
  type InterPodAffinityState,
  interPodAffinityFilter,
  interPodAffinityPreFilter,
} from "./inter-pod-affinity.js";
import type { NodeInfo } from "./node-info.js";
import { TAINT_UNSCHEDULABLE } from "./node-info.js";
import type { PodInfo } from "./pod-info.js";
import {
  compileSpreadConstraints,
  type SpreadConstraint,
  type SpreadEnv,
  type SpreadState,
  spreadFilter,
  spreadPreFilter,
} from "./topology-spread.js";
import { REASON_NOT_ENOUGH_SPACE, type StorageNeed, storageFits } from "./volume-capacity.js";

export interface FilterFailure {
  reasons: string[];
  unresolvable: boolean;
}

export const REASON_UNSCHEDULABLE = "node(s) were unschedulable";
export const REASON_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
export const REASON_PORTS = "node(s) didn't have free ports for the requested pod ports";
export const REASON_VOLUME_AFFINITY = "node(s) had volume node affinity conflict";
export const REASON_TOO_MANY_PODS = "Too many pods";

export function tolerates(tols: readonly Toleration[], taint: Taint): boolean {
  return tols.some((t) => toleratesTaint(t, taint));
}

function termMatches(term: NodeSelectorTerm, n: NodeInfo): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  for (const r of exprs) if (!requirementMatches(r, n.labels[r.key])) return false;
  for (const r of fields) {
    const v = r.key === "metadata.name" ? n.name : undefined;
    if (!requirementMatches(r, v)) return false;
  }
  return true;
}

export function nodeSelectorMatches(sel: NodeSelector, n: NodeInfo): boolean {
  return sel.nodeSelectorTerms.some((t) => termMatches(t, n));
}

/** pre-computed per pod: the spec parts the filters read */
export interface PodConstraints {
  info: PodInfo;
  nodeSelector: Readonly<Record<string, string>>;
  required: NodeSelector | undefined;
  /** node affinity of the bound PVs the pod mounts */
  volumeAffinity: NodeSelector[];
  /** the pod's own topologySpreadConstraints, compiled */
  spreadConstraints: SpreadConstraint[];
  /** namespace labels, for affinity terms with a namespaceSelector */
  nsLabels: NamespaceLabels;
  /** pre-filter states over the placed pods (prepareRelations); undefined: nothing to check */
  interPod?: InterPodAffinityState;
  spread?: SpreadState;
  /** unbound claims to be provisioned on the chosen node (volume-capacity.ts) */
  storage: StorageNeed[];
}

export function podConstraints(
  pod: Pod,
  info: PodInfo,
  volumeAffinity: NodeSelector[] = [],
  nsLabels: NamespaceLabels = () => undefined,
  storage: StorageNeed[] = [],
): PodConstraints {
  return {
    info,
    nodeSelector: pod.spec?.nodeSelector ?? {},
    required: pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution,
    volumeAffinity,
    spreadConstraints: compileSpreadConstraints(pod),
    nsLabels,
    storage,
  };
}

/** nodeSelector and required node affinity */
export function matchesNodeAffinity(c: PodConstraints, n: NodeInfo): boolean {
  for (const k in c.nodeSelector) if (n.labels[k] !== c.nodeSelector[k]) return false;
  return !c.required || nodeSelectorMatches(c.required, n);
}

export function spreadEnv(c: PodConstraints): SpreadEnv {
  return { nodeAffinity: (n) => matchesNodeAffinity(c, n), tolerates };
}

/** the pre-filter pass of the plugins that count other pods (call before filterNode) */
export function prepareRelations(c: PodConstraints, nodes: readonly NodeInfo[]): PodConstraints {
  const interPod = interPodAffinityPreFilter(c.info, nodes, c.nsLabels);
  const spread =
    c.spreadConstraints.length > 0
      ? spreadPreFilter(c.info, c.spreadConstraints, nodes, spreadEnv(c))
      : undefined;
  return { ...c, ...(interPod ? { interPod } : {}), ...(spread ? { spread } : {}) };
}

function fitsResources(c: PodConstraints, n: NodeInfo): string[] {
  const out: string[] = [];
  if (n.podCount + 1 > n.allocatable.pods) out.push(REASON_TOO_MANY_PODS);
  const r = c.info.requests;
  if (r.milliCpu > 0 && r.milliCpu > n.allocatable.milliCpu - n.requested.milliCpu)
    out.push("Insufficient cpu");
  if (r.memory > 0 && r.memory > n.allocatable.memory - n.requested.memory) out.push("Insufficient memory");
  if (
    r.ephemeralStorage > 0 &&
    r.ephemeralStorage > n.allocatable.ephemeralStorage - n.requested.ephemeralStorage
  )
    out.push("Insufficient ephemeral-storage");
  return out;
}

function portsConflict(c: PodConstraints, n: NodeInfo): boolean {
  for (const hp of c.info.hostPorts) {
    const used = n.usedPorts.get(hp.key);
    if (!used) continue;
    if (hp.ip === "0.0.0.0" || used.includes("0.0.0.0") || used.includes(hp.ip)) return true;
  }
  return false;
}

/** undefined when the pod fits the node */
export function filterNode(c: PodConstraints, n: NodeInfo): FilterFailure | undefined {
  const tols = c.info.tolerations;
  // NodeUnschedulable
  if (n.unschedulable && !tolerates(tols, { key: TAINT_UNSCHEDULABLE, effect: "NoSchedule" })) {
    return { reasons: [REASON_UNSCHEDULABLE], unresolvable: true };
  }
  // TaintToleration
  for (const t of n.taints) {
    if (!tolerates(tols, t)) {
      return {
        reasons: [`node(s) had untolerated taint {${t.key}: ${t.value ?? ""}}`],
        unresolvable: true,
      };
    }
  }
  // NodeAffinity (nodeSelector and required node affinity)
  if (!matchesNodeAffinity(c, n)) return { reasons: [REASON_AFFINITY], unresolvable: true };
  // NodePorts
  if (c.info.hostPorts.length > 0 && portsConflict(c, n))
    return { reasons: [REASON_PORTS], unresolvable: false };
  // NodeResourcesFit
  const res = fitsResources(c, n);
  if (res.length > 0) return { reasons: res, unresolvable: false };
  // VolumeBinding: bound PVs must be reachable from the node
  for (const sel of c.volumeAffinity) {
    if (!nodeSelectorMatches(sel, n)) return { reasons: [REASON_VOLUME_AFFINITY], unresolvable: true };
  }
  // VolumeBinding: claims to be provisioned must fit the node's free storage (upstream returns
  // UnschedulableAndUnresolvable for every VolumeBinding reason)
  if (!storageFits(c.storage, n)) return { reasons: [REASON_NOT_ENOUGH_SPACE], unresolvable: true };
  // PodTopologySpread, then InterPodAffinity
  if (c.spread) {
    const f = spreadFilter(c.spread, n);
    if (f) return f;
  }
  if (c.interPod) return interPodAffinityFilter(c.interPod, c.info, n, c.nsLabels);
  return undefined;
}
