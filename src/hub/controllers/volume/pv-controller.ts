/**
 * PersistentVolume controller (upstream's PV binder plus a local-path provisioner): binds
 * claims to volumes, provisions `pvc-<uid>` volumes for WaitForFirstConsumer claims once a
 * consumer pod has a node, and releases/reclaims volumes whose claim is gone.
 *
 * Design notes
 * - One queue, two key kinds: `claim:<ns>/<name>` and `volume:<name>`. Pods only enqueue the
 *   claims they mount once they have spec.nodeName (the scheduler's or a manifest's).
 * - This file is the wiring and the claim side (which volume, or why none); the steps live
 *   with their concept: volume-binding.ts (bind in upstream's crash-safe order),
 *   local-path-provisioning.ts (make the volume on the consumer's node) and volume-reclaim.ts
 *   (the volume side: Available, Bound, Released, reclaim by policy).
 * - Capacity: the scheduler already filters nodes without room (scheduler/volume-capacity.ts);
 *   provisioning re-checks the free space the node's agent reports, and a change of those
 *   figures (`edgekube.io/storage-free`, `…/storage-paths`) retries the claims still waiting.
 */
import type { KubeObject } from "../../../api/object.js";
import { refs } from "../../../client/client.js";
import { type InformerCache, objectKey } from "../../../client/informer.js";
import { WorkQueue } from "../../../lib/workqueue.js";
import { STORAGE_FREE_ANNOTATION, STORAGE_PATHS_ANNOTATION } from "../../../storage/names.js";
import type { Controller, ControllerDeps } from "../controller.js";
import { provisionLocalPath } from "./local-path-provisioning.js";
import { ensureDefaultStorageClass, LOCAL_PATH_PROVISIONER } from "./storage-class.js";
import { bindClaim, setPhase } from "./volume-binding.js";
import {
  ANN_BIND_COMPLETED,
  ANN_SELECTED_NODE,
  claimClass,
  findMatchingVolume,
  phaseOf,
  pvcSpec,
  pvSpec,
} from "./volume-match.js";
import { syncVolume, type VolumeSyncContext } from "./volume-reclaim.js";

const COMPONENT = "persistentvolume-controller";

function claimsOfPod(pod: KubeObject): string[] {
  const vols = (
    (pod.spec as { volumes?: { persistentVolumeClaim?: { claimName?: string } }[] })?.volumes ?? []
  )
    .map((v) => v.persistentVolumeClaim?.claimName)
    .filter((n): n is string => !!n);
  return vols.map((n) => `claim:${pod.metadata.namespace}/${n}`);
}

export class PersistentVolumeController implements Controller {
  readonly name = COMPONENT;
  readonly claims: InformerCache;
  readonly volumes: InformerCache;
  readonly pods: InformerCache;
  readonly classes: InformerCache;
  readonly nodes: InformerCache;
  private readonly queue: WorkQueue;
  private readonly volumeSync: VolumeSyncContext;

  constructor(private readonly deps: ControllerDeps) {
    this.claims = deps.informers.informer(refs.persistentvolumeclaims);
    this.volumes = deps.informers.informer(refs.persistentvolumes);
    this.pods = deps.informers.informer(refs.pods);
    this.classes = deps.informers.informer(refs.storageclasses);
    this.nodes = deps.informers.informer(refs.nodes);
    this.queue = new WorkQueue((k) => this.reconcile(k), {
      concurrency: 2,
      onError: (key, err) =>
        deps.logger.warn({ component: COMPONENT, key, err }, "reconcile failed; retrying"),
    });
    this.volumeSync = {
      client: deps.client,
      volumes: this.volumes,
      claims: this.claims,
      enqueue: (k) => this.queue.add(k),
    };
  }

  async startInformers(): Promise<void> {
    await Promise.all([this.claims, this.volumes, this.pods, this.classes, this.nodes].map((i) => i.start()));
  }

  async start(_signal: AbortSignal): Promise<void> {
    await ensureDefaultStorageClass(this.deps.client);
    const q = (k: string) => this.queue.add(k);
    const claim = (o: KubeObject) => q(`claim:${objectKey(o)}`);
    this.claims.addHandlers({
      onAdd: claim,
      onUpdate: claim,
      onDelete: (o) => {
        const pv = pvcSpec(o).volumeName;
        if (pv) q(`volume:${pv}`);
        for (const v of this.volumes.list((v) => pvSpec(v).claimRef?.uid === o.metadata.uid))
          q(`volume:${v.metadata.name}`);
      },
    });
    const volume = (o: KubeObject) => q(`volume:${o.metadata.name}`);
    this.volumes.addHandlers({ onAdd: volume, onUpdate: volume, onDelete: volume });
    const pod = (o: KubeObject) => {
      if ((o.spec as { nodeName?: string })?.nodeName) for (const k of claimsOfPod(o)) q(k);
    };
    this.pods.addHandlers({ onAdd: pod, onUpdate: pod });
    // a node's free space changed: claims waiting for room on it may fit now
    this.nodes.addHandlers({
      onUpdate: (n, old) => {
        const free = (o: KubeObject) =>
          `${o.metadata.annotations?.[STORAGE_FREE_ANNOTATION]} ${o.metadata.annotations?.[STORAGE_PATHS_ANNOTATION]}`;
        if (free(n) === free(old)) return;
        for (const c of this.claims.list((c) => !pvcSpec(c).volumeName)) q(`claim:${objectKey(c)}`);
      },
    });
    await this.startInformers();
  }

