/**
 * The built-in resources the hub serves, as data (names, scope, short names and categories
 * as upstream's discovery reports them).
 */
import { ALL_VERBS, type ResourceInfo, type SubresourceInfo, type Verb } from "./resource-info.js";

const SCHEMA_PKG: Record<string, string> = {
  "": "io.k8s.api.core",
  apps: "io.k8s.api.apps",
  batch: "io.k8s.api.batch",
  "discovery.k8s.io": "io.k8s.api.discovery",
  "storage.k8s.io": "io.k8s.api.storage",
  "coordination.k8s.io": "io.k8s.api.coordination",
  "networking.k8s.io": "io.k8s.api.networking",
  "rbac.authorization.k8s.io": "io.k8s.api.rbac",
  policy: "io.k8s.api.policy",
  "events.k8s.io": "io.k8s.api.events",
  "authorization.k8s.io": "io.k8s.api.authorization",
  "authentication.k8s.io": "io.k8s.api.authentication",
  "apiextensions.k8s.io": "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions",
};

interface Opts {
  plural?: string;
  cluster?: boolean;
  short?: string[];
  all?: boolean;
  sub?: (string | SubresourceInfo)[];
  verbs?: readonly Verb[];
  noStatus?: boolean;
}

function sub(name: string, kind: string): SubresourceInfo {
  switch (name) {
    case "scale":
      return { name, kind: "Scale", group: "autoscaling", version: "v1", verbs: ["get", "patch", "update"] };
    case "status":
      return { name, kind, verbs: ["get", "patch", "update"] };
    case "log":
    case "proxy":
      return { name, kind: name === "log" ? "Pod" : "PodProxyOptions", verbs: ["get"] };
    case "exec":
    case "attach":
    case "portforward":
      return { name, kind: `Pod${name[0]!.toUpperCase()}${name.slice(1)}Options`, verbs: ["create", "get"] };
    case "binding":
      return { name, kind: "Binding", verbs: ["create"] };
    case "eviction":
      return { name, kind: "Eviction", group: "policy", version: "v1", verbs: ["create"] };
    case "token":
      return { name, kind: "TokenRequest", group: "authentication.k8s.io", version: "v1", verbs: ["create"] };
    case "finalize":
      return { name, kind, verbs: ["update"] };
    default:
      return { name, kind, verbs: ["get"] };
  }
}

function res(group: string, version: string, kind: string, o: Opts = {}): ResourceInfo {
  const lower = kind.toLowerCase();
  const plural =
    o.plural ??
    (lower.endsWith("s") ? `${lower}es` : lower.endsWith("y") ? `${lower.slice(0, -1)}ies` : `${lower}s`);
  return {
    group,
    version,
    resource: plural,
    singular: lower,
    kind,
    listKind: `${kind}List`,
    namespaced: !o.cluster,
    shortNames: o.short ?? [],
    categories: o.all ? ["all"] : [],
    verbs: o.verbs ?? ALL_VERBS,
    subresources: (o.sub ?? []).map((s) => (typeof s === "string" ? sub(s, kind) : s)),
    hasStatus: !o.noStatus,
    schemaRef: `${SCHEMA_PKG[group] ?? group}.${version}.${kind}`,
  };
}

const CREATE_ONLY: readonly Verb[] = ["create"];

