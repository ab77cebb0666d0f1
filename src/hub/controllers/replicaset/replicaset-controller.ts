/**
 * ReplicaSet controller (upstream pkg/controller/replicaset): keeps `spec.replicas` active
 * pods from the template, owned through a controller ownerReference.
 *
 * Design notes
 * - Level-triggered: informer handlers only enqueue `namespace/name` of the ReplicaSet a pod
 *   belongs to; reconcile(key) re-reads the caches, claims pods (adopt matching orphans,
 *   release owned pods that stopped matching), creates or deletes the difference, and writes
 *   status last, only when it differs.
 * - Pods are found through an OwnerIndex on the shared pod informer, never by listing.
 * - Expectations stop a reconcile from acting on a cache that has not yet seen the pods the
 *   previous reconcile created or deleted; status is still written from what is seen.
 * - Creations go out in slow-start batches (1, 2, 4 …) and stop at the first error, at most
 *   `burstReplicas` per reconcile, so a broken template causes one failure, not hundreds.
 */

import type { KubeObject } from "../../../api/object.js";
import { labelSelectorMatcher } from "../../../api/selectors.js";
import { refs } from "../../../client/client.js";
import { type Informer, objectKey } from "../../../client/informer.js";
import type { ReconcileResult } from "../../../lib/workqueue.js";
import { WorkQueue } from "../../../lib/workqueue.js";
import type { Controller, ControllerDeps } from "../controller.js";
import { controllerRef, OwnerIndex } from "../owner-index.js";
import { Expectations } from "./expectations.js";
import { PodControl } from "./pod-control.js";
import { isPodActive, msUntilAvailable, podsToDelete } from "./pod-state.js";
import { computeReplicaSetStatus, type ManageFailure, statusDiffers } from "./replicaset-status.js";

export interface ReplicaSetControllerOptions {
  /** most pods created or deleted by one reconcile (upstream BurstReplicas = 500) */
  burstReplicas?: number;
  concurrency?: number;
}

export class ReplicaSetController implements Controller {
  readonly name = "replicaset-controller";
  private readonly queue: WorkQueue;
  private readonly pods = new OwnerIndex();
  private readonly expectations = new Expectations();
  private readonly podControl: PodControl;
  private rsInformer: Informer | undefined;
  private podInformer: Informer | undefined;

  constructor(
    private readonly deps: ControllerDeps,
    private readonly opts: ReplicaSetControllerOptions = {},
  ) {
    this.podControl = new PodControl(deps.client, deps.events);
    this.queue = new WorkQueue((k) => this.reconcile(k), {
      concurrency: opts.concurrency ?? 4,
      onError: (key, err) =>
        deps.logger
          .child({ component: "replicaset-controller" })
          .warn({ key, err }, "replicaset sync failed; retrying"),
    });
  }

  async start(_signal: AbortSignal): Promise<void> {
    this.rsInformer = await this.deps.informers.acquire(refs.replicasets);
    this.podInformer = await this.deps.informers.acquire(refs.pods);
    this.podInformer.addHandlers(
      this.pods.handlers({
        onAdd: (p) => {
          const owner = this.ownerKey(p);
          if (owner) this.expectations.creationObserved(owner);
          this.enqueueForPod(p);
        },
        onUpdate: (p, old) => {
          const owner = this.ownerKey(p);
          if (owner && p.metadata.deletionTimestamp && !old.metadata.deletionTimestamp)
            this.expectations.deletionObserved(owner, objectKey(p));
          const oldOwner = this.ownerKey(old);
          if (oldOwner && oldOwner !== owner) this.queue.add(oldOwner);
          this.enqueueForPod(p);
        },
        onDelete: (p) => {
          const owner = this.ownerKey(p);
          if (owner) this.expectations.deletionObserved(owner, objectKey(p));
          this.enqueueForPod(p);
        },
      }),
    );
    this.rsInformer.addHandlers({
      onAdd: (rs) => this.queue.add(objectKey(rs)),
      onUpdate: (rs) => this.queue.add(objectKey(rs)),
      onDelete: (rs) => {
        this.expectations.forget(objectKey(rs));
        this.queue.add(objectKey(rs));
      },
    });
  }

