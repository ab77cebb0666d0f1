/**
 * The Deployment's strategies (upstream rolling.go, recreate.go, sync.go): one step of a
 * rollout per sync, each step a few ReplicaSet scale writes; the next step runs when the
 * ReplicaSets' status changes re-queue the Deployment.
 *
 * Design notes
 * - RollingUpdate: grow the new ReplicaSet within maxSurge, then shrink old ones — unhealthy
 *   pods first — as far as maxUnavailable allows. Recreate: old ReplicaSets to zero, wait
 *   until none of their pods run, then the new one to full size.
 * - A replica change outside a rollout (`kubectl scale`) is a scaling event: the active
 *   ReplicaSets are resized proportionally (desired-replicas/max-replicas annotations tell
 *   what the last size was).
 * - Old ReplicaSets beyond revisionHistoryLimit are deleted once scaled to zero and only when
 *   the rollout is complete (or paused), so `kubectl rollout undo` keeps its targets.
 */
import type { KubeObject } from "../../../api/object.js";
import { deploymentComplete } from "./deployment-status.js";
import { syncNewReplicaSet } from "./new-replicaset.js";
import { byCreation, DESIRED_REPLICAS, replicaSetsToClean } from "./revisions.js";
import {
  healthyScaleDownBudget,
  maxScaledDown,
  maxSurge,
  newRSNewReplicas,
  proportionalSizes,
} from "./rollout-math.js";
import { rsView, type SyncContext, specReplicas } from "./sync-context.js";

/** pods of a ReplicaSet that still run (not Succeeded/Failed), terminating ones included */
export type PodsRunning = (rs: KubeObject) => boolean;

function available(rs: KubeObject): number {
  return ((rs.status ?? {}) as { availableReplicas?: number }).availableReplicas ?? 0;
}

function active(rss: readonly KubeObject[]): KubeObject[] {
  return rss.filter((r) => specReplicas(r) > 0);
}

/** isScalingEvent: an active ReplicaSet was sized for a different spec.replicas */
export async function isScalingEvent(ctx: SyncContext): Promise<boolean> {
  await syncNewReplicaSet(ctx, false);
  const want = String(ctx.dv.replicas);
  return active(ctx.allRSs).some((rs) => {
    const ann = rs.metadata.annotations?.[DESIRED_REPLICAS];
    return ann !== undefined && ann !== want;
  });
}

/** scale(): resize for a replica change outside a rollout */
export async function scaleDeployment(ctx: SyncContext): Promise<void> {
  const { dv } = ctx;
  const newRS = ctx.newRS;
  const act = active(ctx.allRSs);
  let target: KubeObject | undefined;
  if (act.length === 0) target = newRS ?? [...ctx.oldRSs].sort(byCreation).at(-1);
  else if (act.length === 1) target = act[0];
  if (target || act.length <= 1) {
    if (target && specReplicas(target) !== dv.replicas) await ctx.scale(target, dv.replicas);
    return;
  }
  // saturated: the new ReplicaSet is complete, old ones go to zero
  if (
    newRS &&
    specReplicas(newRS) === dv.replicas &&
    newRS.metadata.annotations?.[DESIRED_REPLICAS] === String(dv.replicas) &&
    available(newRS) === dv.replicas
  ) {
    for (const old of active(ctx.oldRSs)) await ctx.scale(old, 0);
    return;
  }
  if (dv.strategy !== "RollingUpdate") return;
  const allowed = dv.replicas > 0 ? dv.replicas + maxSurge(dv) : 0;
  const growing = allowed > act.reduce((n, r) => n + specReplicas(r), 0);
  // largest first; newer first on ties when growing, older first when shrinking
  const ordered = [...act].sort(
    (a, b) => specReplicas(b) - specReplicas(a) || (growing ? byCreation(b, a) : byCreation(a, b)),
  );
  const sizes = proportionalSizes(dv, ordered.map(rsView));
  for (const rs of ordered) {
    const size = sizes.get(rs.metadata.name ?? "");
    if (size !== undefined) await ctx.scale(rs, size);
  }
}

