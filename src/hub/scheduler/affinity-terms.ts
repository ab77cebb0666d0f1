/**
 * Pod affinity terms, compiled once per pod version: which pods a term selects (label
 * selector, namespaces, namespaceSelector, matchLabelKeys/mismatchLabelKeys) and over which
 * topology (a node label key).
 *
 * Design notes
 * - Upstream's AffinityTerm.Matches: a pod is in scope when its namespace is listed, or the
 *   namespaceSelector selects its namespace's labels; with neither set, the scope is the
 *   namespace of the pod that owns the term. A nil labelSelector selects nothing.
 * - matchLabelKeys / mismatchLabelKeys (beta, on by default in 1.32) are folded into the
 *   selector at compile time as `key in (own value)` / `key notin (own value)`.
 * - An invalid selector compiles to "selects nothing" rather than throwing: the API server
 *   validates pods, and a scheduler must never crash on one bad pod.
 * - Terms are compiled only for pods that have pod (anti-)affinity, so the common pod costs
 *   nothing here (the scheduler benchmark places 10,000 plain pods).
 */
import type { Pod, PodAffinityTerm, WeightedPodAffinityTerm } from "kubernetes-types/core/v1";
import {
  type LabelMatcher,
  labelSelectorMatcher,
  matcherOf,
  newRequirement,
  nothingSelector,
  type Requirement,
} from "../../api/selectors.js";

export interface AffinityTerm {
  topologyKey: string;
  selector: LabelMatcher;
  namespaces: ReadonlySet<string>;
  /** undefined: no namespaceSelector (only `namespaces` count) */
  namespaceSelector: LabelMatcher | undefined;
}

export interface WeightedTerm extends AffinityTerm {
  weight: number;
}

export interface PodAffinityInfo {
  required: AffinityTerm[];
  requiredAnti: AffinityTerm[];
  preferred: WeightedTerm[];
  preferredAnti: WeightedTerm[];
}

/** namespace name → its labels (for namespaceSelector); undefined when unknown */
export type NamespaceLabels = (namespace: string) => Readonly<Record<string, string>> | undefined;

function compileSelector(
  term: PodAffinityTerm & { matchLabelKeys?: string[]; mismatchLabelKeys?: string[] },
  podLabels: Readonly<Record<string, string>>,
): LabelMatcher {
  try {
    const base = labelSelectorMatcher(term.labelSelector);
    if (base.nothing) return base;
    const extra: Requirement[] = [];
    for (const k of term.matchLabelKeys ?? []) {
      const v = podLabels[k];
      if (v !== undefined) extra.push(newRequirement(k, "in", [v]));
    }
    for (const k of term.mismatchLabelKeys ?? []) {
      const v = podLabels[k];
      if (v !== undefined) extra.push(newRequirement(k, "notin", [v]));
    }
    return extra.length === 0 ? base : matcherOf([...base.requirements, ...extra]);
  } catch {
    return nothingSelector();
  }
}

export function compileTerm(
  term: PodAffinityTerm,
  ownerNamespace: string,
  ownerLabels: Readonly<Record<string, string>>,
): AffinityTerm {
  let namespaceSelector: LabelMatcher | undefined;
  if (term.namespaceSelector) {
    try {
      namespaceSelector = labelSelectorMatcher(term.namespaceSelector);
    } catch {
      namespaceSelector = nothingSelector();
    }
  }
  const listed = term.namespaces ?? [];
  const namespaces = new Set(listed.length === 0 && !term.namespaceSelector ? [ownerNamespace] : listed);
  return {
    topologyKey: term.topologyKey,
    selector: compileSelector(term, ownerLabels),
    namespaces,
    namespaceSelector,
  };
}

function weighted(
  t: WeightedPodAffinityTerm,
  ns: string,
  labels: Readonly<Record<string, string>>,
): WeightedTerm {
  return { ...compileTerm(t.podAffinityTerm, ns, labels), weight: t.weight };
}

/** the pod's compiled affinity terms, or undefined when it has no pod (anti-)affinity */
export function compilePodAffinity(pod: Pod): PodAffinityInfo | undefined {
  const a = pod.spec?.affinity;
  if (!a?.podAffinity && !a?.podAntiAffinity) return undefined;
  const ns = pod.metadata?.namespace ?? "";
  const labels = pod.metadata?.labels ?? {};
  const info: PodAffinityInfo = {
    required: (a.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) =>
      compileTerm(t, ns, labels),
    ),
    requiredAnti: (a.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) =>
      compileTerm(t, ns, labels),
    ),
    preferred: (a.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t) =>
      weighted(t, ns, labels),
    ),
    preferredAnti: (a.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t) =>
      weighted(t, ns, labels),
    ),
  };
  const n =
    info.required.length + info.requiredAnti.length + info.preferred.length + info.preferredAnti.length;
  return n === 0 ? undefined : info;
}

export interface PodLike {
  namespace: string;
  labels: Readonly<Record<string, string>>;
}

/** does the term select this pod? */
export function termSelects(term: AffinityTerm, pod: PodLike, nsLabels: NamespaceLabels): boolean {
  const inScope =
    term.namespaces.has(pod.namespace) ||
    term.namespaceSelector?.matches(nsLabels(pod.namespace) ?? {}) === true;
  return inScope && term.selector.matches(pod.labels);
}

/** topology pair key for count maps */
export function pairKey(key: string, value: string): string {
  return `${key}\u0000${value}`;
}
