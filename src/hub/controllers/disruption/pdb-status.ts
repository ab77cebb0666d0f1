/**
 * PodDisruptionBudget arithmetic (upstream pkg/controller/disruption): how many of the
 * selected pods must stay healthy, how many are, and how many may be disrupted now.
 *
 * Design notes
 * - expectedPods: the number of selected pods for an integer minAvailable; otherwise (a
 *   percentage, or maxUnavailable) the summed scale of the pods' controllers — a budget
 *   about a Deployment of 5 counts 5 even while a pod is missing. A selected pod without a
 *   controller makes that impossible, so the budget fails safe (no disruptions allowed).
 * - Percentages round up (upstream GetScaledValueFromIntOrPercent(…, true)).
 * - currentHealthy: selected pods that are Ready, not being deleted and not listed in
 *   status.disruptedPods (evicted, deletion not yet observed; entries expire after 2 min).
 */
import type { Pod as CorePod } from "kubernetes-types/core/v1";
import type { PodDisruptionBudget } from "kubernetes-types/policy/v1";

export const DISRUPTED_POD_TIMEOUT_MS = 2 * 60 * 1000;

export interface PdbCounts {
  expectedPods: number;
  desiredHealthy: number;
  currentHealthy: number;
  disruptionsAllowed: number;
}

export type ScaleLookup = (pod: CorePod) => { uid: string; replicas: number } | undefined;

export class NoControllersError extends Error {
  constructor(pod: string) {
    super(`found no controllers for pod "${pod}"`);
    this.name = "NoControllersError";
  }
}

/** an IntOrString against a total: "50%" of 5 → 3 (rounded up), 2 → 2 */
export function scaledValue(v: number | string, total: number): number {
  if (typeof v === "number") return v;
  const m = /^(\d+)%$/.exec(v);
  if (m) return Math.ceil((Number(m[1]) * total) / 100);
  const n = Number.parseInt(v, 10);
  if (Number.isNaN(n)) throw new Error(`invalid value for IntOrString: invalid value "${v}"`);
  return n;
}

export function isPodReady(pod: CorePod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;
}

function expectedScale(pods: readonly CorePod[], scaleOf: ScaleLookup): number {
  const seen = new Map<string, number>();
  for (const p of pods) {
    const s = scaleOf(p);
    if (!s) throw new NoControllersError(p.metadata?.name ?? "");
    seen.set(s.uid, s.replicas);
  }
  let sum = 0;
  for (const r of seen.values()) sum += r;
  return sum;
}

export function computeCounts(
  pdb: PodDisruptionBudget,
  pods: readonly CorePod[],
  scaleOf: ScaleLookup,
  now: Date,
): PdbCounts {
  const spec = pdb.spec ?? {};
  let expectedPods: number;
  let desiredHealthy: number;
  if (spec.maxUnavailable !== undefined) {
    expectedPods = expectedScale(pods, scaleOf);
    desiredHealthy = Math.max(0, expectedPods - scaledValue(spec.maxUnavailable, expectedPods));
  } else if (typeof spec.minAvailable === "number") {
    expectedPods = pods.length;
    desiredHealthy = spec.minAvailable;
  } else if (typeof spec.minAvailable === "string") {
    expectedPods = expectedScale(pods, scaleOf);
    desiredHealthy = scaledValue(spec.minAvailable, expectedPods);
  } else {
    // neither set: upstream defaults minAvailable to 1
    expectedPods = pods.length;
    desiredHealthy = 1;
  }
  const disrupted = activeDisruptions(pdb, pods, now);
  let currentHealthy = 0;
  for (const p of pods) {
    if (p.metadata?.deletionTimestamp) continue;
    if (disrupted[p.metadata?.name ?? ""]) continue;
    if (isPodReady(p)) currentHealthy++;
  }
  return {
    expectedPods,
    desiredHealthy,
    currentHealthy,
    disruptionsAllowed: Math.max(0, currentHealthy - desiredHealthy),
  };
}

/** disruptedPods entries still pending: pod present, not yet deleting, not expired */
export function activeDisruptions(
  pdb: PodDisruptionBudget,
  pods: readonly CorePod[],
  now: Date,
): Record<string, string> {
  const out: Record<string, string> = {};
  const byName = new Map(pods.map((p) => [p.metadata?.name ?? "", p]));
  for (const [name, at] of Object.entries(pdb.status?.disruptedPods ?? {})) {
    const p = byName.get(name);
    if (!p || p.metadata?.deletionTimestamp) continue;
    if (now.getTime() - Date.parse(at) > DISRUPTED_POD_TIMEOUT_MS) continue;
    out[name] = at;
  }
  return out;
}
