/**
 * Storage object in-use protection, as upstream (StorageObjectInUseProtection admission plus the
 * pvc-protection and pv-protection controllers): a claim a pod still uses, and a volume still
 * bound to a claim, are not removed when deleted — they show Terminating until no longer used.
 *
 * Design notes
 * - Finalizers `kubernetes.io/pvc-protection` and `kubernetes.io/pv-protection` are added at
 *   create (admission, protectionAdmit) and by this controller to objects that predate it, so
 *   every live PVC/PV carries one; a deleted object loses it only when it is not in use.
 * - A claim is in use while a pod that names it (directly, or as its generic ephemeral volume
 *   `<pod>-<volume>`) is scheduled (spec.nodeName set) and not terminated (phase Succeeded or
 *   Failed). Unscheduled pods do not count, as upstream: the scheduler refuses a pod whose claim
 *   is being deleted, so it can never start using it.
 * - Before dropping the finalizer the pods of the namespace are listed from the API server, not
 *   only from the informer (upstream's askAPIServer): a pod created a moment ago may not be in
 *   the cache yet, and a missed user would lose its data.
 * - A volume is in use while its phase is Bound. The PV controller moves it to Released when its
 *   claim is gone, also when the volume is already being deleted, which lets the finalizer go.
 * - Handlers only enqueue keys (`pvc:<ns>/<name>`, `pv:<name>`); reconcile re-reads and is
 *   idempotent. A pod change enqueues the claims it names.
 */
import type { KubeObject } from "../../../api/object.js";
import { isConflict, isNotFound, type ResourceRef, refs } from "../../../client/client.js";
import { type InformerCache, objectKey } from "../../../client/informer.js";
import { WorkQueue } from "../../../lib/workqueue.js";
import type { Controller, ControllerDeps } from "../controller.js";
import { phaseOf } from "./volume-match.js";

export const PVC_PROTECTION_FINALIZER = "kubernetes.io/pvc-protection";
export const PV_PROTECTION_FINALIZER = "kubernetes.io/pv-protection";

interface PodVolume {
  name?: string;
  persistentVolumeClaim?: { claimName?: string };
  ephemeral?: unknown;
}

/** Names of the claims a pod mounts (generic ephemeral volumes: `<pod>-<volume>`). */
export function podClaimNames(pod: KubeObject): string[] {
  const vols = ((pod.spec as { volumes?: PodVolume[] } | undefined)?.volumes ?? []) as PodVolume[];
  return vols.flatMap((v) => {
    if (v.persistentVolumeClaim?.claimName) return [v.persistentVolumeClaim.claimName];
    if (v.ephemeral && v.name) return [`${pod.metadata.name ?? ""}-${v.name}`];
    return [];
  });
}

/** Pods (names) that keep the claim in use: scheduled, not terminated, naming it. */
export function claimUsers(pvc: KubeObject, pods: readonly KubeObject[]): string[] {
  return pods
    .filter((p) => p.metadata.namespace === pvc.metadata.namespace)
    .filter((p) => !!(p.spec as { nodeName?: string } | undefined)?.nodeName)
    .filter((p) => phaseOf(p) !== "Succeeded" && phaseOf(p) !== "Failed")
    .filter((p) => podClaimNames(p).includes(pvc.metadata.name ?? ""))
    .map((p) => p.metadata.name ?? "");
}

/** Admission on create: every new PVC and PV gets its protection finalizer. */
export function protectionAdmit(kind: string, obj: KubeObject): void {
  const f =
    kind === "PersistentVolumeClaim"
      ? PVC_PROTECTION_FINALIZER
      : kind === "PersistentVolume"
        ? PV_PROTECTION_FINALIZER
        : undefined;
  if (!f || obj.metadata.finalizers?.includes(f)) return;
  obj.metadata.finalizers = [...(obj.metadata.finalizers ?? []), f];
}

export class ProtectionController implements Controller {
  readonly name = "pvc-protection";
  private readonly claims: InformerCache;
  private readonly volumes: InformerCache;
  private readonly pods: InformerCache;
  private readonly queue: WorkQueue;

