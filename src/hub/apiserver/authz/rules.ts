/**
 * RBAC rule and subject matching, as upstream's rbac/v1 helpers and the RBAC authorizer do it.
 *
 * Design notes
 * - Pure functions over plain data: the policy cache turns stored Roles/ClusterRoles/bindings
 *   into these shapes once (on watch events), so a request only walks arrays of strings.
 * - Resources match "*", the exact "resource" or "resource/subresource", or "*\/subresource";
 *   upstream has no "pods/*" wildcard and neither do we.
 * - nonResourceURLs match "*", the exact path, or a prefix written with a trailing "*".
 * - resourceNames restrict by the request's name; a request without a name (create, list) never
 *   matches a rule that lists names, which is upstream's (sometimes surprising) behaviour.
 */
import { isObject } from "../../../api/object.js";
import type { UserInfo } from "../auth.js";

export interface PolicyRule {
  verbs: string[];
  apiGroups: string[];
  resources: string[];
  resourceNames: string[];
  nonResourceURLs: string[];
}

export interface Subject {
  kind: "User" | "Group" | "ServiceAccount";
  name: string;
  namespace?: string;
  /** ServiceAccount subjects: the username, precomputed once (a request compares many) */
  username?: string;
}

export interface RoleRef {
  kind: "Role" | "ClusterRole";
  name: string;
}

/** a RoleBinding (namespace set) or ClusterRoleBinding (namespace "") */
export interface Binding {
  kind: "RoleBinding" | "ClusterRoleBinding";
  name: string;
  namespace: string;
  subjects: Subject[];
  roleRef: RoleRef;
}

/** what a rule is checked against: upstream's authorizer.Attributes, minus the user */
export interface RuleRequest {
  verb: string;
  resourceRequest: boolean;
  apiGroup: string;
  resource: string;
  subresource: string;
  name: string;
  path: string;
}

export const SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:";

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : [];

/** a stored rule (JSON) as a PolicyRule; missing lists become empty (matching nothing) */
export function toPolicyRule(v: unknown): PolicyRule {
  const r = isObject(v) ? v : {};
  return {
    verbs: strings(r.verbs),
    apiGroups: strings(r.apiGroups),
    resources: strings(r.resources),
    resourceNames: strings(r.resourceNames),
    nonResourceURLs: strings(r.nonResourceURLs),
  };
}

/** stored subjects; a ServiceAccount without namespace takes `bindingNamespace` ("" = none) */
export function toSubjects(v: unknown, bindingNamespace = ""): Subject[] {
  const out: Subject[] = [];
  for (const s of Array.isArray(v) ? v : []) {
    if (!isObject(s) || typeof s.name !== "string") continue;
    if (s.kind !== "User" && s.kind !== "Group" && s.kind !== "ServiceAccount") continue;
    const ns = typeof s.namespace === "string" && s.namespace !== "" ? s.namespace : undefined;
    const saNs = ns ?? bindingNamespace;
    out.push({
      kind: s.kind,
      name: s.name,
      ...(ns !== undefined ? { namespace: ns } : {}),
      ...(s.kind === "ServiceAccount" && saNs !== ""
        ? { username: serviceAccountUsername(saNs, s.name) }
        : {}),
    });
  }
  return out;
}

// plain loops: these run for every rule of every matching binding on every request
export function verbMatches(rule: PolicyRule, verb: string): boolean {
  for (const v of rule.verbs) if (v === "*" || v === verb) return true;
  return false;
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  for (const g of rule.apiGroups) if (g === "*" || g === group) return true;
  return false;
}

export function resourceMatches(rule: PolicyRule, resource: string, subresource: string): boolean {
  const combined = subresource === "" ? resource : `${resource}/${subresource}`;
  for (const r of rule.resources) {
    if (r === "*" || r === combined) return true;
    if (subresource !== "" && r === `*/${subresource}`) return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  return rule.resourceNames.length === 0 || rule.resourceNames.includes(name);
}

export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs) {
    if (u === "*" || u === path) return true;
    if (u.endsWith("*") && path.startsWith(u.replace(/\*+$/, ""))) return true;
  }
  return false;
}

export function ruleAllows(req: RuleRequest, rule: PolicyRule): boolean {
  if (!verbMatches(rule, req.verb)) return false;
  if (!req.resourceRequest) return nonResourceURLMatches(rule, req.path);
  return (
    apiGroupMatches(rule, req.apiGroup) &&
    resourceMatches(rule, req.resource, req.subresource) &&
    resourceNameMatches(rule, req.name)
  );
}

/**
 * Does this subject name the user? A ServiceAccount subject without a namespace takes the
 * binding's namespace (`bindingNamespace`, "" for ClusterRoleBindings: then it matches no one).
 */
export function subjectMatches(user: UserInfo, subject: Subject, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case "User":
      return user.username === subject.name;
    case "Group":
      return user.groups.includes(subject.name);
    case "ServiceAccount": {
      if (subject.username !== undefined) return user.username === subject.username;
      const ns = subject.namespace ?? bindingNamespace;
      if (ns === "") return false;
      return user.username === serviceAccountUsername(ns, subject.name);
    }
  }
}

export function serviceAccountUsername(namespace: string, name: string): string {
  return `${SERVICE_ACCOUNT_PREFIX}${namespace}:${name}`;
}

export function serviceAccountGroups(namespace: string): string[] {
  return ["system:serviceaccounts", `system:serviceaccounts:${namespace}`];
}

/** "system:serviceaccount:ns:name" → {namespace, name}; anything else → undefined */
export function parseServiceAccountUsername(
  username: string,
): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SERVICE_ACCOUNT_PREFIX)) return undefined;
  const parts = username.slice(SERVICE_ACCOUNT_PREFIX.length).split(":");
  if (parts.length !== 2 || parts[0] === "" || parts[1] === "") return undefined;
  return { namespace: parts[0]!, name: parts[1]! };
}