export async function cleanupOldReplicaSets(ctx: SyncContext): Promise<void> {
  const limit = (ctx.d.spec as { revisionHistoryLimit?: number } | undefined)?.revisionHistoryLimit;
  for (const rs of replicaSetsToClean(ctx.oldRSs, limit)) {
    await ctx.deleteReplicaSet(rs).catch(() => {});
  }
}

export async function rolloutRolling(ctx: SyncContext): Promise<"stepped" | "idle"> {
  await syncNewReplicaSet(ctx, true);
  const newRS = ctx.newRS;
  if (!newRS) return "idle";
  const { dv } = ctx;
  // reconcileNewReplicaSet
  const cur = specReplicas(newRS);
  if (cur > dv.replicas) {
    await ctx.scale(newRS, dv.replicas);
    return "stepped";
  }
  if (cur < dv.replicas) {
    const n = newRSNewReplicas(dv, ctx.allRSs.map(rsView), rsView(newRS));
    if (n !== cur && (await ctx.scale(newRS, n))) return "stepped";
  }
  // reconcileOldReplicaSets
  if (await scaleDownOld(ctx)) return "stepped";
  if (deploymentComplete(ctx.orig, dv, (ctx.orig.status ?? {}) as object)) await cleanupOldReplicaSets(ctx);
  return "idle";
}

async function scaleDownOld(ctx: SyncContext): Promise<boolean> {
  const { dv } = ctx;
  const oldActive = active(ctx.oldRSs).sort(byCreation);
  if (oldActive.length === 0) return false;
  const budget = maxScaledDown(dv, ctx.allRSs.map(rsView), ctx.newRS ? rsView(ctx.newRS) : undefined);
  if (budget <= 0) return false;
  let total = 0;
  // cleanupUnhealthyReplicas: pods that are not available go first, they cost no availability
  for (const rs of oldActive) {
    if (total >= budget) break;
    const fresh = ctx.allRSs.find((r) => r.metadata.uid === rs.metadata.uid) ?? rs;
    const unhealthy = specReplicas(fresh) - available(fresh);
    if (specReplicas(fresh) === 0 || unhealthy <= 0) continue;
    const n = Math.min(budget - total, unhealthy);
    await ctx.scale(fresh, specReplicas(fresh) - n);
    total += n;
  }
  // scaleDownOldReplicaSetsForRollingUpdate: available pods above minAvailable
  const healthyBudget = healthyScaleDownBudget(dv, ctx.allRSs.map(rsView));
  let down = 0;
  for (const rs of active(ctx.oldRSs).sort(byCreation)) {
    if (down >= healthyBudget) break;
    const n = Math.min(specReplicas(rs), healthyBudget - down);
    if (n <= 0) continue;
    await ctx.scale(rs, specReplicas(rs) - n);
    down += n;
  }
  return total + down > 0;
}

export async function rolloutRecreate(
  ctx: SyncContext,
  podsRunning: PodsRunning,
): Promise<"stepped" | "idle"> {
  await syncNewReplicaSet(ctx, false);
  let scaledDown = false;
  for (const rs of active(ctx.oldRSs)) scaledDown = (await ctx.scale(rs, 0)) || scaledDown;
  if (scaledDown) return "stepped";
  const old = ctx.oldRSs;
  const oldReplicas = old.reduce(
    (n, r) => n + (((r.status ?? {}) as { replicas?: number }).replicas ?? 0),
    0,
  );
  if (oldReplicas > 0 || old.some(podsRunning)) return "stepped";
  if (!ctx.newRS) await syncNewReplicaSet(ctx, true);
  const newRS = ctx.newRS;
  if (newRS && specReplicas(newRS) !== ctx.dv.replicas) await ctx.scale(newRS, ctx.dv.replicas);
  if (deploymentComplete(ctx.orig, ctx.dv, (ctx.orig.status ?? {}) as object))
    await cleanupOldReplicaSets(ctx);
  return "idle";
}