  constructor(private readonly deps: ControllerDeps) {
    // the hub's shared caches: a private pod informer held a second copy of every pod, with
    // its managedFields (about 2 KB a pod at 10,000 pods)
    this.claims = deps.informers.informer(refs.persistentvolumeclaims);
    this.volumes = deps.informers.informer(refs.persistentvolumes);
    this.pods = deps.informers.informer(refs.pods);
    this.queue = new WorkQueue((k) => this.reconcile(k), {
      concurrency: 2,
      onError: (key, err) =>
        deps.logger.warn({ component: this.name, key, err }, "reconcile failed; retrying"),
    });
  }

  async start(_signal: AbortSignal): Promise<void> {
    const claim = (o: KubeObject) => this.queue.add(`pvc:${objectKey(o)}`);
    const volume = (o: KubeObject) => this.queue.add(`pv:${o.metadata.name}`);
    this.claims.addHandlers({ onAdd: claim, onUpdate: claim });
    this.volumes.addHandlers({ onAdd: volume, onUpdate: volume });
    const pod = (p: KubeObject) => {
      for (const n of podClaimNames(p)) this.queue.add(`pvc:${p.metadata.namespace}/${n}`);
    };
    this.pods.addHandlers({ onAdd: pod, onUpdate: pod, onDelete: pod });
    await Promise.all([this.claims.start(), this.volumes.start(), this.pods.start()]);
  }

  stop(): void {
    this.queue.stop();
    for (const i of [this.claims, this.volumes, this.pods]) i.stop();
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  async reconcile(key: string): Promise<void> {
    if (key.startsWith("pvc:")) {
      const pvc = this.claims.get(key.slice(4));
      if (pvc) await this.syncClaim(pvc);
    } else if (key.startsWith("pv:")) {
      const pv = this.volumes.get(key.slice(3));
      if (pv) await this.syncVolume(pv);
    }
  }

  private async syncClaim(pvc: KubeObject): Promise<void> {
    const ns = pvc.metadata.namespace;
    const has = pvc.metadata.finalizers?.includes(PVC_PROTECTION_FINALIZER) ?? false;
    if (!pvc.metadata.deletionTimestamp) {
      if (!has) await this.setFinalizer(refs.persistentvolumeclaims, ns, pvc, PVC_PROTECTION_FINALIZER, true);
      return;
    }
    if (!has) return;
    if (claimUsers(pvc, this.pods.list()).length > 0) return; // a pod event brings us back
    const live = (await this.deps.client.list(refs.pods, ns)).items;
    if (claimUsers(pvc, live).length > 0) return;
    await this.setFinalizer(refs.persistentvolumeclaims, ns, pvc, PVC_PROTECTION_FINALIZER, false);
  }

  private async syncVolume(pv: KubeObject): Promise<void> {
    const has = pv.metadata.finalizers?.includes(PV_PROTECTION_FINALIZER) ?? false;
    if (!pv.metadata.deletionTimestamp) {
      if (!has) await this.setFinalizer(refs.persistentvolumes, undefined, pv, PV_PROTECTION_FINALIZER, true);
      return;
    }
    if (has && phaseOf(pv) !== "Bound")
      await this.setFinalizer(refs.persistentvolumes, undefined, pv, PV_PROTECTION_FINALIZER, false);
  }

  private async setFinalizer(
    ref: ResourceRef,
    ns: string | undefined,
    obj: KubeObject,
    finalizer: string,
    present: boolean,
  ): Promise<void> {
    try {
      await this.deps.client.mutate(ref, ns, obj.metadata.name!, (cur) => {
        const rest = (cur.metadata.finalizers ?? []).filter((f) => f !== finalizer);
        // a deleted object never gets a finalizer back; one being added to a live object only
        if (present && cur.metadata.deletionTimestamp) return cur;
        return { ...cur, metadata: { ...cur.metadata, finalizers: present ? [...rest, finalizer] : rest } };
      });
    } catch (e) {
      if (!isNotFound(e) && !isConflict(e)) throw e;
    }
  }
}
