/**
 * The RBAC authorizer over a policy cache filled by hand (the same upsert/remove the watch
 * drives): bindings, aggregation of the bootstrap admin/edit/view roles, masters, missing
 * roles in the reason, the rules review, and impersonation checks.
 */
import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../../src/api/object.js";
import type { UserInfo } from "../../../../../src/hub/apiserver/auth.js";
import {
  bootstrapPolicy,
  impersonatedUser,
  RbacAuthorizer,
  RbacPolicyCache,
  requestAttributes,
} from "../../../../../src/hub/apiserver/authz/index.js";

const kindOf = {
  Role: "roles",
  ClusterRole: "clusterroles",
  RoleBinding: "rolebindings",
  ClusterRoleBinding: "clusterrolebindings",
} as const;

function policy(extra: KubeObject[] = []): { cache: RbacPolicyCache; authz: RbacAuthorizer } {
  const cache = new RbacPolicyCache();
  for (const o of [...bootstrapPolicy(), ...extra]) cache.upsert(kindOf[o.kind as keyof typeof kindOf], o);
  return { cache, authz: new RbacAuthorizer(cache) };
}

function rb(
  ns: string,
  name: string,
  role: string,
  subjects: unknown[],
  roleKind = "ClusterRole",
): KubeObject {
  return {
    kind: "RoleBinding",
    metadata: { name, namespace: ns },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: roleKind, name: role },
    subjects,
  };
}

const sa = (ns: string, name: string): UserInfo => ({
  username: `system:serviceaccount:${ns}:${name}`,
  groups: ["system:serviceaccounts", `system:serviceaccounts:${ns}`, "system:authenticated"],
});

function can(authz: RbacAuthorizer, user: UserInfo, method: string, path: string): boolean {
  const u = new URL(path, "https://h");
  return authz.authorize(requestAttributes(user, method, u.pathname, u.searchParams)).allowed;
}

