/**
 * InterPodAffinity (upstream framework/plugins/interpodaffinity): pod affinity and
 * anti-affinity between the incoming pod and the pods already placed, per topology domain
 * (the value of a node label such as kubernetes.io/hostname or topology.kubernetes.io/zone).
 *
 * Design notes
 * - preFilter counts once per pod, over the whole cache, how many placed pods each of the
 *   incoming pod's terms selects per topology pair, and — for symmetry — where placed pods'
 *   required anti-affinity selects the incoming pod. filter() is then a few map lookups per
 *   node. Nodes without pods carrying affinity are skipped in the symmetry pass, so plain
 *   workloads pay one counter check per node.
 * - Filter order and words are upstream's: required affinity first ("node(s) didn't match pod
 *   affinity rules", unresolvable), then the pod's anti-affinity ("node(s) didn't match pod
 *   anti-affinity rules"), then existing pods' anti-affinity ("node(s) didn't satisfy
 *   existing pods anti-affinity rules"); preemption could resolve the last two.
 * - The first pod of a group with affinity to itself may go anywhere the topology keys
 *   exist, when no placed pod matches any term (upstream's special case), or a StatefulSet
 *   with self-affinity could never start.
 * - Score: preferred terms add (affinity) or subtract (anti-affinity) their weight for every
 *   matching placed pod in the node's domain, both ways round; placed pods' required
 *   affinity that selects the incoming pod adds hardPodAffinityWeight (1). Normalised to
 *   0–100 between the lowest and highest node.
 */
import {
  type AffinityTerm,
  type NamespaceLabels,
  pairKey,
  termSelects,
  type WeightedTerm,
} from "./affinity-terms.js";
import type { NodeInfo } from "./node-info.js";
import type { PodInfo } from "./pod-info.js";
import type { FilterFailure } from "./predicates.js";

export const REASON_POD_AFFINITY = "node(s) didn't match pod affinity rules";
export const REASON_POD_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";

const HARD_POD_AFFINITY_WEIGHT = 1;