  stop(): void {
    this.queue.stop();
    for (const i of [this.claims, this.volumes, this.pods, this.classes, this.nodes]) i.stop();
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  async reconcile(key: string): Promise<void> {
    if (key.startsWith("claim:")) return this.syncClaim(key.slice(6));
    if (key.startsWith("volume:")) return syncVolume(this.volumeSync, key.slice(7));
  }

  /** the node a consumer of this claim runs on: the scheduler's annotation, else a bound pod */
  private consumerNode(pvc: KubeObject): string | undefined {
    const selected = pvc.metadata.annotations?.[ANN_SELECTED_NODE];
    if (selected) return selected;
    const ns = pvc.metadata.namespace;
    const key = `claim:${ns}/${pvc.metadata.name}`;
    const pod = this.pods.list(
      (p) =>
        p.metadata.namespace === ns &&
        !!(p.spec as { nodeName?: string })?.nodeName &&
        !p.metadata.deletionTimestamp &&
        claimsOfPod(p).includes(key),
    )[0];
    return (pod?.spec as { nodeName?: string } | undefined)?.nodeName;
  }

  private async syncClaim(key: string): Promise<void> {
    const pvc = this.claims.get(key);
    if (!pvc || pvc.metadata.deletionTimestamp) return;
    const ns = pvc.metadata.namespace!;
    const spec = pvcSpec(pvc);
    if (spec.volumeName) {
      const pv = this.volumes.get(spec.volumeName);
      if (!pv) {
        if (pvc.metadata.annotations?.[ANN_BIND_COMPLETED] && phaseOf(pvc) !== "Lost") {
          await setPhase(this.deps.client, refs.persistentvolumeclaims, ns, pvc, "Lost");
          await this.deps.events.record(
            pvc,
            "Warning",
            "ClaimLost",
            "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
            COMPONENT,
          );
        }
        return;
      }
      const ref = pvSpec(pv).claimRef;
      if (ref?.uid && ref.uid !== pvc.metadata.uid) return; // the volume belongs to another claim
      await bindClaim(this.deps.client, pvc, pv, false);
      return;
    }
    const className = claimClass(pvc);
    const sc = className ? this.classes.get(className) : undefined;
    const waitForConsumer = sc?.volumeBindingMode === "WaitForFirstConsumer";
    const nodeName = this.consumerNode(pvc);
    const node = nodeName ? this.nodes.get(nodeName) : undefined;
    if (waitForConsumer && !nodeName) {
      await this.deps.events.record(
        pvc,
        "Normal",
        "WaitForFirstConsumer",
        "waiting for first consumer to be created before binding",
        COMPONENT,
      );
      return;
    }
    const match = findMatchingVolume(pvc, this.volumes.list(), node, waitForConsumer);
    if (match) {
      await bindClaim(this.deps.client, pvc, match, true);
      return;
    }
    if (!sc) {
      const msg = className
        ? `storageclass.storage.k8s.io "${className}" not found`
        : "no persistent volumes available for this claim and no storage class is set";
      await this.deps.events.record(
        pvc,
        className ? "Warning" : "Normal",
        className ? "ProvisioningFailed" : "FailedBinding",
        msg,
        COMPONENT,
      );
      return;
    }
    if (sc.provisioner !== LOCAL_PATH_PROVISIONER) return; // someone else's provisioner
    if (!nodeName) {
      // local-path needs a node; an Immediate local-path class binds only pre-created volumes
      await this.deps.events.record(
        pvc,
        "Warning",
        "ProvisioningFailed",
        `${LOCAL_PATH_PROVISIONER} provisions only for a scheduled consumer: set volumeBindingMode: WaitForFirstConsumer on storage class "${sc.metadata.name}"`,
        COMPONENT,
      );
      return;
    }
    const ctx = {
      client: this.deps.client,
      events: this.deps.events,
      volumes: this.volumes,
      component: COMPONENT,
    };
    await provisionLocalPath(ctx, pvc, sc, nodeName, node);
  }
}
