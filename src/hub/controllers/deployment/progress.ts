/**
 * Progress reporting (upstream progress.go and sync.go): the paused/resumed Progressing
 * condition, the rollout's Progressing transitions (ReplicaSetUpdated → NewReplicaSetAvailable,
 * or ProgressDeadlineExceeded when nothing moved for progressDeadlineSeconds), ReplicaFailure
 * copied from the ReplicaSets, and when to look again for a stuck rollout.
 */
import {
  calculateStatus,
  type DeploymentStatus,
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  getCondition,
  msUntilDeadline,
  newCondition,
  Reasons,
  removeCondition,
  setCondition,
} from "./deployment-status.js";
import type { SyncContext } from "./sync-context.js";

/** checkPausedConditions: Progressing=Unknown DeploymentPaused / DeploymentResumed */
export function checkPausedConditions(ctx: SyncContext): void {
  if (ctx.progressDeadline === undefined) return;
  const status = ctx.d.status as DeploymentStatus;
  const cond = getCondition(status, "Progressing");
  if (cond?.reason === Reasons.timedOut) return;
  const pausedCond = cond?.reason === Reasons.paused;
  if (ctx.paused && !pausedCond) {
    setCondition(
      status,
      newCondition("Progressing", "Unknown", Reasons.paused, "Deployment is paused", ctx.now()),
    );
  } else if (!ctx.paused && pausedCond) {
    setCondition(
      status,
      newCondition("Progressing", "Unknown", Reasons.resumed, "Deployment is resumed", ctx.now()),
    );
  }
}

/** syncDeploymentStatus: counts and Available only (paused, scaling, deleting) */
export function plainStatus(ctx: SyncContext): DeploymentStatus {
  return calculateStatus(ctx.d, ctx.dv, ctx.allRSs, ctx.newRS, ctx.now());
}

/** syncRolloutStatus: the status to write and, for a rollout under way, when to check again */
export function rolloutStatus(ctx: SyncContext): { status: DeploymentStatus; requeueAfterMs?: number } {
  const now = ctx.now();
  const s = calculateStatus(ctx.d, ctx.dv, ctx.allRSs, ctx.newRS, now);
  const deadline = ctx.progressDeadline;
  const newRS = ctx.newRS;
  const subject = newRS ? `ReplicaSet "${newRS.metadata.name}"` : `Deployment "${ctx.d.metadata.name}"`;
  if (deadline !== undefined && !ctx.paused) {
    const cur = getCondition(s, "Progressing");
    const complete = (s.replicas ?? 0) === (s.updatedReplicas ?? 0) && cur?.reason === Reasons.newRSAvailable;
    if (!complete) {
      if (deploymentComplete(ctx.d, ctx.dv, s)) {
        setCondition(
          s,
          newCondition(
            "Progressing",
            "True",
            Reasons.newRSAvailable,
            `${subject} has successfully progressed.`,
            now,
          ),
        );
      } else if (deploymentProgressing(ctx.orig, s)) {
        const c = newCondition("Progressing", "True", Reasons.rsUpdated, `${subject} is progressing.`, now);
        if (cur?.status === "True" && cur.lastTransitionTime) c.lastTransitionTime = cur.lastTransitionTime;
        removeCondition(s, "Progressing");
        setCondition(s, c);
      } else if (deploymentTimedOut(deadline, s, now)) {
        setCondition(
          s,
          newCondition(
            "Progressing",
            "False",
            Reasons.timedOut,
            `${subject} has timed out progressing.`,
            now,
          ),
        );
      }
    }
  }
  // ReplicaFailure mirrors the first failing ReplicaSet
  let failure: { status: string; reason?: string; message?: string } | undefined;
  for (const rs of ctx.allRSs) {
    const c = (
      (rs.status ?? {}) as {
        conditions?: { type: string; status: string; reason?: string; message?: string }[];
      }
    ).conditions?.find((x) => x.type === "ReplicaFailure" && x.status === "True");
    if (c) {
      failure = c;
      break;
    }
  }
  if (failure) {
    setCondition(s, newCondition("ReplicaFailure", "True", failure.reason ?? "", failure.message ?? "", now));
  } else if (getCondition(s, "ReplicaFailure")) {
    removeCondition(s, "ReplicaFailure");
  }
  let requeueAfterMs: number | undefined;
  if (deadline !== undefined && !ctx.paused && !deploymentComplete(ctx.d, ctx.dv, s)) {
    const ms = msUntilDeadline(deadline, s, now);
    if (ms !== undefined) requeueAfterMs = ms + 100;
  }
  return { status: s, ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}) };
}
