/**
 * What the garbage collector watches and how it finds an owner from an ownerReference
 * (apiVersion + kind → resource, and whether it is namespaced). Upstream discovers every
 * deletable resource; the hub watches the kinds that carry ownerReferences in practice and
 * resolves other owner kinds by a live GET only.
 */
import { parseApiVersion } from "../../../api/object.js";
import { type ResourceRef, refs } from "../../../client/client.js";

export interface GcResource {
  ref: ResourceRef;
  kind: string;
  namespaced: boolean;
}

const r = (ref: ResourceRef, kind: string, namespaced = true): GcResource => ({ ref, kind, namespaced });

/** kinds watched: their objects are dependents and owners in the graph */
export function defaultGcResources(): GcResource[] {
  return [
    r(refs.pods, "Pod"),
    r(refs.replicasets, "ReplicaSet"),
    r(refs.deployments, "Deployment"),
    r(refs.daemonsets, "DaemonSet"),
    r(refs.statefulsets, "StatefulSet"),
    r(refs.controllerrevisions, "ControllerRevision"),
    r(refs.jobs, "Job"),
    r(refs.cronjobs, "CronJob"),
    r(refs.services, "Service"),
    r(refs.endpointslices, "EndpointSlice"),
    r(refs.configmaps, "ConfigMap"),
    r(refs.secrets, "Secret"),
    r(refs.persistentvolumeclaims, "PersistentVolumeClaim"),
  ];
}

/** owner kinds not watched but resolvable by GET */
const EXTRA_OWNERS: GcResource[] = [
  r(refs.nodes, "Node", false),
  r(refs.namespaces, "Namespace", false),
  r(refs.persistentvolumes, "PersistentVolume", false),
  r(refs.serviceaccounts, "ServiceAccount"),
  r(refs.endpoints, "Endpoints"),
  r(refs.leases, "Lease"),
  r(refs.poddisruptionbudgets, "PodDisruptionBudget"),
  r(refs.storageclasses, "StorageClass", false),
  r(refs.customresourcedefinitions, "CustomResourceDefinition", false),
];

export class KindTable {
  private readonly byGK = new Map<string, GcResource>();

  constructor(watched: readonly GcResource[]) {
    for (const x of [...EXTRA_OWNERS, ...watched]) this.byGK.set(`${x.ref.group}/${x.kind}`, x);
  }

  /** the resource of an ownerReference, undefined for kinds the hub cannot resolve */
  lookup(apiVersion: string, kind: string): GcResource | undefined {
    return this.byGK.get(`${parseApiVersion(apiVersion).group}/${kind}`);
  }
}
