/**
 * Deployment controller (upstream pkg/controller/deployment): drives a Deployment's
 * ReplicaSets — one per pod template version — through RollingUpdate or Recreate rollouts,
 * keeps revision history for `kubectl rollout history/undo`, honours pause/resume, and fills
 * the status and conditions `kubectl rollout status` and `kubectl wait` read.
 *
 * Design notes
 * - Level-triggered: Deployment, ReplicaSet and (for Recreate) pod events enqueue the
 *   Deployment's `namespace/name`; reconcile re-reads the shared informer caches, does one
 *   step of the rollout, writes the revision annotation, then status last when it differs.
 * - ReplicaSets are found through an OwnerIndex by controller uid; orphans matching the
 *   selector are adopted and owned ones that stopped matching are released, like pods.
 * - A stuck rollout is re-checked at its progress deadline (requeueAfterMs), so
 *   ProgressDeadlineExceeded appears without any event arriving.
 */
import { isDeepStrictEqual } from "node:util";
import type { KubeObject } from "../../../api/object.js";
import { labelSelectorMatcher } from "../../../api/selectors.js";
import { refs } from "../../../client/client.js";
import { type Informer, objectKey } from "../../../client/informer.js";
import { type ReconcileResult, WorkQueue } from "../../../lib/workqueue.js";
import type { Controller, ControllerDeps } from "../controller.js";
import { controllerRef, OwnerIndex } from "../owner-index.js";
import { PodControl } from "../replicaset/pod-control.js";
import type { DeploymentStatus } from "./deployment-status.js";
import { HashCollisionError, syncNewReplicaSet } from "./new-replicaset.js";
import { checkPausedConditions, plainStatus, rolloutStatus } from "./progress.js";
import { REVISION } from "./revisions.js";
import {
  cleanupOldReplicaSets,
  isScalingEvent,
  rolloutRecreate,
  rolloutRolling,
  scaleDeployment,
} from "./rollout.js";
import { COMPONENT, SyncContext } from "./sync-context.js";

export interface DeploymentControllerOptions {
  concurrency?: number;
}

function selectorOf(o: KubeObject): unknown {
  return (o.spec as { selector?: unknown } | undefined)?.selector;
}

export class DeploymentController implements Controller {
  readonly name = COMPONENT;
  private readonly queue: WorkQueue;
  private readonly rsIndex = new OwnerIndex();
  private readonly podIndex = new OwnerIndex();
  private readonly control: PodControl;
  private dInformer: Informer | undefined;
  private rsInformer: Informer | undefined;
  private podInformer: Informer | undefined;

  constructor(
    private readonly deps: ControllerDeps,
    opts: DeploymentControllerOptions = {},
  ) {
    this.control = new PodControl(deps.client, deps.events);
    this.queue = new WorkQueue((k) => this.reconcile(k), {
      concurrency: opts.concurrency ?? 4,
      onError: (key, err) =>
        deps.logger.child({ component: COMPONENT }).warn({ key, err }, "deployment sync failed; retrying"),
    });
  }

  async start(_signal: AbortSignal): Promise<void> {
    const inf = this.deps.informers;
    this.dInformer = await inf.acquire(refs.deployments);
    this.rsInformer = await inf.acquire(refs.replicasets);
    this.podInformer = await inf.acquire(refs.pods);
    this.podInformer.addHandlers(
      this.podIndex.handlers({ onDelete: (p) => this.onPodGone(p), onUpdate: (p) => this.onPodGone(p) }),
    );
    this.rsInformer.addHandlers(
      this.rsIndex.handlers({
        onAdd: (rs) => this.enqueueForReplicaSet(rs),
        onUpdate: (rs, old) => {
          const before = this.ownerKey(old);
          if (before && before !== this.ownerKey(rs)) this.queue.add(before);
          this.enqueueForReplicaSet(rs);
        },
        onDelete: (rs) => this.enqueueForReplicaSet(rs),
      }),
    );
    this.dInformer.addHandlers({
      onAdd: (d) => this.queue.add(objectKey(d)),
      onUpdate: (d) => this.queue.add(objectKey(d)),
      onDelete: (d) => this.queue.add(objectKey(d)),
    });
  }

