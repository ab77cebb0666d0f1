/**
 * Patch schemas of the built-in kinds, transcribed from the `patchStrategy` / `patchMergeKey`
 * struct tags of k8s.io/api (core/v1, apps/v1, batch/v1, policy/v1, autoscaling/v2, storage/v1,
 * admissionregistration/v1) and k8s.io/apimachinery meta/v1, plus the `+structType=atomic` /
 * `+mapType=atomic` markers SSA reads.
 *
 * Notes on facts that surprise people (checked against the tags, not guessed):
 * - Node spec.taints, pod tolerations, container command/args, EndpointSubset lists and
 *   containerStatuses carry no tags: strategic merge replaces them whole.
 * - topologySpreadConstraints merge by topologyKey only (SSA upstream also keys on
 *   whenUnsatisfiable; we use the SMP key for both, see index.ts).
 * - volumes and resourceClaims are "merge,retainKeys"; retainKeys only shapes diffs that clients
 *   compute, applying a patch honours `$retainKeys` wherever it appears.
 * - metav1.LabelSelector is atomic for SSA; PodDisruptionBudget's selector is also
 *   patchStrategy "replace" for SMP.
 */
import { type GroupKind, type PatchSchema, sch } from "./schema.js";

const { obj, struct, mergeBy, set, atomic } = sch;

const byType = mergeBy("type");
const withConditions = (fields: Record<string, PatchSchema> = {}): PatchSchema =>
  struct({ conditions: byType, ...fields });

export const objectMeta: PatchSchema = struct({
  ownerReferences: mergeBy("uid", atomic),
  finalizers: set,
});

const envVar = obj({
  valueFrom: obj({
    configMapKeyRef: atomic,
    secretKeyRef: atomic,
    fieldRef: atomic,
    resourceFieldRef: atomic,
  }),
});

const container = obj({
  ports: mergeBy("containerPort"),
  env: mergeBy("name", envVar),
  volumeMounts: mergeBy("mountPath"),
  volumeDevices: mergeBy("devicePath"),
  resources: struct(),
});

export const podSpec: PatchSchema = struct({
  volumes: mergeBy("name"),
  initContainers: mergeBy("name", container),
  containers: mergeBy("name", container),
  ephemeralContainers: mergeBy("name", container),
  imagePullSecrets: mergeBy("name", atomic),
  hostAliases: mergeBy("ip"),
  topologySpreadConstraints: mergeBy("topologyKey"),
  schedulingGates: mergeBy("name"),
  resourceClaims: mergeBy("name"),
  nodeSelector: atomic,
  affinity: obj({ nodeAffinity: obj({ requiredDuringSchedulingIgnoredDuringExecution: atomic }) }),
});

const podStatus = withConditions({
  hostIPs: mergeBy("ip"),
  podIPs: mergeBy("ip"),
  resourceClaimStatuses: mergeBy("name"),
});

export const podTemplateSpec: PatchSchema = struct({ metadata: objectMeta, spec: podSpec });

const labelSelector = atomic;

/** The shared shape of Deployment, ReplicaSet, StatefulSet, DaemonSet specs. */
const workloadSpec = struct({ selector: labelSelector, template: podTemplateSpec });

const jobSpec = struct({ selector: labelSelector, template: podTemplateSpec });

const kind = (fields: Record<string, PatchSchema>): PatchSchema =>
  struct({ metadata: objectMeta, ...fields });

const metaOnly = kind({});

/** group → kind → schema */
const BUILTIN: Readonly<Record<string, Readonly<Record<string, PatchSchema>>>> = {
  "": {
    Pod: kind({ spec: podSpec, status: podStatus }),
    PodTemplate: kind({ template: podTemplateSpec }),
    ReplicationController: kind({
      spec: struct({ selector: atomic, template: podTemplateSpec }),
      status: withConditions(),
    }),
    Service: kind({
      spec: struct({ ports: mergeBy("port"), selector: atomic }),
      status: withConditions(),
    }),
    Node: kind({
      spec: struct({ podCIDRs: set }),
      status: withConditions({ addresses: byType }),
    }),
    Namespace: kind({ status: withConditions() }),
    PersistentVolumeClaim: kind({ status: withConditions() }),
    ServiceAccount: kind({ secrets: mergeBy("name", atomic) }),
    ComponentStatus: kind({ conditions: byType }),
    ConfigMap: metaOnly,
    Secret: metaOnly,
    Endpoints: metaOnly,
    Event: metaOnly,
    PersistentVolume: metaOnly,
    LimitRange: metaOnly,
    ResourceQuota: metaOnly,
    Binding: metaOnly,
  },
  apps: {
    Deployment: kind({ spec: workloadSpec, status: withConditions() }),
    ReplicaSet: kind({ spec: workloadSpec, status: withConditions() }),
    StatefulSet: kind({ spec: workloadSpec, status: withConditions() }),
    DaemonSet: kind({ spec: workloadSpec, status: withConditions() }),
    ControllerRevision: metaOnly,
  },
  batch: {
    Job: kind({ spec: jobSpec, status: withConditions() }),
    CronJob: kind({ spec: struct({ jobTemplate: struct({ metadata: objectMeta, spec: jobSpec }) }) }),
  },
  policy: {
    PodDisruptionBudget: kind({
      spec: struct({ selector: { atomic: true, patchStrategy: "replace" } }),
      status: withConditions(),
    }),
  },
  autoscaling: {
    HorizontalPodAutoscaler: kind({ status: withConditions() }),
    Scale: metaOnly,
  },
  "storage.k8s.io": {
    CSINode: kind({ spec: struct({ drivers: mergeBy("name") }) }),
  },
  "admissionregistration.k8s.io": {
    ValidatingWebhookConfiguration: kind({
      webhooks: mergeBy("name", obj({ matchConditions: mergeBy("name") })),
    }),
    MutatingWebhookConfiguration: kind({
      webhooks: mergeBy("name", obj({ matchConditions: mergeBy("name") })),
    }),
  },
  "networking.k8s.io": {
    ServiceCIDR: kind({ status: withConditions() }),
  },
};

/**
 * API groups whose kinds are compiled into upstream's apiserver (so strategic merge works on
 * every kind in them, with ObjectMeta's rules at least). Custom resources live elsewhere.
 */
export const BUILTIN_GROUPS: ReadonlySet<string> = new Set([
  "",
  "apps",
  "batch",
  "policy",
  "autoscaling",
  "networking.k8s.io",
  "discovery.k8s.io",
  "coordination.k8s.io",
  "rbac.authorization.k8s.io",
  "storage.k8s.io",
  "events.k8s.io",
  "scheduling.k8s.io",
  "node.k8s.io",
  "certificates.k8s.io",
  "admissionregistration.k8s.io",
  "apiextensions.k8s.io",
  "apiregistration.k8s.io",
  "flowcontrol.apiserver.k8s.io",
  "authentication.k8s.io",
  "authorization.k8s.io",
  "resource.k8s.io",
]);

/** Strategic merge needs tag data; upstream rejects it (415) for custom resources. */
export function supportsStrategicMerge(gk: GroupKind): boolean {
  return BUILTIN_GROUPS.has(gk.group);
}

/**
 * The schema of a kind: the table entry, ObjectMeta's rules for other built-ins, and for
 * custom resources the same (SSA treats an unknown kind's metadata like any object's).
 */
export function schemaFor(gk: GroupKind): PatchSchema {
  return BUILTIN[gk.group]?.[gk.kind] ?? metaOnly;
}
