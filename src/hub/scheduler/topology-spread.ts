/**
 * PodTopologySpread with the pod's own `spec.topologySpreadConstraints` (upstream
 * framework/plugins/podtopologyspread): keep the number of matching pods per topology
 * domain within maxSkew of the least-loaded domain.
 *
 * Design notes
 * - Which nodes form the domains follows upstream's node inclusion policies: by default
 *   (nodeAffinityPolicy Honor, nodeTaintsPolicy Ignore) only nodes that match the pod's
 *   nodeSelector/required node affinity count, and a node must carry every constraint's
 *   topology key. The caller passes that node-affinity check in, so this module stays free
 *   of the filter list.
 * - Counted pods: placed, same namespace as the incoming pod, not terminating, selected by
 *   labelSelector (plus matchLabelKeys, beta and on by default in 1.32).
 * - DoNotSchedule → a filter: a node without the key is "node(s) didn't match pod topology
 *   spread constraints (missing required label)" (unresolvable); skew = domain count + (1 if
 *   the pod matches its own selector) − global minimum > maxSkew is "node(s) didn't match pod
 *   topology spread constraints". minDomains: with fewer domains than that the global
 *   minimum is taken as 0, which forces pods into new domains.
 * - ScheduleAnyway → a score: per node Σ count×log(domains+2) + (maxSkew−1), then the
 *   fewest-matches node gets 100 (upstream's normalisation); nodes without the keys get 0.
 *   Pods with explicit constraints do not get the implicit owner spreading (upstream's
 *   system-default constraints apply only to pods that have none).
 */
import type { Pod, Taint, Toleration } from "kubernetes-types/core/v1";
import {
  type LabelMatcher,
  labelSelectorMatcher,
  matcherOf,
  newRequirement,
  nothingSelector,
} from "../../api/selectors.js";
import type { NodeInfo } from "./node-info.js";
import type { PodInfo } from "./pod-info.js";
import type { FilterFailure } from "./predicates.js";

export const REASON_SPREAD = "node(s) didn't match pod topology spread constraints";
export const REASON_SPREAD_LABEL = `${REASON_SPREAD} (missing required label)`;

export interface SpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  hard: boolean;
  selector: LabelMatcher;
  minDomains: number;
  honorNodeAffinity: boolean;
  honorTaints: boolean;
  /** the incoming pod matches its own selector (it adds 1 to the domain it lands in) */
  selfMatch: boolean;
}

export function compileSpreadConstraints(pod: Pod): SpreadConstraint[] {
  const labels = pod.metadata?.labels ?? {};
  return (pod.spec?.topologySpreadConstraints ?? []).map((c) => {
    let selector: LabelMatcher;
    try {
      selector = labelSelectorMatcher(c.labelSelector);
      const extra = (c.matchLabelKeys ?? []).flatMap((k) =>
        labels[k] !== undefined ? [newRequirement(k, "in", [labels[k] ?? ""])] : [],
      );
      if (!selector.nothing && extra.length > 0) selector = matcherOf([...selector.requirements, ...extra]);
    } catch {
      selector = nothingSelector();
    }
    return {
      maxSkew: c.maxSkew,
      topologyKey: c.topologyKey,
      hard: c.whenUnsatisfiable !== "ScheduleAnyway",
      selector,
      minDomains: c.minDomains ?? 1,
      honorNodeAffinity: c.nodeAffinityPolicy !== "Ignore",
      honorTaints: c.nodeTaintsPolicy === "Honor",
      selfMatch: selector.matches(labels),
    };
  });
}

export interface SpreadState {
  constraints: SpreadConstraint[];
  /** per hard constraint: domain value → matching pods */
  counts: Map<string, number>[];
  /** per hard constraint: the global minimum (Infinity when there is no domain) */
  minimum: number[];
}

export interface SpreadEnv {
  /** does the node match the pod's nodeSelector and required node affinity? */
  nodeAffinity: (n: NodeInfo) => boolean;
  tolerates: (tols: readonly Toleration[], t: Taint) => boolean;
}

