/**
 * ObjectMeta validation on create and update (apimachinery ValidateObjectMeta and
 * ValidateObjectMetaUpdate), with the name rule each kind uses upstream.
 *
 * Design notes:
 * - The name rule is per kind: most kinds are DNS-1123 subdomains, Namespaces and
 *   StatefulSets DNS-1123 labels, Services DNS-1035 labels, RBAC kinds path segments.
 *   Getting this wrong lets through names that break DNS or URLs later, so it is a table.
 * - A missing name is accepted when generateName is set: the apiserver may validate before it
 *   generates the name; once generated, the name is checked like any other.
 * - Scope: known cluster-scoped kinds must not carry a namespace; known namespaced kinds must.
 *   Unknown kinds (CRDs) take the caller's `namespaced` or skip the scope check.
 */
import { fieldErr } from "../errors.js";
import {
  type NameValidator,
  nameIsDNS1035Label,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
  nameIsPathSegment,
} from "../names.js";
import { isObject } from "../object.js";
import { validateAnnotations, validateLabelName, validateLabels } from "./labels.js";
import { type Causes, child, immutable, nonNegative } from "./util.js";

const CLUSTER_SCOPED = new Set([
  "/Namespace",
  "/Node",
  "/PersistentVolume",
  "/ComponentStatus",
  "storage.k8s.io/StorageClass",
  "storage.k8s.io/CSIDriver",
  "storage.k8s.io/CSINode",
  "storage.k8s.io/VolumeAttachment",
  "rbac.authorization.k8s.io/ClusterRole",
  "rbac.authorization.k8s.io/ClusterRoleBinding",
  "networking.k8s.io/IngressClass",
  "scheduling.k8s.io/PriorityClass",
  "apiextensions.k8s.io/CustomResourceDefinition",
  "apiregistration.k8s.io/APIService",
  "admissionregistration.k8s.io/MutatingWebhookConfiguration",
  "admissionregistration.k8s.io/ValidatingWebhookConfiguration",
  "certificates.k8s.io/CertificateSigningRequest",
  "node.k8s.io/RuntimeClass",
]);

const NAMESPACED = new Set([
  "/Pod",
  "/PodTemplate",
  "/ReplicationController",
  "/Service",
  "/Endpoints",
  "/ConfigMap",
  "/Secret",
  "/ServiceAccount",
  "/PersistentVolumeClaim",
  "/Event",
  "/LimitRange",
  "/ResourceQuota",
  "apps/Deployment",
  "apps/ReplicaSet",
  "apps/DaemonSet",
  "apps/StatefulSet",
  "apps/ControllerRevision",
  "batch/Job",
  "batch/CronJob",
  "networking.k8s.io/Ingress",
  "networking.k8s.io/NetworkPolicy",
  "policy/PodDisruptionBudget",
  "coordination.k8s.io/Lease",
  "discovery.k8s.io/EndpointSlice",
  "events.k8s.io/Event",
  "autoscaling/HorizontalPodAutoscaler",
  "rbac.authorization.k8s.io/Role",
  "rbac.authorization.k8s.io/RoleBinding",
]);

/** true / false for kinds whose scope we know, undefined for others (CRDs) */
export function isNamespacedKind(group: string, kind: string): boolean | undefined {
  const k = `${group}/${kind}`;
  if (CLUSTER_SCOPED.has(k)) return false;
  if (NAMESPACED.has(k)) return true;
  return undefined;
}

const NAME_RULES: Record<string, NameValidator> = {
  "/Namespace": nameIsDNSLabel,
  "/Service": nameIsDNS1035Label,
  "apps/StatefulSet": nameIsDNSLabel,
  "rbac.authorization.k8s.io/Role": nameIsPathSegment,
  "rbac.authorization.k8s.io/ClusterRole": nameIsPathSegment,
  "rbac.authorization.k8s.io/RoleBinding": nameIsPathSegment,
  "rbac.authorization.k8s.io/ClusterRoleBinding": nameIsPathSegment,
};

export function nameValidatorFor(group: string, kind: string): NameValidator {
  return NAME_RULES[`${group}/${kind}`] ?? nameIsDNSSubdomain;
}

export interface MetaOptions {
  /** overrides the built-in scope table (needed for CRDs) */
  readonly namespaced?: boolean;
}

