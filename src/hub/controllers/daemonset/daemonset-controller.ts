/**
 * DaemonSet controller: one pod per eligible node, rolled to new templates node by node.
 *
 * Design notes
 * - Level-triggered (STYLE.md): DaemonSet, pod and relevant node changes only enqueue the
 *   DaemonSet's key; reconcile re-reads the caches, asks planDaemonSet what differs, acts,
 *   and writes status last (only when it changed).
 * - Node updates enqueue every DaemonSet only when something eligibility depends on changed
 *   (labels, taints, unschedulable); lease and heartbeat writes do not cause a storm.
 * - After each create/delete the reconcile waits until the cache shows it (SharedInformers
 *   .awaitCache), which stands in for upstream's expectations.
 * - Events are upstream's: SuccessfulCreate "Created pod: x", SuccessfulDelete "Deleted pod:
 *   x", FailedDaemonPod, FailedCreate.
 */
import type { KubeObject } from "../../../api/object.js";
import { refs } from "../../../client/client.js";
import type { InformerCache } from "../../../client/informer.js";
import type { ReconcileResult } from "../../../lib/workqueue.js";
import type { ControllerDeps } from "../controller.js";
import { keyOf, type SharedInformers, splitKey } from "../shared-informers.js";
import {
  ensureRevision,
  HashCollisionError,
  REVISION_HASH_LABEL,
  truncateHistory,
} from "../workload-common/controller-history.js";
import { OwnerController } from "../workload-common/owner-controller.js";
import { isControlledBy } from "../workload-common/pods.js";
import { newDaemonPod } from "./daemon-pod.js";
import { planDaemonSet } from "./daemonset-plan.js";

const COMPONENT = "daemonset-controller";

export class DaemonSetController extends OwnerController {
  private readonly dsets: InformerCache;
  private readonly pods: InformerCache;
  private readonly nodes: InformerCache;
  private readonly revisions: InformerCache;

  constructor(deps: ControllerDeps, informers: SharedInformers) {
    super(COMPONENT, "daemonset", deps, informers);
    this.dsets = this.cache(refs.daemonsets);
    this.pods = this.cache(refs.pods);
    this.nodes = this.cache(refs.nodes);
    this.revisions = this.cache(refs.controllerrevisions);
  }

  protected watch(): void {
    this.enqueueOwners(this.dsets, { onDelete: true });
    this.enqueueControllerOf(this.pods, "DaemonSet");
    const all = () => {
      for (const ds of this.dsets.list()) this.queue.add(keyOf(ds));
    };
    this.nodes.addHandlers({
      onAdd: all,
      onDelete: all,
      onUpdate: (n, old) => {
        if (eligibilityView(n) !== eligibilityView(old)) all();
      },
    });
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const ds = this.dsets.get(key);
    if (!ds || ds.metadata.deletionTimestamp) return;
    const { namespace } = splitKey(key);
    const status = (ds.status ?? {}) as { collisionCount?: number };
    const template = (ds.spec as { template?: unknown } | undefined)?.template ?? {};
    const owned = this.revisions.list((r) => r.metadata.namespace === namespace && isControlledBy(r, ds));
    let ensured: Awaited<ReturnType<typeof ensureRevision>>;
    try {
      ensured = await ensureRevision(this.deps.client, ds, template, owned, status.collisionCount ?? 0);
    } catch (e) {
      if (e instanceof HashCollisionError)
        await this.writeStatus(ds, { collisionCount: (status.collisionCount ?? 0) + 5 });
      throw e;
    }
    const pods = this.pods.list((p) => p.metadata.namespace === namespace && isControlledBy(p, ds));
    const now = this.deps.now();
    const plan = planDaemonSet(ds, this.nodes.list(), pods, ensured.hash, now);

    const waits: Promise<void>[] = [];
    await Promise.all(
      plan.create.map((node) => this.createPod(ds, newDaemonPod(ds, node, ensured.hash), waits)),
    );
    await Promise.all(
      plan.delete.map(({ pod, failed, node }) => {
        if (failed) {
          const msg = `Found failed daemon pod ${namespace}/${pod.metadata.name ?? ""} on node ${node}, will try to kill it`;
          void this.deps.events.record(ds, "Warning", "FailedDaemonPod", msg, COMPONENT);
        }
        return this.deletePod(ds, pod, waits);
      }),
    );
    await Promise.all(waits);

    const live = new Set<string>([ensured.revision.metadata.name ?? ""]);
    for (const p of pods) {
      const h = p.metadata.labels?.[REVISION_HASH_LABEL];
      if (h) live.add(`${ds.metadata.name}-${h}`);
    }
    const limit = (ds.spec as { revisionHistoryLimit?: number }).revisionHistoryLimit ?? 10;
    await truncateHistory(
      this.deps.client,
      owned.filter((r) => r.metadata.name !== ensured.revision.metadata.name),
      live,
      limit,
    );

    // status from the cache as it is after this pass's writes (upstream re-lists too)
    const after = this.pods.list((p) => p.metadata.namespace === namespace && isControlledBy(p, ds));
    const { status: counted } = planDaemonSet(ds, this.nodes.list(), after, ensured.hash, now);
    await this.writeStatus(ds, {
      ...counted,
      ...(ensured.collisionCount > 0 ? { collisionCount: ensured.collisionCount } : {}),
    });
    if (plan.requeueAfterMs !== undefined) return { requeueAfterMs: plan.requeueAfterMs };
  }

  private writeStatus(ds: KubeObject, next: Record<string, unknown>): Promise<void> {
    return this.writeStatusPatch(refs.daemonsets, ds, next);
  }
}

function eligibilityView(n: KubeObject): string {
  const spec = (n.spec ?? {}) as { taints?: unknown; unschedulable?: boolean };
  return JSON.stringify([n.metadata.labels ?? {}, spec.taints ?? [], spec.unschedulable ?? false]);
}
