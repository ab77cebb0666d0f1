/**
 * Which nodes a DaemonSet's pod belongs on (upstream NodeShouldRunDaemonPod), as pure
 * functions of the pod (with the daemon tolerations already added) and the node.
 *
 * Design notes
 * - Two answers, as upstream: `shouldRun` (create a pod here) and `shouldContinueRunning`
 *   (keep an existing one). An untolerated NoSchedule taint stops new pods but keeps old
 *   ones; an untolerated NoExecute taint (or a selector mismatch) removes them.
 * - Node affinity here is the *required* part only; preferred terms are the scheduler's job.
 * - The default daemon tolerations are upstream's AddOrUpdateDaemonPodTolerations: daemons
 *   survive not-ready/unreachable nodes, pressure conditions and cordons.
 */
import { requirementMatches, type Taint, toleratesTaint } from "../../../api/node-selection.js";
import type { KubeObject } from "../../../api/object.js";

export interface Toleration {
  key?: string;
  operator?: "Exists" | "Equal";
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export interface NodeSelectorRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt";
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

interface PodSpecView {
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  hostNetwork?: boolean;
  tolerations?: Toleration[];
  affinity?: {
    nodeAffinity?: {
      requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] };
    };
  };
}

export function daemonTolerations(hostNetwork: boolean): Toleration[] {
  const t: Toleration[] = [
    { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
    { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
    { key: "node.kubernetes.io/disk-pressure", operator: "Exists", effect: "NoSchedule" },
    { key: "node.kubernetes.io/memory-pressure", operator: "Exists", effect: "NoSchedule" },
    { key: "node.kubernetes.io/pid-pressure", operator: "Exists", effect: "NoSchedule" },
    { key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" },
  ];
  if (hostNetwork) {
    t.push({ key: "node.kubernetes.io/network-unavailable", operator: "Exists", effect: "NoSchedule" });
  }
  return t;
}

/** adds each default toleration unless one with the same key and effect is present */
export function withDaemonTolerations(
  existing: Toleration[] | undefined,
  hostNetwork: boolean,
): Toleration[] {
  const out = [...(existing ?? [])];
  for (const d of daemonTolerations(hostNetwork)) {
    if (!out.some((t) => t.key === d.key && t.effect === d.effect)) out.push(d);
  }
  return out;
}

export function tolerates(t: Toleration, taint: Taint): boolean {
  return toleratesTaint(t, taint);
}

/** upstream NodeSelectorTerms: terms are ORed; an empty term matches nothing */
export function matchesNodeSelectorTerms(terms: NodeSelectorTerm[], node: KubeObject): boolean {
  const labels = node.metadata.labels ?? {};
  const fields: Record<string, string | undefined> = { "metadata.name": node.metadata.name };
  return terms.some((term) => {
    const exprs = term.matchExpressions ?? [];
    const flds = term.matchFields ?? [];
    if (exprs.length === 0 && flds.length === 0) return false;
    return (
      exprs.every((r) => requirementMatches(r, labels[r.key])) &&
      flds.every((r) => requirementMatches(r, fields[r.key]))
    );
  });
}

export function podFitsNode(spec: PodSpecView, node: KubeObject): boolean {
  if (spec.nodeName && spec.nodeName !== node.metadata.name) return false;
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required && !matchesNodeSelectorTerms(required.nodeSelectorTerms ?? [], node)) return false;
  return true;
}

export interface Eligibility {
  shouldRun: boolean;
  shouldContinueRunning: boolean;
}

/** `spec` is the daemon pod's spec (template spec with the daemon tolerations added) */
export function nodeShouldRunDaemonPod(spec: PodSpecView, node: KubeObject): Eligibility {
  if (!podFitsNode(spec, node)) return { shouldRun: false, shouldContinueRunning: false };
  const taints = ((node.spec ?? {}) as { taints?: Taint[] }).taints ?? [];
  const tolerations = spec.tolerations ?? [];
  const untolerated = (effect: string) =>
    taints.some((t) => t.effect === effect && !tolerations.some((tol) => tolerates(tol, t)));
  if (untolerated("NoExecute")) return { shouldRun: false, shouldContinueRunning: false };
  if (untolerated("NoSchedule")) return { shouldRun: false, shouldContinueRunning: true };
  return { shouldRun: true, shouldContinueRunning: true };
}

/** the node a daemon pod is for: spec.nodeName, or the pinned `metadata.name In [x]` field */
export function targetNodeName(pod: KubeObject): string | undefined {
  const spec = (pod.spec ?? {}) as PodSpecView;
  if (spec.nodeName) return spec.nodeName;
  const terms =
    spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const t of terms) {
    for (const f of t.matchFields ?? []) {
      if (f.key === "metadata.name" && f.operator === "In" && f.values?.length === 1) return f.values[0];
    }
  }
  return undefined;
}
