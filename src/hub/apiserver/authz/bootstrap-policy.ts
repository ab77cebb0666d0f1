/**
 * The default RBAC policy every cluster starts with (upstream's bootstrappolicy, trimmed to the
 * resources the hub serves), created at each start when missing.
 *
 * Design notes
 * - Create-only reconciliation: an existing object is never rewritten, so edits survive
 *   restarts. Objects carry `rbac.authorization.kubernetes.io/autoupdate: "true"` and
 *   `kubernetes.io/bootstrapping: rbac-defaults` like upstream's, so tools recognise them;
 *   delete one to get the default back at the next start.
 * - admin/edit/view are aggregated ClusterRoles as upstream: their rules come from the
 *   `system:aggregate-to-*` roles (and any ClusterRole labelled `aggregate-to-*`), resolved by
 *   the policy cache. Their stored `rules` are a snapshot for `kubectl describe`.
 * - The hub's own controllers, scheduler and agents (over MQTT) do not pass through HTTP
 *   authorization, so no `system:controller:*` or `system:node` roles are needed.
 */
import { isApiError } from "../../../api/errors.js";
import type { KubeObject } from "../../../api/object.js";
import type { Client } from "../../../client/client.js";
import { rbacRefs } from "./policy-cache.js";

const API_VERSION = "rbac.authorization.k8s.io/v1";
const AGG = "rbac.authorization.k8s.io/aggregate-to-";
const READ = ["get", "list", "watch"];
const WRITE = ["create", "delete", "deletecollection", "patch", "update"];

type Rule = { verbs: string[]; apiGroups?: string[]; resources?: string[]; nonResourceURLs?: string[] };

const r = (verbs: string[], apiGroups: string[], resources: string[]): Rule => ({
  verbs,
  apiGroups,
  resources,
});
const urls = (verbs: string[], nonResourceURLs: string[]): Rule => ({ verbs, nonResourceURLs });

function meta(name: string, labels: Record<string, string> = {}): KubeObject["metadata"] {
  return {
    name,
    labels: { "kubernetes.io/bootstrapping": "rbac-defaults", ...labels },
    annotations: { "rbac.authorization.kubernetes.io/autoupdate": "true" },
  };
}

function clusterRole(name: string, rules: Rule[], labels?: Record<string, string>): KubeObject {
  return { apiVersion: API_VERSION, kind: "ClusterRole", metadata: meta(name, labels), rules };
}

function aggregated(name: string, into: string, rules: Rule[], labels?: Record<string, string>): KubeObject {
  return {
    ...clusterRole(name, rules, labels),
    aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [`${AGG}${into}`]: "true" } }] },
  };
}

function binding(role: string, groups: string[]): KubeObject {
  return {
    apiVersion: API_VERSION,
    kind: "ClusterRoleBinding",
    metadata: meta(role),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
    subjects: groups.map((name) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name })),
  };
}