describe("RbacAuthorizer", () => {
  it("denies a fresh service account all but discovery and self reviews", () => {
    const { authz } = policy();
    const u = sa("default", "default");
    expect(can(authz, u, "GET", "/api/v1/namespaces/default/pods")).toBe(false);
    expect(can(authz, u, "GET", "/api")).toBe(true);
    expect(can(authz, u, "GET", "/apis/apps/v1")).toBe(true);
    expect(can(authz, u, "GET", "/openapi/v3/apis/apps/v1")).toBe(true);
    expect(can(authz, u, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")).toBe(true);
    expect(can(authz, u, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews")).toBe(true);
    expect(can(authz, { username: "nobody", groups: [] }, "GET", "/api")).toBe(false);
  });

  it("grants view through a RoleBinding in its namespace only, via aggregation", () => {
    const { authz } = policy([
      rb("ns1", "robot-view", "view", [{ kind: "ServiceAccount", name: "robot", namespace: "ns1" }]),
    ]);
    const u = sa("ns1", "robot");
    expect(can(authz, u, "GET", "/api/v1/namespaces/ns1/pods")).toBe(true);
    expect(can(authz, u, "GET", "/api/v1/namespaces/ns1/pods/p/log")).toBe(true);
    expect(can(authz, u, "GET", "/apis/apps/v1/namespaces/ns1/deployments?watch=true")).toBe(true);
    expect(can(authz, u, "GET", "/api/v1/namespaces/ns1/secrets")).toBe(false);
    expect(can(authz, u, "POST", "/api/v1/namespaces/ns1/pods")).toBe(false);
    expect(can(authz, u, "GET", "/api/v1/namespaces/ns2/pods")).toBe(false);
    expect(can(authz, u, "GET", "/api/v1/pods")).toBe(false);
    expect(can(authz, u, "GET", "/api/v1/namespaces/ns1")).toBe(true);
  });

  it("gives a namespace-less ServiceAccount subject its RoleBinding's namespace", () => {
    const { authz } = policy([rb("ns3", "short", "view", [{ kind: "ServiceAccount", name: "robot" }])]);
    expect(can(authz, sa("ns3", "robot"), "GET", "/api/v1/namespaces/ns3/pods")).toBe(true);
    expect(can(authz, sa("ns4", "robot"), "GET", "/api/v1/namespaces/ns3/pods")).toBe(false);
  });

  it("aggregates edit into admin, and picks up a new aggregate-to-view role", () => {
    const { cache, authz } = policy([rb("a", "alice-admin", "admin", [{ kind: "User", name: "alice" }])]);
    const alice = { username: "alice", groups: ["system:authenticated"] };
    expect(can(authz, alice, "POST", "/api/v1/namespaces/a/pods/p/exec")).toBe(true);
    expect(can(authz, alice, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/a/rolebindings")).toBe(
      true,
    );
    expect(can(authz, alice, "DELETE", "/apis/apps/v1/namespaces/a/deployments/d")).toBe(true);
    expect(can(authz, alice, "GET", "/apis/example.com/v1/namespaces/a/widgets")).toBe(false);
    cache.upsert("clusterroles", {
      kind: "ClusterRole",
      metadata: { name: "widget-reader", labels: { "rbac.authorization.k8s.io/aggregate-to-view": "true" } },
      rules: [{ verbs: ["get", "list"], apiGroups: ["example.com"], resources: ["widgets"] }],
    });
    expect(can(authz, alice, "GET", "/apis/example.com/v1/namespaces/a/widgets")).toBe(true);
    cache.remove("clusterroles", { metadata: { name: "widget-reader" } });
    expect(can(authz, alice, "GET", "/apis/example.com/v1/namespaces/a/widgets")).toBe(false);
  });

  it("lets system:masters do anything and explains allow and deny", () => {
    const { cache, authz } = policy([rb("ns1", "typo", "veiw", [{ kind: "Group", name: "devs" }])]);
    expect(can(authz, { username: "x", groups: ["system:masters"] }, "DELETE", "/api/v1/nodes/n1")).toBe(
      true,
    );
    const dev = { username: "dev", groups: ["devs", "system:authenticated"] };
    const a = requestAttributes(dev, "GET", "/api/v1/namespaces/ns1/pods", new URLSearchParams());
    expect(authz.authorize(a)).toEqual({
      allowed: false,
      reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "veiw" not found',
    });
    cache.upsert("rolebindings", rb("ns1", "typo", "view", [{ kind: "Group", name: "devs" }]));
    expect(authz.authorize(a)).toEqual({
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "typo/ns1" of ClusterRole "view" to Group "devs"',
    });
  });

  it("resolves namespaced Roles and lists the rules that apply", () => {
    const { authz } = policy([
      {
        kind: "Role",
        metadata: { name: "cm", namespace: "n" },
        rules: [
          { verbs: ["get", "list"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["app"] },
        ],
      },
      rb("n", "cm", "cm", [{ kind: "User", name: "bob" }], "Role"),
    ]);
    const bob = { username: "bob", groups: ["system:authenticated"] };
    expect(can(authz, bob, "GET", "/api/v1/namespaces/n/configmaps/app")).toBe(true);
    expect(can(authz, bob, "GET", "/api/v1/namespaces/n/configmaps/other")).toBe(false);
    expect(can(authz, bob, "GET", "/api/v1/namespaces/n/configmaps?fieldSelector=metadata.name%3Dapp")).toBe(
      true,
    );
    const rules = authz.rulesFor(bob, "n");
    expect(rules.errors).toEqual([]);
    expect(rules.resourceRules).toContainEqual(
      expect.objectContaining({ resources: ["configmaps"], resourceNames: ["app"] }),
    );
    expect(rules.resourceRules).toContainEqual(
      expect.objectContaining({ resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"] }),
    );
    expect(rules.nonResourceRules).toContainEqual(
      expect.objectContaining({ nonResourceURLs: expect.arrayContaining(["/api/*"]) }),
    );
  });
});

describe("impersonation", () => {
  // rawHeaders as kubectl sends them (Impersonate-User …): the no-impersonation fast path reads them
  const fakeReq = (h: Record<string, string[]>) =>
    ({
      headersDistinct: h,
      rawHeaders: Object.entries(h).flatMap(([k, vs]) =>
        vs.flatMap((v) => [k.replace(/(^|-)([a-z])/g, (x) => x.toUpperCase()), v]),
      ),
    }) as unknown as IncomingMessage;
  const admin = { username: "admin", groups: ["system:masters", "system:authenticated"] };

  it("passes the requestor through without headers", () => {
    const { authz } = policy();
    expect(impersonatedUser(fakeReq({}), admin, authz)).toBe(admin);
    expect(impersonatedUser(fakeReq({ accept: ["application/json"] }), admin, authz)).toBe(admin);
  });

  it("sees Impersonate-* headers in any case", () => {
    const { authz } = policy();
    const req = {
      headersDistinct: { "impersonate-group": ["devs"] },
      rawHeaders: ["IMPERSONATE-GROUP", "devs"],
    } as unknown as IncomingMessage;
    // a group without a user is refused (400), so the headers were looked at
    expect(() => impersonatedUser(req, admin, authz)).toThrow(/Impersonate-User/);
  });

  it("lets masters act as a service account, with its groups", () => {
    const { authz } = policy();
    const u = impersonatedUser(
      fakeReq({ "impersonate-user": ["system:serviceaccount:n:robot"] }),
      admin,
      authz,
    );
    expect(u).toEqual(sa("n", "robot"));
    const g = impersonatedUser(
      fakeReq({ "impersonate-user": ["bob"], "impersonate-group": ["devs", "ops"] }),
      admin,
      authz,
    );
    expect(g).toEqual({ username: "bob", groups: ["devs", "ops", "system:authenticated"] });
  });

  it("refuses users without the impersonate verb with upstream's message", () => {
    const { authz } = policy([rb("n", "ed", "edit", [{ kind: "User", name: "eve" }])]);
    const eve = { username: "eve", groups: ["system:authenticated"] };
    expect(() => impersonatedUser(fakeReq({ "impersonate-user": ["alice"] }), eve, authz)).toThrow(
      'users "alice" is forbidden: User "eve" cannot impersonate resource "users" in API group "" at the cluster scope',
    );
    // edit allows impersonating service accounts of its namespace, as upstream
    expect(
      impersonatedUser(fakeReq({ "impersonate-user": ["system:serviceaccount:n:x"] }), eve, authz).username,
    ).toBe("system:serviceaccount:n:x");
    expect(() => impersonatedUser(fakeReq({ "impersonate-group": ["g"] }), eve, authz)).toThrow(
      /Impersonate-User/,
    );
  });
});