export function builtinResources(): ResourceInfo[] {
  return [
    // core/v1
    res("", "v1", "Pod", {
      short: ["po"],
      all: true,
      sub: ["status", "log", "exec", "attach", "portforward", "binding", "eviction", "proxy"],
    }),
    res("", "v1", "Namespace", {
      cluster: true,
      short: ["ns"],
      sub: ["status", "finalize"],
      verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
    }),
    res("", "v1", "Service", { short: ["svc"], all: true, sub: ["status", "proxy"] }),
    res("", "v1", "Endpoints", { plural: "endpoints", short: ["ep"], noStatus: true }),
    res("", "v1", "Node", { cluster: true, short: ["no"], sub: ["status", "proxy"] }),
    res("", "v1", "ConfigMap", { short: ["cm"], noStatus: true }),
    res("", "v1", "Secret", { noStatus: true }),
    res("", "v1", "Event", { short: ["ev"], noStatus: true }),
    res("", "v1", "ServiceAccount", { short: ["sa"], sub: ["token"], noStatus: true }),
    res("", "v1", "PersistentVolume", { cluster: true, short: ["pv"], sub: ["status"] }),
    res("", "v1", "PersistentVolumeClaim", { short: ["pvc"], sub: ["status"] }),
    res("", "v1", "LimitRange", { short: ["limits"], noStatus: true }),
    res("", "v1", "ResourceQuota", { short: ["quota"], sub: ["status"] }),
    res("", "v1", "Binding", { verbs: CREATE_ONLY, noStatus: true }),
    // apps/v1
    res("apps", "v1", "Deployment", { short: ["deploy"], all: true, sub: ["status", "scale"] }),
    res("apps", "v1", "ReplicaSet", { short: ["rs"], all: true, sub: ["status", "scale"] }),
    res("apps", "v1", "DaemonSet", { short: ["ds"], all: true, sub: ["status"] }),
    res("apps", "v1", "StatefulSet", { short: ["sts"], all: true, sub: ["status", "scale"] }),
    res("apps", "v1", "ControllerRevision", { noStatus: true }),
    // batch/v1
    res("batch", "v1", "Job", { all: true, sub: ["status"] }),
    res("batch", "v1", "CronJob", { short: ["cj"], all: true, sub: ["status"] }),
    // others
    res("discovery.k8s.io", "v1", "EndpointSlice", { noStatus: true }),
    res("storage.k8s.io", "v1", "StorageClass", { cluster: true, short: ["sc"], noStatus: true }),
    res("coordination.k8s.io", "v1", "Lease", { noStatus: true }),
    res("networking.k8s.io", "v1", "Ingress", { short: ["ing"], sub: ["status"] }),
    res("networking.k8s.io", "v1", "IngressClass", { cluster: true, noStatus: true }),
    res("rbac.authorization.k8s.io", "v1", "Role", { noStatus: true }),
    res("rbac.authorization.k8s.io", "v1", "RoleBinding", { noStatus: true }),
    res("rbac.authorization.k8s.io", "v1", "ClusterRole", { cluster: true, noStatus: true }),
    res("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", { cluster: true, noStatus: true }),
    res("policy", "v1", "PodDisruptionBudget", { short: ["pdb"], sub: ["status"] }),
    res("events.k8s.io", "v1", "Event", { short: ["ev"], noStatus: true }),
    res("apiextensions.k8s.io", "v1", "CustomResourceDefinition", {
      cluster: true,
      short: ["crd", "crds"],
      sub: ["status"],
    }),
    // virtual, create-only review APIs
    res("authorization.k8s.io", "v1", "SelfSubjectAccessReview", { cluster: true, verbs: CREATE_ONLY }),
    res("authorization.k8s.io", "v1", "SelfSubjectRulesReview", { cluster: true, verbs: CREATE_ONLY }),
    res("authorization.k8s.io", "v1", "SubjectAccessReview", { cluster: true, verbs: CREATE_ONLY }),
    res("authorization.k8s.io", "v1", "LocalSubjectAccessReview", { verbs: CREATE_ONLY }),
    res("authentication.k8s.io", "v1", "SelfSubjectReview", { cluster: true, verbs: CREATE_ONLY }),
    res("authentication.k8s.io", "v1", "TokenReview", { cluster: true, verbs: CREATE_ONLY }),
  ];
}

/** resources with no storage: handled by dedicated handlers */
export const VIRTUAL_KINDS = new Set([
  "Binding",
  "SelfSubjectAccessReview",
  "SelfSubjectRulesReview",
  "SelfSubjectReview",
  "SubjectAccessReview",
  "LocalSubjectAccessReview",
  "TokenReview",
]);
