/**
 * The scheduler's read side: a pending pod's filter inputs (PodConstraints), gathered from the
 * hub's informer caches of PVCs, PVs, StorageClasses and Namespaces and from the SchedulerCache.
 *
 * Design notes
 * - Reads only, and synchronously: the scheduler decides and assumes a pod with no await in
 *   between, so concurrent reconciles never double-book a node; nothing here may await.
 * - Cached objects are read-only: they are looked at, never changed.
 * - Volumes (upstream's VolumeBinding PreFilter): a claim that is missing or being deleted fails
 *   the pod before any node is looked at (the string result, which becomes the FailedScheduling
 *   message); a bound claim's PV node affinity restricts the nodes; an unbound local-path claim
 *   must fit a node's reported free storage, less claims already in flight there
 *   (volume-capacity.ts).
 * - Namespace labels are read per term, for pod affinity terms with a namespaceSelector.
 * - Inter-pod affinity and topology spreading read the placed pods from the cache
 *   (prepareRelations, once per decision).
 */
import type { PersistentVolume, PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1";
import type { KubeObject } from "../../api/object.js";
import type { InformerCache } from "../../client/informer.js";
import type { SchedulerCache } from "./node-info.js";
import type { PodInfo } from "./pod-info.js";
import { type PodConstraints, podConstraints, prepareRelations } from "./predicates.js";
import { type StorageNeed, storageNeeds } from "./volume-capacity.js";

export interface ConstraintSources {
  cache: SchedulerCache;
  pvcs: InformerCache;
  pvs: InformerCache;
  namespaces: InformerCache;
  classes: InformerCache;
}

export class ConstraintReader {
  constructor(private readonly src: ConstraintSources) {}

  /** the pod's filter inputs, or a pre-filter failure message (a missing PVC) */
  constraints(pod: Pod, info: PodInfo): PodConstraints | string {
    const volumeAffinity = [];
    for (const claim of info.claims) {
      const pvc = this.src.pvcs.get(`${info.namespace}/${claim}`) as unknown as
        | PersistentVolumeClaim
        | undefined;
      if (!pvc) return `persistentvolumeclaim "${claim}" not found`;
      // upstream VolumeBinding PreFilter: pvc-protection lets the claim go once no scheduled pod uses it
      if (pvc.metadata?.deletionTimestamp) return `persistentvolumeclaim "${claim}" is being deleted`;
      const volume = pvc.spec?.volumeName;
      if (!volume) continue; // unbound: the volume binder follows the scheduler's choice
      const pv = this.src.pvs.get(volume) as unknown as PersistentVolume | undefined;
      const required = pv?.spec?.nodeAffinity?.required;
      if (required) volumeAffinity.push(required);
    }
    const nsLabels = (ns: string) => this.src.namespaces.get(ns)?.metadata.labels;
    return prepareRelations(
      podConstraints(pod, info, volumeAffinity, nsLabels, this.storageNeeds(info)),
      this.src.cache.list(),
    );
  }

  /** the pod's unbound local-path claims and what each will take on the node's disk */
  storageNeeds(info: PodInfo): StorageNeed[] {
    if (info.claims.length === 0) return [];
    const claims = info.claims
      .map((name) => this.src.pvcs.get(`${info.namespace}/${name}`))
      .filter((c): c is KubeObject => !!c && !(c.spec as { volumeName?: string } | undefined)?.volumeName);
    if (claims.length === 0) return [];
    return storageNeeds(info.namespace, claims, (name) => this.src.classes.get(name), this.src.pvs.list());
  }
}
