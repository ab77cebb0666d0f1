/**
 * PersistentVolume controller (upstream's PV binder plus a local-path provisioner): binds
 * claims to volumes, provisions `pvc-<uid>` volumes for WaitForFirstConsumer claims once a
 * consumer pod has a node, and releases/reclaims volumes whose claim is gone.
 *
 * Design notes
 * - One queue, two key kinds: `claim:<ns>/<name>` and `volume:<name>`. Pods only enqueue the
 *   claims they mount once they have spec.nodeName (the scheduler's or a manifest's).
 * - Binding order follows upstream so a crash in between is repaired by the next pass: PV
 *   spec.claimRef, PV status Bound, PVC spec.volumeName + annotations, PVC status Bound (last).
 * - Reclaim: a Released volume with policy Delete that we provisioned is deleted here; its
 *   finalizer `edgekube.io/local-path-cleanup` keeps the object until the node's agent has removed
 *   the directory (no pod of its uses it any more) and reported `pv/<name>`, which the hub's
 *   StatusWriter turns into the finalizer's removal. Retain keeps it Released. Volumes provisioned
 *   before the finalizer existed get it (and the node annotation) on their next sync.
 * - Capacity: the scheduler already filters nodes without room (scheduler/volume-capacity.ts);
 *   as a guard, a claim is provisioned on a node only when its request fits the free space the
 *   node's agent reports for the class's base (`edgekube.io/storage-free`, `…/storage-paths`);
 *   otherwise a ProvisioningFailed event says so and the claim is retried when the figures change.
 */