function included(c: SpreadConstraint, pod: PodInfo, n: NodeInfo, env: SpreadEnv): boolean {
  if (c.honorNodeAffinity && !env.nodeAffinity(n)) return false;
  if (c.honorTaints && n.taints.some((t) => !env.tolerates(pod.tolerations, t))) return false;
  return true;
}

function countOn(c: SpreadConstraint, pod: PodInfo, n: NodeInfo): number {
  let k = 0;
  for (const p of n.pods.values()) {
    if (p.key !== pod.key && !p.terminating && p.namespace === pod.namespace && c.selector.matches(p.labels))
      k++;
  }
  return k;
}

/** undefined when the pod has no DoNotSchedule constraint */
export function spreadPreFilter(
  pod: PodInfo,
  constraints: SpreadConstraint[],
  nodes: readonly NodeInfo[],
  env: SpreadEnv,
): SpreadState | undefined {
  const hard = constraints.filter((c) => c.hard);
  if (hard.length === 0) return undefined;
  const counts = hard.map(() => new Map<string, number>());
  for (const n of nodes) {
    if (!hard.every((c) => n.labels[c.topologyKey] !== undefined)) continue;
    hard.forEach((c, i) => {
      if (!included(c, pod, n, env)) return;
      const v = n.labels[c.topologyKey] ?? "";
      const m = counts[i]!;
      m.set(v, (m.get(v) ?? 0) + countOn(c, pod, n));
    });
  }
  const minimum = hard.map((c, i) => {
    const m = counts[i]!;
    if (m.size === 0) return Number.POSITIVE_INFINITY;
    if (m.size < c.minDomains) return 0;
    return Math.min(...m.values());
  });
  return { constraints: hard, counts, minimum };
}

export function spreadFilter(s: SpreadState, n: NodeInfo): FilterFailure | undefined {
  for (const [i, c] of s.constraints.entries()) {
    const v = n.labels[c.topologyKey];
    if (v === undefined) return { reasons: [REASON_SPREAD_LABEL], unresolvable: true };
    const skew = (s.counts[i]!.get(v) ?? 0) + (c.selfMatch ? 1 : 0) - (s.minimum[i] ?? 0);
    if (skew > c.maxSkew) return { reasons: [REASON_SPREAD], unresolvable: false };
  }
  return undefined;
}

/** 0–100 per feasible node from the ScheduleAnyway constraints; undefined when there are none */
export function spreadScores(
  pod: PodInfo,
  constraints: SpreadConstraint[],
  feasible: readonly NodeInfo[],
  all: readonly NodeInfo[],
  env: SpreadEnv,
): Map<string, number> | undefined {
  const soft = constraints.filter((c) => !c.hard);
  if (soft.length === 0) return undefined;
  const hasKeys = (n: NodeInfo) => soft.every((c) => n.labels[c.topologyKey] !== undefined);
  const scored = feasible.filter(hasKeys);
  // domains seen among the feasible nodes, and how many matching pods each holds cluster-wide
  const domains = soft.map((c) => new Map(scored.map((n) => [n.labels[c.topologyKey] ?? "", 0])));
  for (const n of all) {
    if (!hasKeys(n)) continue;
    soft.forEach((c, i) => {
      const v = n.labels[c.topologyKey] ?? "";
      const m = domains[i]!;
      if (m.has(v) && included(c, pod, n, env)) m.set(v, (m.get(v) ?? 0) + countOn(c, pod, n));
    });
  }
  const weights = domains.map((m) => Math.log(m.size + 2));
  const raw = new Map<string, number>();
  for (const n of scored) {
    let s = 0;
    soft.forEach((c, i) => {
      s += (domains[i]!.get(n.labels[c.topologyKey] ?? "") ?? 0) * weights[i]! + (c.maxSkew - 1);
    });
    raw.set(n.name, Math.round(s));
  }
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  for (const s of raw.values()) {
    min = Math.min(min, s);
    max = Math.max(max, s);
  }
  const out = new Map<string, number>();
  for (const n of feasible) {
    const s = raw.get(n.name);
    if (s === undefined) out.set(n.name, 0);
    else out.set(n.name, max === 0 ? 100 : Math.floor((100 * (max + min - s)) / max));
  }
  return out;
}
