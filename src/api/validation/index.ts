/**
 * validateCreate / validateUpdate: the API's admission-time checks for every built-in kind,
 * returning upstream-worded field causes ([] = valid) for ApiError.invalid.
 *
 * Call order, as on a real apiserver: setDefaults(group, kind, obj) first, then validate.
 * Unknown kinds (CRDs) get metadata checks only; their schemas are checked elsewhere.
 */
import type { StatusCause } from "../errors.js";
import type { JsonObject, KubeObject } from "../object.js";
import {
  validateEvent,
  validateLease,
  validateNamespace,
  validateNode,
  validateNodeUpdate,
  validatePodDisruptionBudget,
  validateRole,
  validateRoleBinding,
  validateRoleBindingUpdate,
} from "./cluster.js";
import {
  validateConfigMap,
  validateConfigMapUpdate,
  validateSecret,
  validateSecretUpdate,
} from "./config.js";
import { validateCronJob, validateJob, validateJobUpdate } from "./job.js";
import { type MetaOptions, validateObjectMeta, validateObjectMetaUpdate } from "./metadata.js";
import { validatePodSpec, validatePodTemplateSpec, validatePodUpdate } from "./pod.js";
import {
  type ServiceOptions,
  validateEndpointSlice,
  validateEndpoints,
  validateIngress,
  validateService,
  validateServiceUpdate,
} from "./service.js";
import {
  validatePersistentVolume,
  validatePersistentVolumeClaim,
  validatePersistentVolumeClaimUpdate,
  validateStorageClass,
  validateStorageClassUpdate,
} from "./storage.js";
import {
  validateDaemonSet,
  validateDeployment,
  validateReplicaSet,
  validateReplicationController,
  validateSelectorUpdate,
  validateStatefulSet,
  validateStatefulSetUpdate,
} from "./workloads.js";

export * from "./cluster.js";
export * from "./config.js";
export * from "./container.js";
export * from "./job.js";
export * from "./labels.js";
export * from "./metadata.js";
export * from "./pod.js";
export * from "./service.js";
export * from "./storage.js";
export * from "./util.js";
export * from "./workloads.js";

export interface ValidateOptions extends MetaOptions, ServiceOptions {}

type Check = (o: JsonObject, opts: ValidateOptions) => StatusCause[];
type UpdateCheck = (o: JsonObject, old: JsonObject) => StatusCause[];

const RBAC = "rbac.authorization.k8s.io";
const podSpec = (o: JsonObject): StatusCause[] => validatePodSpec(o.spec, "spec");

const SPEC_CHECKS: Record<string, Check> = {
  "/Pod": podSpec,
  "/PodTemplate": (o) => validatePodTemplateSpec(o.template, "template"),
  "/ReplicationController": validateReplicationController,
  "/Service": validateService,
  "/Endpoints": validateEndpoints,
  "/ConfigMap": validateConfigMap,
  "/Secret": validateSecret,
  "/Namespace": validateNamespace,
  "/Node": validateNode,
  "/PersistentVolume": validatePersistentVolume,
  "/PersistentVolumeClaim": validatePersistentVolumeClaim,
  "/Event": validateEvent,
  "apps/Deployment": validateDeployment,
  "apps/ReplicaSet": validateReplicaSet,
  "apps/DaemonSet": validateDaemonSet,
  "apps/StatefulSet": validateStatefulSet,
  "batch/Job": validateJob,
  "batch/CronJob": validateCronJob,
  "networking.k8s.io/Ingress": validateIngress,
  "discovery.k8s.io/EndpointSlice": validateEndpointSlice,
  "storage.k8s.io/StorageClass": validateStorageClass,
  "coordination.k8s.io/Lease": validateLease,
  "policy/PodDisruptionBudget": validatePodDisruptionBudget,
  [`${RBAC}/Role`]: (o) => validateRole(o, true),
  [`${RBAC}/ClusterRole`]: (o) => (o.aggregationRule ? [] : validateRole(o, false)),
  [`${RBAC}/RoleBinding`]: (o) => validateRoleBinding(o, true),
  [`${RBAC}/ClusterRoleBinding`]: (o) => validateRoleBinding(o, false),
};

const UPDATE_CHECKS: Record<string, UpdateCheck> = {
  "/Pod": validatePodUpdate,
  "/Service": validateServiceUpdate,
  "/ConfigMap": validateConfigMapUpdate,
  "/Secret": validateSecretUpdate,
  "/Node": validateNodeUpdate,
  "/PersistentVolumeClaim": validatePersistentVolumeClaimUpdate,
  "apps/Deployment": validateSelectorUpdate,
  "apps/ReplicaSet": validateSelectorUpdate,
  "apps/DaemonSet": validateSelectorUpdate,
  "apps/StatefulSet": (o, old) => [...validateSelectorUpdate(o, old), ...validateStatefulSetUpdate(o, old)],
  "batch/Job": validateJobUpdate,
  "storage.k8s.io/StorageClass": validateStorageClassUpdate,
  [`${RBAC}/RoleBinding`]: validateRoleBindingUpdate,
  [`${RBAC}/ClusterRoleBinding`]: validateRoleBindingUpdate,
};

/** Causes that make `obj` invalid to create; [] when valid. */
export function validateCreate(
  group: string,
  kind: string,
  obj: KubeObject,
  opts: ValidateOptions = {},
): StatusCause[] {
  const k = `${group}/${kind}`;
  return [...validateObjectMeta(group, kind, obj.metadata, opts), ...(SPEC_CHECKS[k]?.(obj, opts) ?? [])];
}

/** Causes that make replacing `old` by `obj` invalid; [] when valid. Pod's own update check
 * already covers metadata, so it is not repeated. */
export function validateUpdate(
  group: string,
  kind: string,
  obj: KubeObject,
  old: KubeObject,
  opts: ValidateOptions = {},
): StatusCause[] {
  const k = `${group}/${kind}`;
  const meta = k === "/Pod" ? [] : validateObjectMetaUpdate(obj.metadata, old.metadata);
  // CronJob's name-length rule is a create-time rule upstream too; other spec rules re-run
  const spec = SPEC_CHECKS[k]?.(obj, opts) ?? [];
  return [...meta, ...spec, ...(UPDATE_CHECKS[k]?.(obj, old) ?? [])];
}
