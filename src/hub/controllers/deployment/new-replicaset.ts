/**
 * getAllReplicaSetsAndSyncRevision (upstream sync.go): find the ReplicaSet for the current
 * template — reusing an old one after `kubectl rollout undo`, which moves its revision to the
 * top and records the old number in revision-history — or create `<deploy>-<hash>`, handling
 * a name collision with collisionCount as upstream does.
 */

import { ApiError } from "../../../api/errors.js";
import { cloneJson, type KubeObject } from "../../../api/object.js";
import { isConflict } from "../../../client/client.js";
import { controllerRef } from "../owner-index.js";
import { getCondition, newCondition, Reasons, setCondition } from "./deployment-status.js";
import {
  buildNewReplicaSet,
  findNewReplicaSet,
  maxRevision,
  REVISION,
  setNewReplicaSetAnnotations,
} from "./revisions.js";
import { maxSurge, newRSNewReplicas } from "./rollout-math.js";
import { rsView, type SyncContext } from "./sync-context.js";
import { equalIgnoreHash } from "./template-hash.js";

export class HashCollisionError extends Error {
  constructor(name: string) {
    super(
      `replica set "${name}" exists but does not belong to this deployment's template; collisionCount was bumped and the next sync picks a new name`,
    );
    this.name = "HashCollisionError";
  }
}

function alreadyExists(e: unknown): boolean {
  return e instanceof ApiError ? e.code === 409 && e.reason === "AlreadyExists" : false;
}

function minReady(o: KubeObject): number {
  return (o.spec as { minReadySeconds?: number } | undefined)?.minReadySeconds ?? 0;
}

export async function syncNewReplicaSet(ctx: SyncContext, createIfMissing: boolean): Promise<void> {
  const { d, dv } = ctx;
  const existing = findNewReplicaSet(d, ctx.rsList);
  ctx.newUid = existing?.metadata.uid;
  const newRevision = maxRevision(ctx.oldRSs) + 1;
  const replicaAnn = { desired: dv.replicas, max: dv.replicas + maxSurge(dv) };
  if (existing) {
    const copy = cloneJson(existing);
    const annChanged = setNewReplicaSetAnnotations(d, copy, newRevision, true, replicaAnn);
    const minReadyChanged = minReady(copy) !== minReady(d);
    if (annChanged || minReadyChanged) {
      (copy.spec as { minReadySeconds?: number }).minReadySeconds = minReady(d);
      const updated = await ctx.updateReplicaSet(copy);
      ctx.replace(updated);
    }
    ctx.revision = copy.metadata.annotations?.[REVISION];
    const status = d.status as Parameters<typeof getCondition>[0];
    if (ctx.progressDeadline !== undefined && !getCondition(status, "Progressing")) {
      setCondition(
        status,
        newCondition(
          "Progressing",
          "True",
          Reasons.foundNewRS,
          `Found new replica set "${copy.metadata.name}"`,
          ctx.now(),
        ),
      );
    }
    return;
  }
  if (!createIfMissing) return;
  const status = d.status as { collisionCount?: number; conditions?: [] };
  const rs = buildNewReplicaSet(d, status.collisionCount);
  const replicas = newRSNewReplicas(dv, [...ctx.rsList.map(rsView), rsView(rs)], rsView(rs));
  (rs.spec as { replicas: number }).replicas = replicas;
  setNewReplicaSetAnnotations(d, rs, newRevision, false, replicaAnn);
  let created: KubeObject;
  let found = false;
  try {
    created = await ctx.createReplicaSet(rs);
  } catch (e) {
    // the namespace is terminating: nothing new may be created there, and nothing needs to be
    if (e instanceof ApiError && e.code === 403 && /being terminated/.test(e.message)) return;
    if (!alreadyExists(e) && !isConflict(e)) throw e;
    const other = await ctx.getReplicaSet(rs.metadata.name ?? "");
    const ref = other ? controllerRef(other) : undefined;
    const tpl = (o: KubeObject) => (o.spec as { template?: unknown } | undefined)?.template;
    if (other && ref?.uid === d.metadata.uid && equalIgnoreHash(tpl(other), tpl(d))) {
      created = other;
      found = true;
    } else {
      status.collisionCount = (status.collisionCount ?? 0) + 1;
      throw new HashCollisionError(rs.metadata.name ?? "");
    }
  }
  ctx.replace(created);
  ctx.newUid = created.metadata.uid;
  if (!found && replicas > 0) {
    ctx.record("ScalingReplicaSet", `Scaled up replica set ${created.metadata.name} from 0 to ${replicas}`);
  }
  ctx.revision = String(newRevision);
  if (!found && ctx.progressDeadline !== undefined) {
    setCondition(
      d.status as Parameters<typeof setCondition>[0],
      newCondition(
        "Progressing",
        "True",
        Reasons.newRSCreated,
        `Created new replica set "${created.metadata.name}"`,
        ctx.now(),
      ),
    );
  }
}
