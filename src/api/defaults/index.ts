/**
 * setDefaults: fill in what a real apiserver fills in on create/update, so objects read back
 * look like upstream's. Dispatch is by API group and kind; unknown kinds (CRDs) are left
 * alone, as upstream has no defaults for them beyond their schema.
 */
import type { JsonObject, KubeObject } from "../object.js";
import {
  setEndpointSliceDefaults,
  setEndpointsDefaults,
  setNamespaceDefaults,
  setNodeDefaults,
  setPvcDefaults,
  setPvDefaults,
  setRoleBindingDefaults,
  setSecretDefaults,
  setServiceDefaults,
  setStorageClassDefaults,
} from "./core.js";
import { setPodDefaults } from "./pod.js";
import {
  setCronJobDefaults,
  setDaemonSetDefaults,
  setDeploymentDefaults,
  setJobDefaults,
  setPodTemplateObjectDefaults,
  setReplicaSetDefaults,
  setReplicationControllerDefaults,
  setStatefulSetDefaults,
} from "./workloads.js";

export * from "./core.js";
export * from "./pod.js";
export * from "./workloads.js";

const DEFAULTERS: Record<string, (o: JsonObject) => void> = {
  "/Pod": setPodDefaults,
  "/PodTemplate": setPodTemplateObjectDefaults,
  "/ReplicationController": setReplicationControllerDefaults,
  "/Service": setServiceDefaults,
  "/Secret": setSecretDefaults,
  "/PersistentVolumeClaim": setPvcDefaults,
  "/PersistentVolume": setPvDefaults,
  "/Namespace": setNamespaceDefaults,
  "/Endpoints": setEndpointsDefaults,
  "/Node": setNodeDefaults,
  "apps/Deployment": setDeploymentDefaults,
  "apps/ReplicaSet": setReplicaSetDefaults,
  "apps/DaemonSet": setDaemonSetDefaults,
  "apps/StatefulSet": setStatefulSetDefaults,
  "batch/Job": setJobDefaults,
  "batch/CronJob": setCronJobDefaults,
  "storage.k8s.io/StorageClass": setStorageClassDefaults,
  "discovery.k8s.io/EndpointSlice": setEndpointSliceDefaults,
  "rbac.authorization.k8s.io/RoleBinding": setRoleBindingDefaults,
  "rbac.authorization.k8s.io/ClusterRoleBinding": setRoleBindingDefaults,
};

/** Mutates `obj` in place; a no-op for kinds without upstream defaults. */
export function setDefaults(group: string, kind: string, obj: KubeObject): void {
  DEFAULTERS[`${group}/${kind}`]?.(obj);
}
