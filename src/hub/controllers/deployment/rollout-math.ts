/**
 * The numbers of a rollout (upstream pkg/controller/deployment/util): maxSurge/maxUnavailable
 * from int-or-percent (surge rounds up, unavailable rounds down, never both zero), how far the
 * new ReplicaSet may grow, and how proportional scaling splits a replica change across
 * ReplicaSets during a rollout. Pure functions over plain views of the objects.
 */

export interface RsView {
  name: string;
  /** spec.replicas */
  replicas: number;
  /** status.availableReplicas */
  available: number;
  /** deployment.kubernetes.io/max-replicas annotation, when present */
  maxReplicasAnnotation?: number;
}

export interface DeploymentView {
  replicas: number;
  strategy: "RollingUpdate" | "Recreate";
  maxSurge?: number | string;
  maxUnavailable?: number | string;
  /** status.replicas, the fallback for a ReplicaSet without a max-replicas annotation */
  statusReplicas: number;
}

export class IntOrPercentError extends Error {
  constructor(value: string) {
    super(
      `invalid value for IntOrString: invalid value "${value}": must be an integer or a percentage like "25%"`,
    );
    this.name = "IntOrPercentError";
  }
}

/** GetScaledValueFromIntOrPercent */
export function scaledValue(v: number | string | undefined, total: number, roundUp: boolean): number {
  if (v === undefined) return 0;
  if (typeof v === "number") return v;
  const m = /^(-?\d+)%$/.exec(v);
  if (!m) {
    if (/^-?\d+$/.test(v)) return Number(v);
    throw new IntOrPercentError(v);
  }
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** ResolveFenceposts: [maxSurge, maxUnavailable]; both zero would deadlock, so 1 unavailable */
export function resolveFenceposts(d: DeploymentView): [number, number] {
  const surge = scaledValue(d.maxSurge, d.replicas, true);
  const unavailable = scaledValue(d.maxUnavailable, d.replicas, false);
  if (surge === 0 && unavailable === 0) return [0, 1];
  return [surge, unavailable];
}

export function maxSurge(d: DeploymentView): number {
  if (d.strategy !== "RollingUpdate") return 0;
  return resolveFenceposts(d)[0];
}

export function maxUnavailable(d: DeploymentView): number {
  if (d.strategy !== "RollingUpdate" || d.replicas === 0) return 0;
  const u = resolveFenceposts(d)[1];
  return Math.min(u, d.replicas);
}

export function sumReplicas(rss: readonly RsView[]): number {
  return rss.reduce((n, r) => n + r.replicas, 0);
}

/** NewRSNewReplicas: the new ReplicaSet's size this step */
export function newRSNewReplicas(d: DeploymentView, all: readonly RsView[], newRS: RsView): number {
  if (d.strategy === "Recreate") return d.replicas;
  if (newRS.replicas === d.replicas) return newRS.replicas;
  const maxTotal = d.replicas + maxSurge(d);
  const current = sumReplicas(all);
  if (current >= maxTotal) return newRS.replicas;
  const up = Math.min(maxTotal - current, d.replicas - newRS.replicas);
  return newRS.replicas + Math.max(0, up);
}

/** getReplicaSetFraction: the share of a deployment scaling a ReplicaSet should take */
function fraction(rs: RsView, d: DeploymentView): number {
  if (d.replicas === 0) return -rs.replicas;
  const deploymentReplicas = d.replicas + maxSurge(d);
  const annotated = rs.maxReplicasAnnotation ?? d.statusReplicas;
  if (!annotated) return 0;
  // Go's math.Round: half away from zero
  const size = (rs.replicas * deploymentReplicas) / annotated;
  return Math.sign(size) * Math.round(Math.abs(size)) - rs.replicas;
}

/**
 * Proportional scaling of the active ReplicaSets (newest first when growing, largest
 * first); returns new sizes by name. Any leftover goes to the first in order.
 */
export function proportionalSizes(d: DeploymentView, active: readonly RsView[]): Map<string, number> {
  const allowed = d.replicas > 0 ? d.replicas + maxSurge(d) : 0;
  const toAdd = allowed - sumReplicas(active);
  const out = new Map<string, number>();
  for (const r of active) out.set(r.name, r.replicas);
  if (toAdd === 0 || active.length === 0) return out;
  let added = 0;
  for (const r of active) {
    if (toAdd === added) break;
    const f = fraction(r, d);
    const left = toAdd - added;
    const p = toAdd > 0 ? Math.min(f, left) : Math.max(f, left);
    out.set(r.name, r.replicas + p);
    added += p;
  }
  const first = active[0];
  if (first && added !== toAdd) out.set(first.name, Math.max(0, (out.get(first.name) ?? 0) + toAdd - added));
  return out;
}

/** how many old pods a rolling step may scale down (reconcileOldReplicaSets' maxScaledDown) */
export function maxScaledDown(d: DeploymentView, all: readonly RsView[], newRS: RsView | undefined): number {
  const minAvailable = d.replicas - maxUnavailable(d);
  const newUnavailable = newRS ? newRS.replicas - newRS.available : 0;
  return sumReplicas(all) - minAvailable - newUnavailable;
}

/** scaleDownOldReplicaSetsForRollingUpdate's budget: available pods above the minimum */
export function healthyScaleDownBudget(d: DeploymentView, all: readonly RsView[]): number {
  const minAvailable = d.replicas - maxUnavailable(d);
  const available = all.reduce((n, r) => n + r.available, 0);
  return Math.max(0, available - minAvailable);
}