function validateOwnerReferences(refs: unknown, path: string): Causes {
  if (!Array.isArray(refs)) return [];
  const out: Causes = [];
  const controllers: string[] = [];
  for (const r of refs) {
    const ref = isObject(r) ? r : {};
    const apiVersion = typeof ref.apiVersion === "string" ? ref.apiVersion : "";
    const version = apiVersion.includes("/") ? apiVersion.slice(apiVersion.indexOf("/") + 1) : apiVersion;
    if (version === "")
      out.push(fieldErr.invalid(child(path, "apiVersion"), apiVersion, "version must not be empty"));
    if (!ref.kind) out.push(fieldErr.invalid(child(path, "kind"), ref.kind ?? "", "kind must not be empty"));
    if (!ref.name) out.push(fieldErr.invalid(child(path, "name"), ref.name ?? "", "name must not be empty"));
    if (!ref.uid) out.push(fieldErr.invalid(child(path, "uid"), ref.uid ?? "", "uid must not be empty"));
    if (ref.controller === true) controllers.push(`${String(ref.kind)}/${String(ref.name)}`);
  }
  if (controllers.length > 1) {
    out.push(
      fieldErr.invalid(
        path,
        refs,
        `Only one reference can have Controller set to true. Found "true" in references for ${controllers.join(" and ")}`,
      ),
    );
  }
  return out;
}

function validateFinalizers(finalizers: unknown, path: string): Causes {
  if (!Array.isArray(finalizers)) return [];
  const out: Causes = [];
  const seen = new Set<string>();
  for (const f of finalizers) {
    const s = String(f);
    out.push(...validateLabelName(s, path));
    if (seen.has(s)) out.push(fieldErr.duplicate(path, s));
    seen.add(s);
  }
  return out;
}

/** ValidateObjectMeta for a create */
export function validateObjectMeta(
  group: string,
  kind: string,
  meta: unknown,
  opts: MetaOptions = {},
): Causes {
  const path = "metadata";
  if (!isObject(meta)) return [fieldErr.required(child(path, "name"), "name or generateName is required")];
  const nameFn = nameValidatorFor(group, kind);
  const out: Causes = [];
  const name = typeof meta.name === "string" ? meta.name : "";
  const generateName = typeof meta.generateName === "string" ? meta.generateName : "";
  if (generateName !== "") {
    for (const m of nameFn(generateName, true))
      out.push(fieldErr.invalid(child(path, "generateName"), generateName, m));
  }
  if (name === "") {
    if (generateName === "")
      out.push(fieldErr.required(child(path, "name"), "name or generateName is required"));
  } else {
    for (const m of nameFn(name, false)) out.push(fieldErr.invalid(child(path, "name"), name, m));
  }
  const namespaced = opts.namespaced ?? isNamespacedKind(group, kind);
  const ns = typeof meta.namespace === "string" ? meta.namespace : "";
  if (namespaced === true) {
    if (ns === "") out.push(fieldErr.required(child(path, "namespace")));
    else
      for (const m of nameIsDNSLabel(ns, false)) out.push(fieldErr.invalid(child(path, "namespace"), ns, m));
  } else if (namespaced === false && ns !== "") {
    out.push(fieldErr.forbidden(child(path, "namespace"), "not allowed on this type"));
  }
  out.push(...nonNegative(meta.generation, child(path, "generation")));
  out.push(...validateLabels(meta.labels, child(path, "labels")));
  out.push(...validateAnnotations(meta.annotations, child(path, "annotations")));
  out.push(...validateOwnerReferences(meta.ownerReferences, child(path, "ownerReferences")));
  out.push(...validateFinalizers(meta.finalizers, child(path, "finalizers")));
  return out;
}

/** ValidateObjectMetaUpdate: identity fields are immutable, the rest re-validated */
export function validateObjectMetaUpdate(meta: unknown, old: unknown): Causes {
  const path = "metadata";
  const m = isObject(meta) ? meta : {};
  const o = isObject(old) ? old : {};
  const out: Causes = [];
  if (typeof m.generation === "number" && typeof o.generation === "number" && m.generation < o.generation) {
    out.push(fieldErr.invalid(child(path, "generation"), m.generation, "must not be decremented"));
  }
  out.push(...immutable(m.name ?? "", o.name ?? "", child(path, "name")));
  out.push(...immutable(m.namespace ?? "", o.namespace ?? "", child(path, "namespace")));
  if (o.uid) out.push(...immutable(m.uid ?? "", o.uid, child(path, "uid")));
  if (o.creationTimestamp && m.creationTimestamp) {
    out.push(...immutable(m.creationTimestamp, o.creationTimestamp, child(path, "creationTimestamp")));
  }
  if (o.deletionTimestamp && Array.isArray(m.finalizers)) {
    const had = new Set(Array.isArray(o.finalizers) ? o.finalizers.map(String) : []);
    for (const f of m.finalizers.map(String)) {
      if (!had.has(f)) {
        out.push(
          fieldErr.forbidden(
            child(path, "finalizers"),
            `no new finalizers can be added if the object is being deleted, found new finalizer "${f}"`,
          ),
        );
      }
    }
  }
  out.push(...validateLabels(m.labels, child(path, "labels")));
  out.push(...validateAnnotations(m.annotations, child(path, "annotations")));
  out.push(...validateOwnerReferences(m.ownerReferences, child(path, "ownerReferences")));
  out.push(...validateFinalizers(m.finalizers, child(path, "finalizers")));
  return out;
}
