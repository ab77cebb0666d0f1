/**
 * RbacAuthorizer: upstream's RBAC decision over the policy cache, behind the small
 * `Authorizer` contract the API server, impersonation and the review APIs share.
 *
 * Design notes
 * - `system:masters` is allowed everything before RBAC is consulted (upstream's privileged
 *   group authorizer), so the admin kubeconfig works even with a broken policy.
 * - Visit order as upstream: ClusterRoleBindings, then the RoleBindings of the request's
 *   namespace; the first rule that allows wins and names its binding in the reason.
 * - A binding whose role does not exist is skipped and reported in the denial reason
 *   (`RBAC: clusterrole.rbac.authorization.k8s.io "x" not found`), which is what tells an
 *   operator that a typo in roleRef is why access is refused.
 * - No request handling here: callers build Attributes (attributes.ts) and render 403s.
 */
import type { UserInfo } from "../auth.js";
import type { Attributes } from "./attributes.js";
import type { PolicySource } from "./policy-cache.js";
import { type Binding, type PolicyRule, ruleAllows, type Subject, subjectMatches } from "./rules.js";

export interface Decision {
  allowed: boolean;
  /** why: the granting binding, or the policy errors met while looking */
  reason: string;
}

export interface RulesResult {
  resourceRules: PolicyRule[];
  nonResourceRules: PolicyRule[];
  /** roles that could not be resolved: the list may be incomplete */
  errors: string[];
}

export interface Authorizer {
  authorize(a: Attributes): Decision;
  /** every rule that applies to the user in `namespace` ("" = cluster-wide only) */
  rulesFor(user: UserInfo, namespace: string): RulesResult;
}

export const MASTERS_GROUP = "system:masters";

const ALL: PolicyRule = {
  verbs: ["*"],
  apiGroups: ["*"],
  resources: ["*"],
  resourceNames: [],
  nonResourceURLs: [],
};
const ALL_URLS: PolicyRule = {
  verbs: ["*"],
  apiGroups: [],
  resources: [],
  resourceNames: [],
  nonResourceURLs: ["*"],
};

export class RbacAuthorizer implements Authorizer {
  constructor(private readonly policy: PolicySource) {}

  authorize(a: Attributes): Decision {
    if (a.user.groups.includes(MASTERS_GROUP)) return { allowed: true, reason: "" };
    const errors: string[] = [];
    let granted: string | undefined;
    this.visit(a.user, a.namespace, errors, (binding, subject, rule) => {
      if (!ruleAllows(a, rule)) return false;
      granted = `RBAC: allowed by ${describe(binding, subject)}`;
      return true;
    });
    if (granted !== undefined) return { allowed: true, reason: granted };
    return { allowed: false, reason: errors.length === 0 ? "" : `RBAC: ${aggregate(errors)}` };
  }

  rulesFor(user: UserInfo, namespace: string): RulesResult {
    const out: RulesResult = { resourceRules: [], nonResourceRules: [], errors: [] };
    if (user.groups.includes(MASTERS_GROUP)) {
      out.resourceRules.push(ALL);
      out.nonResourceRules.push(ALL_URLS);
    }
    this.visit(user, namespace, out.errors, (_b, _s, rule) => {
      if (rule.resources.length > 0) out.resourceRules.push(rule);
      if (rule.nonResourceURLs.length > 0) out.nonResourceRules.push(rule);
      return false;
    });
    return out;
  }

  /** calls `fn` for each rule granted to the user until it returns true */
  private visit(
    user: UserInfo,
    namespace: string,
    errors: string[],
    fn: (binding: Binding, subject: Subject, rule: PolicyRule) => boolean,
  ): void {
    const walk = (bindings: Iterable<Binding>): boolean => {
      for (const b of bindings) {
        let subject: Subject | undefined;
        for (const s of b.subjects) {
          if (subjectMatches(user, s, b.namespace)) {
            subject = s;
            break;
          }
        }
        if (!subject) continue;
        if (b.kind === "ClusterRoleBinding" && b.roleRef.kind !== "ClusterRole") {
          errors.push(`clusterrolebinding ${JSON.stringify(b.name)} refers to a Role, which is not allowed`);
          continue;
        }
        const rules = this.policy.rulesOf(b.roleRef, b.namespace);
        if (!rules) {
          errors.push(
            `${b.roleRef.kind.toLowerCase()}.rbac.authorization.k8s.io ${JSON.stringify(b.roleRef.name)} not found`,
          );
          continue;
        }
        for (const r of rules) if (fn(b, subject, r)) return true;
      }
      return false;
    };
    if (walk(this.policy.clusterRoleBindings())) return;
    if (namespace !== "") walk(this.policy.roleBindings(namespace));
  }
}

/** upstream's binding describer: `RoleBinding "rb/ns" of ClusterRole "view" to User "u"` */
function describe(b: Binding, s: Subject): string {
  const bname = b.kind === "RoleBinding" ? `${b.name}/${b.namespace}` : b.name;
  const sname = s.kind === "ServiceAccount" ? `${s.name}/${s.namespace ?? b.namespace}` : s.name;
  return `${b.kind} ${JSON.stringify(bname)} of ${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)} to ${s.kind} ${JSON.stringify(sname)}`;
}

/** utilerrors.NewAggregate's text: one message alone, several in brackets */
function aggregate(errors: string[]): string {
  return errors.length === 1 ? errors[0]! : `[${errors.join(", ")}]`;
}
