/**
 * OwnerController: the wiring every workload controller (DaemonSet, StatefulSet, Job,
 * CronJob) shares: one work queue keyed by the owner's `namespace/name`, handles on the
 * shared informers it reads, handlers that only enqueue keys, and the status write.
 *
 * Design notes
 * - Level-triggered (STYLE.md): an owner change enqueues the owner; a change of an owned
 *   object (pod, job) enqueues its controller when that controller is of the owner's kind.
 *   Everything else happens in the subclass's reconcile(key), which re-reads the caches.
 * - Caches are taken with cache(ref) in the subclass constructor; start() lets the subclass
 *   add handlers (watch()) and then starts the caches in the order they were taken, so no
 *   event between sync and handler registration is lost; stop() stops the queue first so no
 *   reconcile runs against a cache that is going away.
 * - createPod/deletePod are upstream's RealPodControl for Job and DaemonSet: the events
 *   SuccessfulCreate "Created pod: x", FailedCreate "Error creating: …", SuccessfulDelete
 *   "Deleted pod: x"; a delete carries the pod's uid as precondition, and a pod already gone
 *   or replaced is not an error. Each pushes a wait for its write to reach the cache (our
 *   stand-in for upstream's expectations) so the caller awaits them all after the batch.
 * - writeStatusPatch merges into the stored status (read-modify-write in client.mutate), and
 *   skips the write when the cached status already holds every field: an idle cluster writes
 *   nothing. A NotFound means the owner went away meanwhile, which is not an error.
 */
import { isDeepStrictEqual } from "node:util";
import type { KubeObject } from "../../../api/object.js";
import { isConflict, isNotFound, type ResourceRef, refs } from "../../../client/client.js";
import type { InformerCache } from "../../../client/informer.js";
import { type ReconcileResult, WorkQueue } from "../../../lib/workqueue.js";
import type { Controller, ControllerDeps } from "../controller.js";
import { keyOf, type SharedInformers } from "../shared-informers.js";
import { controllerRefOf } from "./pods.js";

export abstract class OwnerController implements Controller {
  readonly queue: WorkQueue;
  private readonly caches: InformerCache[] = [];

  /** `what` names the owner kind in the retry warning ("job sync failed; retrying") */
  protected constructor(
    readonly name: string,
    what: string,
    protected readonly deps: ControllerDeps,
    protected readonly informers: SharedInformers,
  ) {
    this.queue = new WorkQueue((k) => this.reconcile(k), {
      concurrency: 2,
      onError: (key, err) => deps.logger.warn({ component: name, key, err }, `${what} sync failed; retrying`),
    });
  }

  abstract reconcile(key: string): Promise<ReconcileResult>;

  /** registers the subclass's informer handlers; runs once, before the caches start */
  protected abstract watch(): void;

  /** a handle on the shared informer for ref, started and stopped with this controller */
  protected cache(ref: ResourceRef): InformerCache {
    const c = this.informers.informer(ref);
    this.caches.push(c);
    return c;
  }

  /** owner changes enqueue the owner itself; deletes too when the reconcile must see them */
  protected enqueueOwners(owners: InformerCache, opts: { onDelete: boolean }): void {
    const enqueue = (o: KubeObject) => this.queue.add(keyOf(o));
    owners.addHandlers({
      onAdd: enqueue,
      onUpdate: enqueue,
      ...(opts.onDelete ? { onDelete: enqueue } : {}),
    });
  }

  /** changes of owned objects enqueue their controller when it is an owner of this kind */
  protected enqueueControllerOf(owned: InformerCache, ownerKind: string): void {
    const byOwner = (o: KubeObject) => {
      const r = controllerRefOf(o);
      if (r?.kind === ownerKind) this.queue.add(`${o.metadata.namespace}/${r.name}`);
    };
    owned.addHandlers({ onAdd: byOwner, onUpdate: byOwner, onDelete: byOwner });
  }

  async start(_signal: AbortSignal): Promise<void> {
    this.watch();
    await Promise.all(this.caches.map((c) => c.start()));
  }

  stop(): void {
    this.queue.stop();
    for (const c of this.caches) c.stop();
  }

  /** merges next into the owner's status unless the cached status already holds it */
  protected async writeStatusPatch(
    ref: ResourceRef,
    owner: KubeObject,
    next: Record<string, unknown>,
  ): Promise<void> {
    const cur = (owner.status ?? {}) as Record<string, unknown>;
    if (isDeepStrictEqual(cur, { ...cur, ...next })) return;
    try {
      await this.deps.client.mutate(
        ref,
        owner.metadata.namespace,
        owner.metadata.name ?? "",
        (o) => ({ ...o, status: { ...((o.status ?? {}) as object), ...next } }),
        { status: true },
      );
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /** creates pod on behalf of owner; the wait for the cache to show it goes onto waits */
  protected async createPod(owner: KubeObject, pod: KubeObject, waits: Promise<void>[]): Promise<void> {
    try {
      const created = await this.deps.client.create(refs.pods, owner.metadata.namespace, pod);
      waits.push(this.informers.awaitWrite(refs.pods, created));
      const msg = `Created pod: ${created.metadata.name}`;
      void this.deps.events.record(owner, "Normal", "SuccessfulCreate", msg, this.name);
    } catch (e) {
      const msg = `Error creating: ${(e as Error).message}`;
      void this.deps.events.record(owner, "Warning", "FailedCreate", msg, this.name);
      throw e;
    }
  }

  /** deletes pod (this incarnation only); the wait for the cache to drop it goes onto waits */
  protected async deletePod(owner: KubeObject, pod: KubeObject, waits: Promise<void>[]): Promise<void> {
    const podName = pod.metadata.name ?? "";
    try {
      await this.deps.client.delete(refs.pods, owner.metadata.namespace, podName, {
        preconditions: { uid: pod.metadata.uid ?? "" },
      });
      const msg = `Deleted pod: ${podName}`;
      void this.deps.events.record(owner, "Normal", "SuccessfulDelete", msg, this.name);
    } catch (e) {
      if (!isNotFound(e) && !isConflict(e)) throw e;
    }
    waits.push(this.informers.awaitDelete(refs.pods, keyOf(pod)));
  }
}