export interface InterPodAffinityState {
  required: readonly AffinityTerm[];
  requiredAnti: readonly AffinityTerm[];
  /** topology pair → placed pods matching every required affinity term */
  affinityCounts: Map<string, number>;
  /** topology pair → placed pods matched by the incoming pod's anti-affinity terms */
  antiAffinityCounts: Map<string, number>;
  /** topology pair → placed pods whose required anti-affinity selects the incoming pod */
  existingAntiAffinityCounts: Map<string, number>;
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

/** undefined when there is nothing to check for this pod (upstream's Skip) */
export function interPodAffinityPreFilter(
  pod: PodInfo,
  nodes: readonly NodeInfo[],
  nsLabels: NamespaceLabels,
): InterPodAffinityState | undefined {
  const required = pod.affinity?.required ?? [];
  const requiredAnti = pod.affinity?.requiredAnti ?? [];
  const state: InterPodAffinityState = {
    required,
    requiredAnti,
    affinityCounts: new Map(),
    antiAffinityCounts: new Map(),
    existingAntiAffinityCounts: new Map(),
  };
  let symmetry = false;
  const own = required.length > 0 || requiredAnti.length > 0;
  for (const n of nodes) {
    if (!own && n.affinityPods === 0) continue;
    for (const existing of n.pods.values()) {
      if (existing.key === pod.key) continue;
      for (const t of existing.affinity?.requiredAnti ?? []) {
        const v = n.labels[t.topologyKey];
        if (v !== undefined && termSelects(t, pod, nsLabels)) {
          bump(state.existingAntiAffinityCounts, pairKey(t.topologyKey, v));
          symmetry = true;
        }
      }
      if (!own) continue;
      if (required.length > 0 && required.every((t) => termSelects(t, existing, nsLabels))) {
        for (const t of required) {
          const v = n.labels[t.topologyKey];
          if (v !== undefined) bump(state.affinityCounts, pairKey(t.topologyKey, v));
        }
      }
      for (const t of requiredAnti) {
        const v = n.labels[t.topologyKey];
        if (v !== undefined && termSelects(t, existing, nsLabels))
          bump(state.antiAffinityCounts, pairKey(t.topologyKey, v));
      }
    }
  }
  return own || symmetry ? state : undefined;
}

function satisfiesAffinity(
  s: InterPodAffinityState,
  pod: PodInfo,
  n: NodeInfo,
  nsLabels: NamespaceLabels,
): boolean {
  let podsExist = true;
  for (const t of s.required) {
    const v = n.labels[t.topologyKey];
    if (v === undefined) return false; // every topology key must exist on the node
    if ((s.affinityCounts.get(pairKey(t.topologyKey, v)) ?? 0) <= 0) podsExist = false;
  }
  if (podsExist) return true;
  // the first pod of a self-affine group
  return s.affinityCounts.size === 0 && s.required.every((t) => termSelects(t, pod, nsLabels));
}

export function interPodAffinityFilter(
  s: InterPodAffinityState,
  pod: PodInfo,
  n: NodeInfo,
  nsLabels: NamespaceLabels,
): FilterFailure | undefined {
  if (s.required.length > 0 && !satisfiesAffinity(s, pod, n, nsLabels))
    return { reasons: [REASON_POD_AFFINITY], unresolvable: true };
  for (const t of s.requiredAnti) {
    const v = n.labels[t.topologyKey];
    if (v !== undefined && (s.antiAffinityCounts.get(pairKey(t.topologyKey, v)) ?? 0) > 0)
      return { reasons: [REASON_POD_ANTI_AFFINITY], unresolvable: false };
  }
  if (s.existingAntiAffinityCounts.size > 0) {
    for (const k in n.labels) {
      if ((s.existingAntiAffinityCounts.get(pairKey(k, n.labels[k] ?? "")) ?? 0) > 0)
        return { reasons: [REASON_EXISTING_ANTI_AFFINITY], unresolvable: false };
    }
  }
  return undefined;
}

/**
 * Node scores 0–100 from preferred (anti-)affinity, both ways round; undefined when no
 * term is involved (every node would score the same).
 */
export function interPodAffinityScores(
  pod: PodInfo,
  feasible: readonly NodeInfo[],
  all: readonly NodeInfo[],
  nsLabels: NamespaceLabels,
): Map<string, number> | undefined {
  const preferred = pod.affinity?.preferred ?? [];
  const preferredAnti = pod.affinity?.preferredAnti ?? [];
  const own = preferred.length > 0 || preferredAnti.length > 0;
  const topo = new Map<string, number>();
  const add = (
    terms: readonly (AffinityTerm | WeightedTerm)[],
    target: PodInfo,
    n: NodeInfo,
    sign: number,
    w?: number,
  ) => {
    for (const t of terms) {
      const v = n.labels[t.topologyKey];
      if (v === undefined || !termSelects(t, target, nsLabels)) continue;
      const k = pairKey(t.topologyKey, v);
      topo.set(k, (topo.get(k) ?? 0) + sign * (w ?? (t as WeightedTerm).weight));
    }
  };
  for (const n of all) {
    if (!own && n.affinityPods === 0) continue;
    for (const existing of n.pods.values()) {
      if (existing.key === pod.key) continue;
      if (own) {
        add(preferred, existing, n, 1);
        add(preferredAnti, existing, n, -1);
      }
      const a = existing.affinity;
      if (!a) continue;
      add(a.required, pod, n, 1, HARD_POD_AFFINITY_WEIGHT);
      add(a.preferred, pod, n, 1);
      add(a.preferredAnti, pod, n, -1);
    }
  }
  if (topo.size === 0) return undefined;
  const raw = new Map<string, number>();
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const n of feasible) {
    let s = 0;
    for (const k in n.labels) s += topo.get(pairKey(k, n.labels[k] ?? "")) ?? 0;
    raw.set(n.name, s);
    min = Math.min(min, s);
    max = Math.max(max, s);
  }
  const out = new Map<string, number>();
  for (const [name, s] of raw) out.set(name, max > min ? Math.floor((100 * (s - min)) / (max - min)) : 0);
  return out;
}
