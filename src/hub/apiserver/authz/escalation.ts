/**
 * Escalation prevention, as upstream's RBAC storage does it: writing a Role/ClusterRole or a
 * (Cluster)RoleBinding must not grant permissions the writer does not hold.
 *
 * Design notes
 * - A role write is allowed when the writer may `escalate` that role, or already holds every
 *   rule it contains (in the role's namespace). A binding write is allowed when the writer may
 *   `bind` the referenced role, or holds every rule of that role.
 * - "Holds" is upstream's Covers: requested rules are broken down to one verb × group ×
 *   resource × name (or verb × URL) each, and every piece must be covered by one of the
 *   writer's rules ("*" covers anything, "*\/scale" covers "deployments/scale", a rule without
 *   resourceNames covers any name).
 * - `system:masters` and writes without a request user (the hub's own controllers and its
 *   bootstrap, which run in-process) are not checked.
 */
import { ApiError } from "../../../api/errors.js";
import type { KubeObject } from "../../../api/object.js";
import { isObject } from "../../../api/object.js";
import type { UserInfo } from "../auth.js";
import type { PolicySource } from "./policy-cache.js";
import { type Authorizer, MASTERS_GROUP } from "./rbac-authorizer.js";
import { type PolicyRule, toPolicyRule } from "./rules.js";

const RBAC = "rbac.authorization.k8s.io";

export class EscalationCheck {
  constructor(
    private readonly authz: Authorizer,
    private readonly policy: PolicySource,
  ) {}

  /** throws 403 when `user` may not write `obj` (a kind of rbac.authorization.k8s.io) */
  check(kind: string, obj: KubeObject, user: UserInfo | undefined): void {
    if (!user || user.groups.includes(MASTERS_GROUP)) return;
    const ns = obj.metadata.namespace ?? "";
    const name = obj.metadata.name ?? "";
    let requested: readonly PolicyRule[];
    let resource: string;
    if (kind === "Role" || kind === "ClusterRole") {
      resource = kind === "Role" ? "roles" : "clusterroles";
      if (this.may(user, "escalate", resource, ns, name)) return;
      requested = Array.isArray(obj.rules) ? obj.rules.map(toPolicyRule) : [];
    } else if (kind === "RoleBinding" || kind === "ClusterRoleBinding") {
      resource = kind === "RoleBinding" ? "rolebindings" : "clusterrolebindings";
      const ref = isObject(obj.roleRef) ? obj.roleRef : {};
      const refKind = ref.kind === "Role" ? "Role" : "ClusterRole";
      const refName = String(ref.name ?? "");
      if (this.may(user, "bind", refKind === "Role" ? "roles" : "clusterroles", ns, refName)) return;
      const rules = this.policy.rulesOf({ kind: refKind, name: refName }, ns);
      if (!rules) throw ApiError.notFound(refKind === "Role" ? "roles" : "clusterroles", refName, RBAC);
      requested = rules;
    } else {
      return;
    }
    const held = this.authz.rulesFor(user, ns);
    const missing = uncovered([...held.resourceRules, ...held.nonResourceRules], requested);
    if (missing.length === 0) return;
    const groups = `[${user.groups.map((g) => JSON.stringify(g)).join(" ")}]`;
    throw new ApiError(
      403,
      "Forbidden",
      `${resource}.${RBAC} ${JSON.stringify(name)} is forbidden: user ${JSON.stringify(user.username)} (groups=${groups}) ` +
        `is attempting to grant RBAC permissions not currently held:\n${missing.map(compact).join("\n")}`,
      { name, group: RBAC, kind: resource },
    );
  }

  private may(user: UserInfo, verb: string, resource: string, namespace: string, name: string): boolean {
    return this.authz.authorize({
      user,
      verb,
      resourceRequest: true,
      apiGroup: RBAC,
      apiVersion: "v1",
      resource,
      subresource: "",
      namespace,
      name,
      path: "",
    }).allowed;
  }
}

/** the pieces of `requested` that no rule of `owner` covers (upstream's validation.Covers) */
export function uncovered(owner: readonly PolicyRule[], requested: readonly PolicyRule[]): PolicyRule[] {
  const missing: PolicyRule[] = [];
  for (const piece of requested.flatMap(breakdown)) {
    if (!owner.some((o) => covers(o, piece))) missing.push(piece);
  }
  return missing;
}

function breakdown(r: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  const one = (p: Partial<PolicyRule>): PolicyRule => ({
    verbs: [],
    apiGroups: [],
    resources: [],
    resourceNames: [],
    nonResourceURLs: [],
    ...p,
  });
  for (const verb of r.verbs) {
    for (const group of r.apiGroups) {
      for (const resource of r.resources) {
        if (r.resourceNames.length === 0)
          out.push(one({ verbs: [verb], apiGroups: [group], resources: [resource] }));
        for (const n of r.resourceNames)
          out.push(one({ verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: [n] }));
      }
    }
    for (const url of r.nonResourceURLs) out.push(one({ verbs: [verb], nonResourceURLs: [url] }));
  }
  return out;
}

const hasAll = (set: readonly string[], want: readonly string[]) => want.every((w) => set.includes(w));
const starOr = (set: readonly string[], want: readonly string[]) => set.includes("*") || hasAll(set, want);

function covers(o: PolicyRule, p: PolicyRule): boolean {
  if (!starOr(o.verbs, p.verbs) || !starOr(o.apiGroups, p.apiGroups)) return false;
  const resources =
    o.resources.includes("*") ||
    p.resources.every((res) => {
      if (o.resources.includes(res)) return true;
      const slash = res.indexOf("/");
      return slash > 0 && o.resources.includes(`*/${res.slice(slash + 1)}`);
    });
  const urls = p.nonResourceURLs.every((u) =>
    o.nonResourceURLs.some(
      (ou) => ou === "*" || ou === u || (ou.endsWith("*") && u.startsWith(ou.slice(0, -1))),
    ),
  );
  const names =
    o.resourceNames.length === 0 || (p.resourceNames.length > 0 && hasAll(o.resourceNames, p.resourceNames));
  return resources && urls && names;
}

/** upstream's compact rule text: {APIGroups:[""], Resources:["pods"], Verbs:["delete"]} */
function compact(r: PolicyRule): string {
  const f = (k: string, v: string[]) =>
    v.length > 0 ? [`${k}:[${v.map((s) => JSON.stringify(s)).join(", ")}]`] : [];
  return `{${[
    ...f("APIGroups", r.apiGroups),
    ...f("Resources", r.resources),
    ...f("ResourceNames", r.resourceNames),
    ...f("NonResourceURLs", r.nonResourceURLs),
    ...f("Verbs", r.verbs),
  ].join(", ")}}`;
}