const VIEW_RULES: Rule[] = [
  r(
    READ,
    [""],
    [
      "pods",
      "pods/log",
      "pods/status",
      "services",
      "services/status",
      "endpoints",
      "persistentvolumeclaims",
      "persistentvolumeclaims/status",
      "configmaps",
      "serviceaccounts",
      "events",
      "limitranges",
      "resourcequotas",
      "resourcequotas/status",
      "namespaces",
      "namespaces/status",
      "bindings",
      "replicationcontrollers",
      "replicationcontrollers/scale",
      "replicationcontrollers/status",
    ],
  ),
  r(
    READ,
    ["apps"],
    [
      "controllerrevisions",
      "daemonsets",
      "daemonsets/status",
      "deployments",
      "deployments/scale",
      "deployments/status",
      "replicasets",
      "replicasets/scale",
      "replicasets/status",
      "statefulsets",
      "statefulsets/scale",
      "statefulsets/status",
    ],
  ),
  r(READ, ["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"]),
  r(READ, ["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
  r(READ, ["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
  r(READ, ["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"]),
  r(READ, ["discovery.k8s.io"], ["endpointslices"]),
  r(READ, ["events.k8s.io"], ["events"]),
  r(READ, ["metrics.k8s.io"], ["pods", "nodes"]),
];

const EDIT_RULES: Rule[] = [
  r(["impersonate"], [""], ["serviceaccounts"]),
  r(WRITE, [""], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"]),
  r(["create"], [""], ["pods/eviction", "serviceaccounts/token"]),
  r(READ, [""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"]),
  r(
    WRITE,
    [""],
    [
      "configmaps",
      "events",
      "persistentvolumeclaims",
      "replicationcontrollers",
      "replicationcontrollers/scale",
      "secrets",
      "serviceaccounts",
      "services",
      "services/proxy",
    ],
  ),
  r(
    WRITE,
    ["apps"],
    [
      "daemonsets",
      "deployments",
      "deployments/rollback",
      "deployments/scale",
      "replicasets",
      "replicasets/scale",
      "statefulsets",
      "statefulsets/scale",
    ],
  ),
  r(WRITE, ["autoscaling"], ["horizontalpodautoscalers"]),
  r(WRITE, ["batch"], ["cronjobs", "jobs"]),
  r(WRITE, ["policy"], ["poddisruptionbudgets"]),
  r(WRITE, ["networking.k8s.io"], ["ingresses", "networkpolicies"]),
  r([...WRITE, ...READ], ["coordination.k8s.io"], ["leases"]),
];

const ADMIN_RULES: Rule[] = [
  r([...WRITE, ...READ], ["rbac.authorization.k8s.io"], ["rolebindings", "roles"]),
  r(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]),
];

const DISCOVERY_URLS = [
  "/api",
  "/api/*",
  "/apis",
  "/apis/*",
  "/healthz",
  "/livez",
  "/openapi",
  "/openapi/*",
  "/readyz",
  "/version",
  "/version/",
];
const PUBLIC_URLS = ["/healthz", "/livez", "/readyz", "/version", "/version/"];

/** the default ClusterRoles and ClusterRoleBindings, in creation order */
export function bootstrapPolicy(): KubeObject[] {
  return [
    clusterRole("cluster-admin", [r(["*"], ["*"], ["*"]), urls(["*"], ["*"])]),
    clusterRole("system:discovery", [urls(["get"], DISCOVERY_URLS)]),
    clusterRole("system:public-info-viewer", [urls(["get"], PUBLIC_URLS)]),
    clusterRole("system:basic-user", [
      r(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
      r(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"]),
    ]),
    // delegated authn/authz (webhooks, aggregated API servers); bound by whoever needs it
    clusterRole("system:auth-delegator", [
      r(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
      r(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
    ]),
    clusterRole("system:aggregate-to-view", VIEW_RULES, { [`${AGG}view`]: "true" }),
    clusterRole("system:aggregate-to-edit", EDIT_RULES, { [`${AGG}edit`]: "true" }),
    clusterRole("system:aggregate-to-admin", ADMIN_RULES, { [`${AGG}admin`]: "true" }),
    aggregated("view", "view", VIEW_RULES, { [`${AGG}edit`]: "true" }),
    aggregated("edit", "edit", [...EDIT_RULES, ...VIEW_RULES], { [`${AGG}admin`]: "true" }),
    aggregated("admin", "admin", [...ADMIN_RULES, ...EDIT_RULES, ...VIEW_RULES]),
    binding("cluster-admin", ["system:masters"]),
    binding("system:discovery", ["system:authenticated"]),
    binding("system:basic-user", ["system:authenticated"]),
    binding("system:public-info-viewer", ["system:authenticated", "system:unauthenticated"]),
  ];
}

/** creates the default policy objects that are missing; returns the names it created */
export async function ensureBootstrapPolicy(client: Client): Promise<string[]> {
  const created: string[] = [];
  for (const obj of bootstrapPolicy()) {
    const ref = obj.kind === "ClusterRole" ? rbacRefs.clusterroles : rbacRefs.clusterrolebindings;
    const name = obj.metadata.name!;
    if (await client.get(ref, undefined, name)) continue;
    try {
      await client.create(ref, undefined, obj);
      created.push(`${obj.kind}/${name}`);
    } catch (e) {
      // another writer made it between our get and create: theirs stands
      if (!(isApiError(e) && e.reason === "AlreadyExists")) throw e;
    }
  }
  return created;
}
