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
import { isDeepStrictEqual } from "node:util";
import type { KubeObject } from "../../../api/object.js";
import { isConflict, isNotFound, refs } from "../../../client/client.js";
import type { InformerCache } from "../../../client/informer.js";
import { type ReconcileResult, WorkQueue } from "../../../lib/workqueue.js";
import type { Controller, ControllerDeps } from "../controller.js";
import { keyOf, type SharedInformers, splitKey } from "../shared-informers.js";
import {
  ensureRevision,
  HashCollisionError,
  REVISION_HASH_LABEL,
  truncateHistory,
} from "../workload-common/controller-history.js";
import { controllerRefOf, isControlledBy } from "../workload-common/pods.js";
import { newDaemonPod } from "./daemon-pod.js";
import { planDaemonSet } from "./daemonset-plan.js";

const COMPONENT = "daemonset-controller";

export class DaemonSetController implements Controller {
  readonly name = COMPONENT;
  readonly queue: WorkQueue;
  private readonly dsets: InformerCache;
  private readonly pods: InformerCache;
  private readonly nodes: InformerCache;
  private readonly revisions: InformerCache;

  constructor(
    private readonly deps: ControllerDeps,
    private readonly informers: SharedInformers,
  ) {
    this.dsets = informers.informer(refs.daemonsets);
    this.pods = informers.informer(refs.pods);
    this.nodes = informers.informer(refs.nodes);
    this.revisions = informers.informer(refs.controllerrevisions);
    this.queue = new WorkQueue((k) => this.reconcile(k), {
      concurrency: 2,
      onError: (key, err) =>
        deps.logger.warn({ component: COMPONENT, key, err }, "daemonset sync failed; retrying"),
    });
  }

  async start(_signal: AbortSignal): Promise<void> {
    const enqueue = (o: KubeObject) => this.queue.add(keyOf(o));
    this.dsets.addHandlers({ onAdd: enqueue, onUpdate: enqueue, onDelete: enqueue });
    const byOwner = (p: KubeObject) => {
      const r = controllerRefOf(p);
      if (r?.kind === "DaemonSet") this.queue.add(`${p.metadata.namespace}/${r.name}`);
    };
    this.pods.addHandlers({ onAdd: byOwner, onUpdate: byOwner, onDelete: byOwner });
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
    await Promise.all([this.dsets, this.pods, this.nodes, this.revisions].map((i) => i.start()));
  }

  stop(): void {
    this.queue.stop();
    for (const i of [this.dsets, this.pods, this.nodes, this.revisions]) i.stop();
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
      plan.create.map(async (node) => {
        try {
          const pod = await this.deps.client.create(
            refs.pods,
            namespace,
            newDaemonPod(ds, node, ensured.hash),
          );
          waits.push(this.informers.awaitWrite(refs.pods, pod));
          void this.deps.events.record(
            ds,
            "Normal",
            "SuccessfulCreate",
            `Created pod: ${pod.metadata.name}`,
            COMPONENT,
          );
        } catch (e) {
          void this.deps.events.record(
            ds,
            "Warning",
            "FailedCreate",
            `Error creating: ${(e as Error).message}`,
            COMPONENT,
          );
          throw e;
        }
      }),
    );
    await Promise.all(
      plan.delete.map(async ({ pod, failed, node }) => {
        const name = pod.metadata.name ?? "";
        if (failed) {
          const msg = `Found failed daemon pod ${namespace}/${name} on node ${node}, will try to kill it`;
          void this.deps.events.record(ds, "Warning", "FailedDaemonPod", msg, COMPONENT);
        }
        try {
          await this.deps.client.delete(refs.pods, namespace, name, {
            preconditions: { uid: pod.metadata.uid ?? "" },
          });
          void this.deps.events.record(ds, "Normal", "SuccessfulDelete", `Deleted pod: ${name}`, COMPONENT);
        } catch (e) {
          if (!isNotFound(e) && !isConflict(e)) throw e;
        }
        waits.push(this.informers.awaitDelete(refs.pods, keyOf(pod)));
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

  private async writeStatus(ds: KubeObject, next: Record<string, unknown>): Promise<void> {
    const cur = (ds.status ?? {}) as Record<string, unknown>;
    const merged = { ...cur, ...next };
    if (isDeepStrictEqual(cur, merged)) return;
    try {
      await this.deps.client.mutate(
        refs.daemonsets,
        ds.metadata.namespace,
        ds.metadata.name ?? "",
        (o) => ({ ...o, status: { ...((o.status ?? {}) as object), ...next } }),
        { status: true },
      );
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

function eligibilityView(n: KubeObject): string {
  const spec = (n.spec ?? {}) as { taints?: unknown; unschedulable?: boolean };
  return JSON.stringify([n.metadata.labels ?? {}, spec.taints ?? [], spec.unschedulable ?? false]);
}