  stop(): void {
    this.queue.stop();
    if (this.rsInformer) this.deps.informers.release(refs.replicasets);
    if (this.podInformer) this.deps.informers.release(refs.pods);
    this.rsInformer = undefined;
    this.podInformer = undefined;
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  private ownerKey(pod: KubeObject): string | undefined {
    const ref = controllerRef(pod);
    if (ref?.kind !== "ReplicaSet" || !ref.apiVersion.startsWith("apps/")) return undefined;
    return `${pod.metadata.namespace}/${ref.name}`;
  }

  /** the owning ReplicaSet, or for an orphan every ReplicaSet of its namespace that selects it */
  private enqueueForPod(pod: KubeObject): void {
    const owner = this.ownerKey(pod);
    if (owner) {
      this.queue.add(owner);
      return;
    }
    if (controllerRef(pod)) return;
    const ns = pod.metadata.namespace;
    for (const rs of this.rsInformer?.list((r) => r.metadata.namespace === ns) ?? []) {
      if (this.selects(rs, pod)) this.queue.add(objectKey(rs));
    }
  }

  private selects(rs: KubeObject, pod: KubeObject): boolean {
    try {
      const sel = (rs.spec as { selector?: unknown } | undefined)?.selector;
      return labelSelectorMatcher(sel).matches(pod.metadata.labels ?? {});
    } catch {
      return false;
    }
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const rs = this.rsInformer?.get(key);
    const podInformer = this.podInformer;
    if (!rs || !podInformer) {
      this.expectations.forget(key);
      return;
    }
    const uid = rs.metadata.uid ?? "";
    const claimed: KubeObject[] = [];
    for (const k of this.pods.owned(uid)) {
      const pod = podInformer.get(k);
      if (!pod) continue;
      if (this.selects(rs, pod)) claimed.push(pod);
      else if (!pod.metadata.deletionTimestamp) await this.podControl.release(rs, pod);
    }
    if (!rs.metadata.deletionTimestamp) {
      for (const k of this.pods.orphans(rs.metadata.namespace ?? "")) {
        const pod = podInformer.get(k);
        if (!pod || !isPodActive(pod) || !this.selects(rs, pod)) continue;
        const adopted = await this.podControl.adopt(rs, pod);
        if (adopted) claimed.push(adopted);
      }
    }
    const active = claimed.filter(isPodActive);
    let failure: ManageFailure | undefined;
    if (!rs.metadata.deletionTimestamp && this.expectations.satisfied(key)) {
      failure = await this.manageReplicas(key, rs, active);
    }
    const now = this.deps.now();
    const status = computeReplicaSetStatus(rs, active, now, failure);
    if (statusDiffers(rs, status)) {
      await this.deps.client.mutate(
        refs.replicasets,
        rs.metadata.namespace,
        rs.metadata.name ?? "",
        (cur) => (cur.metadata.uid === uid ? { ...cur, status } : cur),
        { status: true },
      );
    }
    if (failure) throw new Error(`${failure.reason}: ${failure.message}`);
    // pods ready but not yet available for minReadySeconds: look again when they will be
    const minReady = (rs.spec as { minReadySeconds?: number } | undefined)?.minReadySeconds ?? 0;
    let wait: number | undefined;
    for (const p of active) {
      const ms = msUntilAvailable(p, minReady, now);
      if (ms !== undefined) wait = Math.min(wait ?? ms, ms);
    }
    if (wait !== undefined) return { requeueAfterMs: wait + 50 };
  }

  private async manageReplicas(
    key: string,
    rs: KubeObject,
    active: KubeObject[],
  ): Promise<ManageFailure | undefined> {
    const want = Math.max(0, (rs.spec as { replicas?: number } | undefined)?.replicas ?? 1);
    const burst = this.opts.burstReplicas ?? 500;
    const diff = active.length - want;
    if (diff < 0) {
      const n = Math.min(-diff, burst);
      this.expectations.expectCreations(key, n);
      let done = 0;
      for (let batch = 1; done < n; batch *= 2) {
        const size = Math.min(batch, n - done);
        const results = await Promise.allSettled(
          Array.from({ length: size }, () => this.podControl.create(rs)),
        );
        done += size;
        const failed = results.filter((r) => r.status === "rejected");
        // a pod not created (namespace terminating or an error) will never be observed
        for (const r of results)
          if (r.status === "rejected" || !r.value) this.expectations.creationObserved(key);
        if (failed.length > 0) {
          for (let i = done; i < n; i++) this.expectations.creationObserved(key);
          const err = failed[0] as PromiseRejectedResult;
          return { reason: "FailedCreate", message: String((err.reason as Error)?.message ?? err.reason) };
        }
      }
    } else if (diff > 0) {
      const victims = podsToDelete(active, Math.min(diff, burst));
      this.expectations.expectDeletions(key, victims.map(objectKey));
      const results = await Promise.allSettled(victims.map((p) => this.podControl.delete(rs, p)));
      for (const [i, r] of results.entries()) {
        const v = victims[i];
        if (r.status === "rejected" && v) this.expectations.deletionObserved(key, objectKey(v));
      }
      const failed = results.find((r) => r.status === "rejected");
      if (failed) {
        return {
          reason: "FailedDelete",
          message: String(((failed as PromiseRejectedResult).reason as Error)?.message),
        };
      }
    }
    return undefined;
  }
}
