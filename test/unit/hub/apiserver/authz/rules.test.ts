/**
 * RBAC rule matching and request attributes, table-driven against upstream's semantics
 * (rbac/v1 helpers, RequestInfoFactory, responsewriters.forbiddenMessage).
 */
import { describe, expect, it } from "vitest";
import { forbiddenError, requestAttributes } from "../../../../../src/hub/apiserver/authz/attributes.js";
import {
  type PolicyRule,
  parseServiceAccountUsername,
  type RuleRequest,
  ruleAllows,
  subjectMatches,
  toPolicyRule,
} from "../../../../../src/hub/apiserver/authz/rules.js";

const rule = (r: Partial<PolicyRule>): PolicyRule => toPolicyRule(r);
const req = (r: Partial<RuleRequest>): RuleRequest => ({
  verb: "get",
  resourceRequest: true,
  apiGroup: "",
  resource: "pods",
  subresource: "",
  name: "",
  path: "",
  ...r,
});

describe("ruleAllows", () => {
  const cases: [string, Partial<PolicyRule>, Partial<RuleRequest>, boolean][] = [
    ["exact verb, group, resource", { verbs: ["get"], apiGroups: [""], resources: ["pods"] }, {}, true],
    ["other verb", { verbs: ["list"], apiGroups: [""], resources: ["pods"] }, {}, false],
    ["verb *", { verbs: ["*"], apiGroups: [""], resources: ["pods"] }, { verb: "deletecollection" }, true],
    ["other group", { verbs: ["get"], apiGroups: ["apps"], resources: ["pods"] }, {}, false],
    [
      "group *",
      { verbs: ["get"], apiGroups: ["*"], resources: ["deployments"] },
      { apiGroup: "apps", resource: "deployments" },
      true,
    ],
    [
      "resource * covers subresources",
      { verbs: ["create"], apiGroups: [""], resources: ["*"] },
      { verb: "create", subresource: "exec" },
      true,
    ],
    [
      "parent does not cover subresource",
      { verbs: ["create"], apiGroups: [""], resources: ["pods"] },
      { verb: "create", subresource: "exec" },
      false,
    ],
    [
      "resource/subresource",
      { verbs: ["create"], apiGroups: [""], resources: ["pods/exec"] },
      { verb: "create", subresource: "exec" },
      true,
    ],
    [
      "subresource rule does not cover parent",
      { verbs: ["get"], apiGroups: [""], resources: ["pods/log"] },
      {},
      false,
    ],
    [
      "*/subresource",
      { verbs: ["update"], apiGroups: ["apps"], resources: ["*/scale"] },
      { verb: "update", apiGroup: "apps", resource: "deployments", subresource: "scale" },
      true,
    ],
    [
      "*/subresource is not the parent",
      { verbs: ["update"], apiGroups: ["apps"], resources: ["*/scale"] },
      { verb: "update", apiGroup: "apps", resource: "deployments" },
      false,
    ],
    [
      "no pods/* wildcard upstream",
      { verbs: ["create"], apiGroups: [""], resources: ["pods/*"] },
      { verb: "create", subresource: "exec" },
      false,
    ],
    [
      "resourceNames match",
      { verbs: ["get"], apiGroups: [""], resources: ["pods"], resourceNames: ["a"] },
      { name: "a" },
      true,
    ],
    [
      "resourceNames other name",
      { verbs: ["get"], apiGroups: [""], resources: ["pods"], resourceNames: ["a"] },
      { name: "b" },
      false,
    ],
    [
      "resourceNames never allow unnamed list",
      { verbs: ["list"], apiGroups: [""], resources: ["pods"], resourceNames: ["a"] },
      { verb: "list" },
      false,
    ],
    [
      "resource rule ignores paths",
      { verbs: ["get"], apiGroups: ["*"], resources: ["*"] },
      { resourceRequest: false, path: "/api" },
      false,
    ],
    [
      "nonResourceURL exact",
      { verbs: ["get"], nonResourceURLs: ["/version"] },
      { resourceRequest: false, path: "/version" },
      true,
    ],
    [
      "nonResourceURL prefix*",
      { verbs: ["get"], nonResourceURLs: ["/apis/*"] },
      { resourceRequest: false, path: "/apis/apps/v1" },
      true,
    ],
    [
      "nonResourceURL prefix* is a plain prefix",
      { verbs: ["get"], nonResourceURLs: ["/api*"] },
      { resourceRequest: false, path: "/apis" },
      true,
    ],
    [
      "nonResourceURL no prefix without *",
      { verbs: ["get"], nonResourceURLs: ["/api"] },
      { resourceRequest: false, path: "/api/v1" },
      false,
    ],
    [
      "nonResourceURL *",
      { verbs: ["*"], nonResourceURLs: ["*"] },
      { resourceRequest: false, verb: "post", path: "/x" },
      true,
    ],
    ["url rule ignores resources", { verbs: ["*"], nonResourceURLs: ["*"] }, {}, false],
  ];
  for (const [name, r, q, want] of cases) {
    it(name, () => expect(ruleAllows(req(q), rule(r))).toBe(want));
  }
});