  stop(): void {
    this.queue.stop();
    for (const [i, ref] of [
      [this.dInformer, refs.deployments],
      [this.rsInformer, refs.replicasets],
      [this.podInformer, refs.pods],
    ] as const) {
      if (i) this.deps.informers.release(ref);
    }
    this.dInformer = this.rsInformer = this.podInformer = undefined;
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  private ownerKey(rs: KubeObject): string | undefined {
    const ref = controllerRef(rs);
    if (ref?.kind !== "Deployment") return undefined;
    return `${rs.metadata.namespace}/${ref.name}`;
  }

  private enqueueForReplicaSet(rs: KubeObject): void {
    const owner = this.ownerKey(rs);
    if (owner) {
      this.queue.add(owner);
      return;
    }
    if (controllerRef(rs)) return;
    for (const d of this.dInformer?.list((x) => x.metadata.namespace === rs.metadata.namespace) ?? []) {
      if (this.selects(d, rs)) this.queue.add(objectKey(d));
    }
  }

  /** Recreate waits for old pods to be gone: their deletion re-queues the Deployment */
  private onPodGone(pod: KubeObject): void {
    const ref = controllerRef(pod);
    if (ref?.kind !== "ReplicaSet") return;
    const rs = this.rsInformer?.get(`${pod.metadata.namespace}/${ref.name}`);
    const owner = rs && this.ownerKey(rs);
    if (!owner) return;
    const d = this.dInformer?.get(owner);
    const type = (d?.spec as { strategy?: { type?: string } } | undefined)?.strategy?.type;
    if (type === "Recreate") this.queue.add(owner);
  }

  private selects(d: KubeObject, o: KubeObject): boolean {
    try {
      return labelSelectorMatcher(selectorOf(d)).matches(o.metadata.labels ?? {});
    } catch {
      return false;
    }
  }

  /** getReplicaSetsForDeployment: owned ReplicaSets that match, plus adopted orphans */
  private async claimReplicaSets(d: KubeObject): Promise<KubeObject[]> {
    const out: KubeObject[] = [];
    for (const k of this.rsIndex.owned(d.metadata.uid ?? "")) {
      const rs = this.rsInformer?.get(k);
      if (!rs) continue;
      if (this.selects(d, rs)) out.push(rs);
      else if (!rs.metadata.deletionTimestamp) await this.control.release(d, rs, refs.replicasets);
    }
    if (d.metadata.deletionTimestamp) return out;
    for (const k of this.rsIndex.orphans(d.metadata.namespace ?? "")) {
      const rs = this.rsInformer?.get(k);
      if (!rs || rs.metadata.deletionTimestamp || !this.selects(d, rs)) continue;
      const adopted = await this.control.adopt(d, rs, refs.replicasets);
      if (adopted) out.push(adopted);
    }
    return out;
  }

  private podsRunning = (rs: KubeObject): boolean =>
    this.podIndex.owned(rs.metadata.uid ?? "").some((k) => {
      const phase = ((this.podInformer?.get(k)?.status ?? {}) as { phase?: string }).phase;
      return this.podInformer?.get(k) !== undefined && phase !== "Succeeded" && phase !== "Failed";
    });

  async reconcile(key: string): Promise<ReconcileResult> {
    const d = this.dInformer?.get(key);
    if (!d) return;
    const sel = selectorOf(d) as { matchLabels?: object; matchExpressions?: unknown[] } | undefined;
    if (Object.keys(sel?.matchLabels ?? {}).length === 0 && (sel?.matchExpressions ?? []).length === 0) {
      void this.deps.events.record(
        d,
        "Warning",
        "SelectingAll",
        "This deployment is selecting all pods. A non-empty selector is required.",
        COMPONENT,
      );
      return;
    }
    const ctx = new SyncContext(
      d,
      await this.claimReplicaSets(d),
      this.deps.client,
      this.deps.events,
      this.deps.now,
    );
    let status: DeploymentStatus;
    let requeueAfterMs: number | undefined;
    try {
      if (d.metadata.deletionTimestamp) {
        await syncNewReplicaSet(ctx, false);
        status = plainStatus(ctx);
      } else {
        checkPausedConditions(ctx);
        if (ctx.paused) {
          await syncNewReplicaSet(ctx, false);
          await scaleDeployment(ctx);
          await cleanupOldReplicaSets(ctx);
          status = plainStatus(ctx);
        } else if (await isScalingEvent(ctx)) {
          await scaleDeployment(ctx);
          status = plainStatus(ctx);
        } else {
          if (ctx.dv.strategy === "Recreate") await rolloutRecreate(ctx, this.podsRunning);
          else await rolloutRolling(ctx);
          const r = rolloutStatus(ctx);
          status = r.status;
          requeueAfterMs = r.requeueAfterMs;
        }
      }
    } catch (e) {
      // a name collision is resolved by the next sync with the bumped collisionCount
      if (e instanceof HashCollisionError) await this.writeStatus(d, ctx.d.status as DeploymentStatus);
      throw e;
    }
    await this.writeRevision(d, ctx.revision);
    await this.writeStatus(d, status);
    return requeueAfterMs !== undefined ? { requeueAfterMs } : undefined;
  }

  private async writeRevision(d: KubeObject, revision: string | undefined): Promise<void> {
    if (revision === undefined || d.metadata.annotations?.[REVISION] === revision) return;
    await this.deps.client.mutate(refs.deployments, d.metadata.namespace, d.metadata.name ?? "", (cur) => {
      if (cur.metadata.uid !== d.metadata.uid) return cur;
      return {
        ...cur,
        metadata: {
          ...cur.metadata,
          annotations: { ...(cur.metadata.annotations ?? {}), [REVISION]: revision },
        },
      };
    });
  }

  private async writeStatus(d: KubeObject, status: DeploymentStatus): Promise<void> {
    if (isDeepStrictEqual(d.status ?? {}, status)) return;
    await this.deps.client.mutate(
      refs.deployments,
      d.metadata.namespace,
      d.metadata.name ?? "",
      (cur) => (cur.metadata.uid === d.metadata.uid ? { ...cur, status } : cur),
      { status: true },
    );
  }
}
