/**
 * What a pod needs on its node besides itself: the ConfigMaps, Secrets and PVCs it names
 * (volumes, projected sources, env valueFrom, envFrom, imagePullSecrets, generic ephemeral
 * volumes), as sync keys. Pure; the desired index turns these into per-node sets.
 *
 * Sync keys are the storage key without `/registry/`: `<group|core>/<resource>/<ns>/<name>`
 * for namespaced objects, `<group|core>/<resource>/<name>` for cluster-scoped ones.
 */
import { isObject, type KubeObject } from "../../api/object.js";

export const REGISTRY_PREFIX = "/registry/";

/** sync key of an object given its resource path (`core/pods`) */
export function syncKey(resource: string, namespace: string | undefined, name: string): string {
  return namespace ? `${resource}/${namespace}/${name}` : `${resource}/${name}`;
}

export const POD = "core/pods";
export const CONFIGMAP = "core/configmaps";
export const SECRET = "core/secrets";
export const PVC = "core/persistentvolumeclaims";
export const PV = "core/persistentvolumes";
export const SERVICE = "core/services";
export const NODE = "core/nodes";
export const ENDPOINTSLICE = "discovery.k8s.io/endpointslices";

/** resources whose objects every node receives */
export const GLOBAL_RESOURCES = [SERVICE, ENDPOINTSLICE, NODE];
/** resources a node receives only when its pods need them */
export const SCOPED_RESOURCES = [POD, CONFIGMAP, SECRET, PVC, PV];

function arr(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

function str(o: unknown, field: string): string | undefined {
  if (!isObject(o)) return undefined;
  const v = o[field];
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** Sync keys of the namespaced objects a pod references (the pod itself not included). */
export function podReferences(pod: KubeObject): string[] {
  const ns = pod.metadata.namespace ?? "default";
  const podName = pod.metadata.name ?? "";
  const spec = isObject(pod.spec) ? pod.spec : {};
  const out = new Set<string>();
  const add = (resource: string, name: string | undefined) => {
    if (name) out.add(syncKey(resource, ns, name));
  };

  for (const v of arr(spec.volumes)) {
    add(CONFIGMAP, str(v.configMap, "name"));
    add(SECRET, str(v.secret, "secretName"));
    add(PVC, str(v.persistentVolumeClaim, "claimName"));
    // generic ephemeral volume: the PVC is named <pod>-<volume> (upstream's naming)
    if (isObject(v.ephemeral) && typeof v.name === "string") add(PVC, `${podName}-${v.name}`);
    for (const s of arr(isObject(v.projected) ? v.projected.sources : undefined)) {
      add(CONFIGMAP, str(s.configMap, "name"));
      add(SECRET, str(s.secret, "name"));
    }
  }
  for (const list of [spec.containers, spec.initContainers, spec.ephemeralContainers]) {
    for (const c of arr(list)) {
      for (const e of arr(c.env)) {
        const from = isObject(e.valueFrom) ? e.valueFrom : {};
        add(CONFIGMAP, str(from.configMapKeyRef, "name"));
        add(SECRET, str(from.secretKeyRef, "name"));
      }
      for (const e of arr(c.envFrom)) {
        add(CONFIGMAP, str(e.configMapRef, "name"));
        add(SECRET, str(e.secretRef, "name"));
      }
    }
  }
  for (const s of arr(spec.imagePullSecrets)) add(SECRET, str(s, "name"));
  return [...out];
}

/** The PV a bound PVC names, as a sync key. */
export function claimVolume(pvc: KubeObject): string | undefined {
  const name = str(pvc.spec, "volumeName");
  return name ? syncKey(PV, undefined, name) : undefined;
}

/** The node a pod is bound to, if any. */
export function podNode(pod: KubeObject): string | undefined {
  return str(pod.spec, "nodeName");
}

/** The resource path (`core/pods`) of a sync key. */
export function resourceOf(key: string): string {
  const i = key.indexOf("/");
  const j = key.indexOf("/", i + 1);
  return j < 0 ? key : key.slice(0, j);
}
