/**
 * Pod defaults: core/v1 SetDefaults_PodSpec/Container/Volume/Probe plus the admission
 * plugins that every real cluster runs on pod create (ServiceAccount, Priority,
 * DefaultTolerationSeconds).
 *
 * Design notes:
 * - Spec-level defaults apply to every PodSpec, including templates inside workloads, so a
 *   Deployment read back shows `dnsPolicy: ClusterFirst` etc. as upstream does.
 * - Admission defaults (service account, priority, not-ready/unreachable tolerations,
 *   enableServiceLinks, requests copied from limits) apply to Pods only: upstream runs them
 *   on pods, and templates read back without them.
 * - Everything is "fill when absent"; a value the user gave is never changed, so defaulting
 *   twice (create, then update) is a no-op.
 */

import { ensureObject, objAt, objectsAt, setDefault } from "../json-access.js";
import type { JsonObject } from "../object.js";
import { isObject } from "../object.js";

export const DEFAULT_TOLERATION_SECONDS = 300;
export const NOT_READY_TAINT = "node.kubernetes.io/not-ready";
export const UNREACHABLE_TAINT = "node.kubernetes.io/unreachable";

/** upstream: "latest" (explicit or implied) pulls Always, anything else IfNotPresent */
export function defaultPullPolicy(image: string): "Always" | "IfNotPresent" {
  if (image.includes("@")) return "IfNotPresent";
  const lastSlash = image.lastIndexOf("/");
  const colon = image.indexOf(":", lastSlash + 1);
  const tag = colon < 0 ? "latest" : image.slice(colon + 1);
  return tag === "latest" ? "Always" : "IfNotPresent";
}

function setHandlerDefaults(handler: JsonObject): void {
  if (isObject(handler.httpGet)) {
    setDefault(handler.httpGet, "path", "/");
    setDefault(handler.httpGet, "scheme", "HTTP");
  }
}

function setProbeDefaults(probe: JsonObject): void {
  setDefault(probe, "timeoutSeconds", 1);
  setDefault(probe, "periodSeconds", 10);
  setDefault(probe, "successThreshold", 1);
  setDefault(probe, "failureThreshold", 3);
  setHandlerDefaults(probe);
}

function setFieldRefDefaults(fieldRef: unknown): void {
  if (isObject(fieldRef)) setDefault(fieldRef, "apiVersion", "v1");
}

export function setContainerDefaults(c: JsonObject): void {
  if (typeof c.image === "string") setDefault(c, "imagePullPolicy", defaultPullPolicy(c.image));
  setDefault(c, "terminationMessagePath", "/dev/termination-log");
  setDefault(c, "terminationMessagePolicy", "File");
  setDefault(c, "resources", {});
  for (const p of objectsAt(c.ports)) setDefault(p, "protocol", "TCP");
  for (const e of objectsAt(c.env)) setFieldRefDefaults(objAt(e.valueFrom).fieldRef);
  for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
    if (isObject(c[probe])) setProbeDefaults(c[probe]);
  }
  if (isObject(c.lifecycle)) {
    for (const h of ["postStart", "preStop"])
      if (isObject(c.lifecycle[h])) setHandlerDefaults(c.lifecycle[h]);
  }
}

const VOLUME_SOURCES = [
  "hostPath",
  "emptyDir",
  "gcePersistentDisk",
  "awsElasticBlockStore",
  "gitRepo",
  "secret",
  "nfs",
  "iscsi",
  "glusterfs",
  "persistentVolumeClaim",
  "rbd",
  "flexVolume",
  "cinder",
  "cephfs",
  "flocker",
  "downwardAPI",
  "fc",
  "azureFile",
  "configMap",
  "vsphereVolume",
  "quobyte",
  "azureDisk",
  "photonPersistentDisk",
  "projected",
  "portworxVolume",
  "scaleIO",
  "storageos",
  "csi",
  "ephemeral",
  "image",
] as const;
export const VOLUME_SOURCE_KEYS: readonly string[] = VOLUME_SOURCES;