import type { KubeObject } from "../../../api/object.js";
import { isConflict, isNotFound, refs } from "../../../client/client.js";
import { type InformerCache, objectKey } from "../../../client/informer.js";
import { WorkQueue } from "../../../lib/workqueue.js";
import {
  LOCAL_PATH_FINALIZER,
  LOCAL_PATH_NODE_ANNOTATION,
  STORAGE_FREE_ANNOTATION,
  STORAGE_PATHS_ANNOTATION,
  StoragePathError,
} from "../../../storage/names.js";
import type { Controller, ControllerDeps } from "../controller.js";
import { ensureDefaultStorageClass, LOCAL_PATH_PROVISIONER } from "./storage-class.js";
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_PROVISIONED_BY,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  claimClass,
  claimRefOf,
  findMatchingVolume,
  HOSTNAME_LABEL,
  insufficientSpace,
  phaseOf,
  provisionedVolume,
  pvcSpec,
  pvSpec,
} from "./volume-match.js";

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
    if (key.startsWith("volume:")) return this.syncVolume(key.slice(7));
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
          await this.setPhase(refs.persistentvolumeclaims, ns, pvc, "Lost");
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
      await this.bind(pvc, pv, false);
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
      await this.bind(pvc, match, true);
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
    await this.provision(pvc, sc, nodeName, node);
  }

  private async provision(
    pvc: KubeObject,
    sc: KubeObject,
    nodeName: string,
    node: KubeObject | undefined,
  ): Promise<void> {
    const ns = pvc.metadata.namespace!;
    const ann = pvc.metadata.annotations ?? {};
    if (ann[ANN_STORAGE_PROVISIONER] !== LOCAL_PATH_PROVISIONER || ann[ANN_SELECTED_NODE] !== nodeName) {
      pvc = await this.deps.client.mutate(refs.persistentvolumeclaims, ns, pvc.metadata.name!, (cur) => ({
        ...cur,
        metadata: {
          ...cur.metadata,
          annotations: {
            ...cur.metadata.annotations,
            [ANN_STORAGE_PROVISIONER]: LOCAL_PATH_PROVISIONER,
            [ANN_BETA_STORAGE_PROVISIONER]: LOCAL_PATH_PROVISIONER,
            [ANN_SELECTED_NODE]: nodeName,
          },
        },
      }));
    }
    const hostname = node?.metadata.labels?.[HOSTNAME_LABEL] ?? nodeName;
    let want: KubeObject;
    try {
      want = provisionedVolume(pvc, sc, hostname, nodeName);
    } catch (e) {
      if (!(e instanceof StoragePathError)) throw e;
      await this.deps.events.record(pvc, "Warning", "ProvisioningFailed", e.message, COMPONENT);
      return;
    }
    let pv =
      this.volumes.get(want.metadata.name!) ??
      (await this.deps.client.get(refs.persistentvolumes, undefined, want.metadata.name!));
    if (!pv) {
      const noRoom = insufficientSpace(pvc, sc, nodeName, node);
      if (noRoom) {
        await this.deps.events.record(pvc, "Warning", "ProvisioningFailed", noRoom, COMPONENT);
        return;
      }
      try {
        pv = await this.deps.client.create(refs.persistentvolumes, undefined, want);
      } catch (e) {
        if (!isConflict(e)) throw e;
        return; // created concurrently: its event brings us back
      }
      await this.deps.events.record(
        pvc,
        "Normal",
        "ProvisioningSucceeded",
        `Successfully provisioned volume ${want.metadata.name} using ${LOCAL_PATH_PROVISIONER}`,
        COMPONENT,
      );
    }
    await this.bind(pvc, pv, false);
  }

  /** upstream bind(): volume first, claim last; each step only when it differs */
  private async bind(pvc: KubeObject, pv: KubeObject, byController: boolean): Promise<void> {
    const ns = pvc.metadata.namespace!;
    const pvName = pv.metadata.name!;
    const ref = pvSpec(pv).claimRef;
    if (!ref || ref.uid !== pvc.metadata.uid || ref.name !== pvc.metadata.name) {
      pv = await this.deps.client.mutate(refs.persistentvolumes, undefined, pvName, (cur) => ({
        ...cur,
        metadata: {
          ...cur.metadata,
          annotations: {
            ...cur.metadata.annotations,
            ...(byController ? { [ANN_BOUND_BY_CONTROLLER]: "yes" } : {}),
          },
        },
        spec: { ...(cur.spec as object), claimRef: claimRefOf(pvc) },
      }));
    }
    if (phaseOf(pv) !== "Bound") pv = await this.setPhase(refs.persistentvolumes, undefined, pv, "Bound");
    const ann = pvc.metadata.annotations ?? {};
    if (pvcSpec(pvc).volumeName !== pvName || ann[ANN_BIND_COMPLETED] !== "yes") {
      pvc = await this.deps.client.mutate(refs.persistentvolumeclaims, ns, pvc.metadata.name!, (cur) => ({
        ...cur,
        metadata: {
          ...cur.metadata,
          annotations: {
            ...cur.metadata.annotations,
            [ANN_BIND_COMPLETED]: "yes",
            ...(byController ? { [ANN_BOUND_BY_CONTROLLER]: "yes" } : {}),
          },
        },
        spec: { ...(cur.spec as object), volumeName: pvName },
      }));
    }
    const st = (pvc.status ?? {}) as {
      phase?: string;
      accessModes?: string[];
      capacity?: Record<string, string>;
    };
    const want = {
      phase: "Bound",
      accessModes: pvSpec(pv).accessModes ?? [],
      capacity: pvSpec(pv).capacity ?? {},
    };
    if (
      st.phase !== "Bound" ||
      JSON.stringify([st.accessModes, st.capacity]) !== JSON.stringify([want.accessModes, want.capacity])
    ) {
      await this.deps.client.mutate(
        refs.persistentvolumeclaims,
        ns,
        pvc.metadata.name!,
        (cur) => ({ ...cur, status: { ...(cur.status as object), ...want } }),
        { status: true },
      );
    }
  }

  private setPhase(
    ref: typeof refs.persistentvolumes | typeof refs.persistentvolumeclaims,
    ns: string | undefined,
    obj: KubeObject,
    phase: string,
  ): Promise<KubeObject> {
    return this.deps.client.mutate(
      ref,
      ns,
      obj.metadata.name!,
      (cur) => ({ ...cur, status: { ...(cur.status as object), phase } }),
      { status: true },
    );
  }

  private async syncVolume(name: string): Promise<void> {
    let pv = this.volumes.get(name);
    if (!pv) return;
    // a volume deleted while bound (pv-protection holds it) still goes Released when its claim
    // is gone, which is what lets that finalizer go; nothing else is done to it
    const deleting = !!pv.metadata.deletionTimestamp;
    if (
      !deleting &&
      pv.metadata.annotations?.[ANN_PROVISIONED_BY] === LOCAL_PATH_PROVISIONER &&
      !pv.metadata.finalizers?.includes(LOCAL_PATH_FINALIZER)
    ) {
      pv = await this.adoptForCleanup(pv);
    }
    const ref = pvSpec(pv).claimRef;
    if (!ref?.name) {
      if (deleting) return;
      if (phaseOf(pv) !== "Available")
        await this.setPhase(refs.persistentvolumes, undefined, pv, "Available");
      // a new free volume may serve a waiting claim
      for (const c of this.claims.list(
        (c) => !pvcSpec(c).volumeName && claimClass(c) === (pvSpec(pv).storageClassName ?? ""),
      ))
        this.queue.add(`claim:${objectKey(c)}`);
      return;
    }
    const claim = this.claims.get(`${ref.namespace}/${ref.name}`);
    if (claim && (!ref.uid || claim.metadata.uid === ref.uid)) {
      if (deleting) return;
      if (pvcSpec(claim).volumeName === name && phaseOf(pv) !== "Bound")
        await this.setPhase(refs.persistentvolumes, undefined, pv, "Bound");
      else if (pvcSpec(claim).volumeName !== name) this.queue.add(`claim:${objectKey(claim)}`);
      return;
    }
    if (!ref.uid) return; // pre-bound to a claim that does not exist yet: wait for it
    // the claim is gone: release, then reclaim
    if (phaseOf(pv) !== "Released" && phaseOf(pv) !== "Failed") {
      await this.setPhase(refs.persistentvolumes, undefined, pv, "Released");
    }
    const policy = pvSpec(pv).persistentVolumeReclaimPolicy ?? "Retain";
    if (
      !deleting &&
      policy === "Delete" &&
      pv.metadata.annotations?.[ANN_PROVISIONED_BY] === LOCAL_PATH_PROVISIONER
    ) {
      await this.deps.client.delete(refs.persistentvolumes, undefined, name).catch((e) => {
        if (!isNotFound(e)) throw e;
      });
    }
  }

  /** a volume provisioned before the cleanup finalizer existed: add it and the node annotation */
  private adoptForCleanup(pv: KubeObject): Promise<KubeObject> {
    return this.deps.client.mutate(refs.persistentvolumes, undefined, pv.metadata.name!, (cur) => {
      const terms = pvSpec(cur).nodeAffinity?.required?.nodeSelectorTerms ?? [];
      const node = terms[0]?.matchExpressions?.find((e) => e.key === HOSTNAME_LABEL)?.values?.[0];
      const ann = { ...cur.metadata.annotations };
      if (node && !ann[LOCAL_PATH_NODE_ANNOTATION]) ann[LOCAL_PATH_NODE_ANNOTATION] = node;
      const finalizers = [...(cur.metadata.finalizers ?? [])];
      if (!finalizers.includes(LOCAL_PATH_FINALIZER)) finalizers.push(LOCAL_PATH_FINALIZER);
      return { ...cur, metadata: { ...cur.metadata, annotations: ann, finalizers } };
    });
  }
}