describe("subjectMatches", () => {
  const sa = {
    username: "system:serviceaccount:ns1:robot",
    groups: ["system:serviceaccounts", "system:authenticated"],
  };
  it("matches users, groups and service accounts", () => {
    expect(subjectMatches({ username: "bob", groups: [] }, { kind: "User", name: "bob" }, "")).toBe(true);
    expect(subjectMatches({ username: "bob", groups: [] }, { kind: "User", name: "alice" }, "")).toBe(false);
    expect(subjectMatches(sa, { kind: "Group", name: "system:serviceaccounts" }, "")).toBe(true);
    expect(subjectMatches(sa, { kind: "ServiceAccount", name: "robot", namespace: "ns1" }, "")).toBe(true);
    expect(subjectMatches(sa, { kind: "ServiceAccount", name: "robot", namespace: "ns2" }, "")).toBe(false);
    // a namespace-less ServiceAccount subject takes the RoleBinding's namespace, and none in a ClusterRoleBinding
    expect(subjectMatches(sa, { kind: "ServiceAccount", name: "robot" }, "ns1")).toBe(true);
    expect(subjectMatches(sa, { kind: "ServiceAccount", name: "robot" }, "")).toBe(false);
    // a user named like a service account is not matched by a User subject of the short name
    expect(subjectMatches(sa, { kind: "User", name: "robot" }, "ns1")).toBe(false);
  });
  it("parses service account usernames", () => {
    expect(parseServiceAccountUsername("system:serviceaccount:a:b")).toEqual({ namespace: "a", name: "b" });
    expect(parseServiceAccountUsername("system:serviceaccount:a")).toBeUndefined();
    expect(parseServiceAccountUsername("system:serviceaccount:a:b:c")).toBeUndefined();
    expect(parseServiceAccountUsername("bob")).toBeUndefined();
  });
});