export function setVolumeDefaults(v: JsonObject): void {
  if (!VOLUME_SOURCES.some((k) => v[k] !== undefined && v[k] !== null)) v.emptyDir = {};
  for (const k of ["secret", "configMap", "downwardAPI", "projected"]) {
    if (isObject(v[k])) setDefault(v[k], "defaultMode", 420);
  }
  if (isObject(v.hostPath)) setDefault(v.hostPath, "type", "");
  for (const item of objectsAt(objAt(v.downwardAPI).items)) setFieldRefDefaults(item.fieldRef);
  for (const src of objectsAt(objAt(v.projected).sources)) {
    if (isObject(src.serviceAccountToken)) setDefault(src.serviceAccountToken, "expirationSeconds", 3600);
    for (const item of objectsAt(objAt(src.downwardAPI).items)) setFieldRefDefaults(item.fieldRef);
  }
  if (isObject(v.ephemeral) && isObject(v.ephemeral.volumeClaimTemplate)) {
    setDefault(ensureObject(v.ephemeral.volumeClaimTemplate, "spec"), "volumeMode", "Filesystem");
  }
}

export interface PodSpecDefaultOptions {
  /** Job templates keep restartPolicy as given (validation demands OnFailure/Never) */
  readonly keepRestartPolicy?: boolean;
}

export function setPodSpecDefaults(spec: JsonObject, opts: PodSpecDefaultOptions = {}): void {
  setDefault(spec, "dnsPolicy", "ClusterFirst");
  if (!opts.keepRestartPolicy) setDefault(spec, "restartPolicy", "Always");
  setDefault(spec, "terminationGracePeriodSeconds", 30);
  setDefault(spec, "securityContext", {});
  setDefault(spec, "schedulerName", "default-scheduler");
  // v1 keeps the deprecated `serviceAccount` in step with `serviceAccountName`
  if (typeof spec.serviceAccountName !== "string" || spec.serviceAccountName === "") {
    if (typeof spec.serviceAccount === "string" && spec.serviceAccount !== "") {
      spec.serviceAccountName = spec.serviceAccount;
    }
  }
  if (typeof spec.serviceAccountName === "string" && spec.serviceAccountName !== "") {
    spec.serviceAccount = spec.serviceAccountName;
  }
  for (const list of ["initContainers", "containers", "ephemeralContainers"]) {
    for (const c of objectsAt(spec[list])) {
      setContainerDefaults(c);
      if (spec.hostNetwork === true && list !== "ephemeralContainers") {
        for (const p of objectsAt(c.ports)) setDefault(p, "hostPort", p.containerPort);
      }
    }
  }
  for (const v of objectsAt(spec.volumes)) setVolumeDefaults(v);
}

export function setPodTemplateDefaults(template: JsonObject, opts: PodSpecDefaultOptions = {}): void {
  // upstream serialises the template's zero-valued creationTimestamp as null
  const meta = ensureObject(template, "metadata");
  if (!("creationTimestamp" in meta)) meta.creationTimestamp = null;
  setPodSpecDefaults(ensureObject(template, "spec"), opts);
}

function tolerates(tolerations: JsonObject[], taintKey: string): boolean {
  return tolerations.some(
    (t) =>
      (t.key === taintKey || t.key === undefined || t.key === "") &&
      (t.effect === "NoExecute" || t.effect === undefined || t.effect === ""),
  );
}

/** SetDefaults_Pod plus the admission defaults a Pod gets on create. */
export function setPodDefaults(pod: JsonObject): void {
  const spec = ensureObject(pod, "spec");
  setPodSpecDefaults(spec);
  setDefault(spec, "enableServiceLinks", true);
  // ServiceAccount admission
  setDefault(spec, "serviceAccountName", "default");
  spec.serviceAccount = spec.serviceAccountName;
  // Priority admission: no class named means the global default of 0
  if (spec.priorityClassName === undefined || spec.priorityClassName === "") setDefault(spec, "priority", 0);
  setDefault(spec, "preemptionPolicy", "PreemptLowerPriority");
  // DefaultTolerationSeconds admission
  const tolerations = objectsAt(spec.tolerations);
  const added: JsonObject[] = [];
  for (const key of [NOT_READY_TAINT, UNREACHABLE_TAINT]) {
    if (!tolerates(tolerations, key)) {
      added.push({
        key,
        operator: "Exists",
        effect: "NoExecute",
        tolerationSeconds: DEFAULT_TOLERATION_SECONDS,
      });
    }
  }
  if (added.length > 0)
    spec.tolerations = [...(Array.isArray(spec.tolerations) ? spec.tolerations : []), ...added];
  // a container that states limits but no requests requests its limits
  for (const list of ["initContainers", "containers"]) {
    for (const c of objectsAt(spec[list])) {
      const res = objAt(c.resources);
      if (!isObject(res.limits)) continue;
      const requests = ensureObject(res, "requests");
      for (const [k, q] of Object.entries(res.limits)) if (!(k in requests)) requests[k] = q;
    }
  }
}