describe("requestAttributes", () => {
  const u = { username: "u", groups: [] };
  const attrs = (method: string, url: string) => {
    const x = new URL(url, "https://h");
    const a = requestAttributes(u, method, x.pathname, x.searchParams);
    return [a.verb, a.apiGroup, a.resource, a.subresource, a.namespace, a.name, a.resourceRequest];
  };
  it("derives verbs and scope as upstream", () => {
    expect(attrs("GET", "/api/v1/namespaces/d/pods")).toEqual(["list", "", "pods", "", "d", "", true]);
    expect(attrs("GET", "/api/v1/namespaces/d/pods?watch=true")).toEqual([
      "watch",
      "",
      "pods",
      "",
      "d",
      "",
      true,
    ]);
    expect(attrs("GET", "/api/v1/namespaces/d/pods/p")).toEqual(["get", "", "pods", "", "d", "p", true]);
    expect(attrs("GET", "/api/v1/namespaces/d/pods/p?watch=1")).toEqual([
      "get",
      "",
      "pods",
      "",
      "d",
      "p",
      true,
    ]);
    expect(attrs("POST", "/api/v1/namespaces/d/pods")).toEqual(["create", "", "pods", "", "d", "", true]);
    expect(attrs("PUT", "/apis/apps/v1/namespaces/d/deployments/x/scale")).toEqual([
      "update",
      "apps",
      "deployments",
      "scale",
      "d",
      "x",
      true,
    ]);
    expect(attrs("PATCH", "/api/v1/nodes/n1")).toEqual(["patch", "", "nodes", "", "", "n1", true]);
    expect(attrs("DELETE", "/api/v1/namespaces/d/pods")).toEqual([
      "deletecollection",
      "",
      "pods",
      "",
      "d",
      "",
      true,
    ]);
    expect(attrs("DELETE", "/api/v1/namespaces/d/pods/p")).toEqual([
      "delete",
      "",
      "pods",
      "",
      "d",
      "p",
      true,
    ]);
    expect(attrs("GET", "/api/v1/pods")).toEqual(["list", "", "pods", "", "", "", true]);
  });
  it("gives a Namespace's own paths that namespace", () => {
    expect(attrs("GET", "/api/v1/namespaces/foo")).toEqual(["get", "", "namespaces", "", "foo", "foo", true]);
    expect(attrs("PUT", "/api/v1/namespaces/foo/finalize")).toEqual([
      "update",
      "",
      "namespaces",
      "finalize",
      "foo",
      "foo",
      true,
    ]);
    expect(attrs("GET", "/api/v1/namespaces")).toEqual(["list", "", "namespaces", "", "", "", true]);
  });
  it("takes the name of a list from an exact metadata.name field selector", () => {
    expect(attrs("GET", "/api/v1/namespaces/d/pods?fieldSelector=metadata.name%3Dp1")[5]).toBe("p1");
    expect(attrs("GET", "/api/v1/namespaces/d/pods?fieldSelector=metadata.name%21%3Dp1")[5]).toBe("");
    expect(
      attrs(
        "GET",
        "/api/v1/namespaces/d/pods?watch=true&fieldSelector=status.phase%3DRunning,metadata.name%3D%3Dp2",
      )[5],
    ).toBe("p2");
  });
  it("treats discovery and other paths as non-resource requests", () => {
    expect(attrs("GET", "/api")).toEqual(["get", "", "", "", "", "", false]);
    expect(attrs("GET", "/apis/apps/v1")).toEqual(["get", "", "", "", "", "", false]);
    expect(attrs("POST", "/openapi/v3")).toEqual(["post", "", "", "", "", "", false]);
  });
});

describe("forbiddenError", () => {
  const sa = { username: "system:serviceaccount:default:default", groups: [] };
  const msg = (method: string, path: string, reason?: string) => {
    const x = new URL(path, "https://h");
    return forbiddenError(requestAttributes(sa, method, x.pathname, x.searchParams), reason);
  };
  it("renders upstream's messages", () => {
    const e = msg("GET", "/api/v1/namespaces/default/pods");
    expect(e.code).toBe(403);
    expect(e.reason).toBe("Forbidden");
    expect(e.message).toBe(
      'pods is forbidden: User "system:serviceaccount:default:default" cannot list resource "pods" in API group "" in the namespace "default"',
    );
    expect(e.details).toEqual({ group: "", kind: "pods" });
    expect(msg("DELETE", "/apis/apps/v1/namespaces/a/deployments/web").message).toBe(
      'deployments.apps "web" is forbidden: User "system:serviceaccount:default:default" cannot delete resource "deployments" in API group "apps" in the namespace "a"',
    );
    expect(msg("GET", "/api/v1/nodes").message).toBe(
      'nodes is forbidden: User "system:serviceaccount:default:default" cannot list resource "nodes" in API group "" at the cluster scope',
    );
    expect(msg("GET", "/api/v1/namespaces/d/pods/p/log").message).toContain('cannot get resource "pods/log"');
    expect(msg("GET", "/apis").message).toBe(
      'forbidden: User "system:serviceaccount:default:default" cannot get path "/apis"',
    );
    expect(
      msg("GET", "/api/v1/nodes", 'RBAC: clusterrole.rbac.authorization.k8s.io "x" not found').message,
    ).toBe(
      'nodes is forbidden: User "system:serviceaccount:default:default" cannot list resource "nodes" in API group "" at the cluster scope: RBAC: clusterrole.rbac.authorization.k8s.io "x" not found',
    );
  });
});
