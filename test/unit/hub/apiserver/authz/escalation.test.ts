/**
 * Escalation prevention: upstream's Covers over broken-down rules, and the check that refuses
 * Roles and bindings granting more than the writer holds unless it may escalate/bind.
 */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../../src/api/object.js";
import {
  bootstrapPolicy,
  EscalationCheck,
  type PolicyRule,
  RbacAuthorizer,
  RbacPolicyCache,
  toPolicyRule,
  uncovered,
} from "../../../../../src/hub/apiserver/authz/index.js";

const r = (x: Partial<PolicyRule>) => toPolicyRule(x);

describe("uncovered", () => {
  it("breaks requested rules down and covers each piece as upstream", () => {
    const owner = [
      r({ verbs: ["get", "list"], apiGroups: [""], resources: ["pods", "*/scale"] }),
      r({ verbs: ["*"], apiGroups: ["apps"], resources: ["deployments"], resourceNames: ["web"] }),
      r({ verbs: ["get"], nonResourceURLs: ["/apis/*"] }),
    ];
    expect(uncovered(owner, [r({ verbs: ["get"], apiGroups: [""], resources: ["pods"] })])).toEqual([]);
    expect(
      uncovered(owner, [r({ verbs: ["list"], apiGroups: [""], resources: ["replicasets/scale"] })]),
    ).toEqual([]);
    expect(uncovered(owner, [r({ verbs: ["get"], nonResourceURLs: ["/apis/apps"] })])).toEqual([]);
    expect(
      uncovered(owner, [
        r({ verbs: ["delete"], apiGroups: ["apps"], resources: ["deployments"], resourceNames: ["web"] }),
      ]),
    ).toEqual([]);
    // a named owner rule does not cover the unnamed resource; "*" in a request is only covered by "*"
    expect(
      uncovered(owner, [r({ verbs: ["delete"], apiGroups: ["apps"], resources: ["deployments"] })]),
    ).toHaveLength(1);
    expect(uncovered(owner, [r({ verbs: ["*"], apiGroups: [""], resources: ["pods"] })])).toHaveLength(1);
    const missing = uncovered(owner, [
      r({ verbs: ["get", "delete"], apiGroups: [""], resources: ["pods", "secrets"] }),
    ]);
    expect(missing.map((m) => `${m.verbs[0]} ${m.resources[0]}`)).toEqual([
      "get secrets",
      "delete pods",
      "delete secrets",
    ]);
  });
});

describe("EscalationCheck", () => {
  const cache = new RbacPolicyCache();
  for (const o of bootstrapPolicy())
    cache.upsert(o.kind === "ClusterRole" ? "clusterroles" : "clusterrolebindings", o);
  cache.upsert("rolebindings", {
    metadata: { name: "a", namespace: "team" },
    roleRef: { kind: "ClusterRole", name: "admin" },
    subjects: [{ kind: "User", name: "alice" }],
  } as KubeObject);
  const check = new EscalationCheck(new RbacAuthorizer(cache), cache);
  const alice = { username: "alice", groups: ["system:authenticated"] };
  const binding = (role: string): KubeObject => ({
    metadata: { name: "b", namespace: "team" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
    subjects: [{ kind: "User", name: "bob" }],
  });

  it("lets a namespace admin bind what it holds, not more", () => {
    expect(() => check.check("RoleBinding", binding("view"), alice)).not.toThrow();
    expect(() => check.check("RoleBinding", binding("edit"), alice)).not.toThrow();
    expect(() => check.check("RoleBinding", binding("cluster-admin"), alice)).toThrow(
      /^rolebindings\.rbac\.authorization\.k8s\.io "b" is forbidden: user "alice" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\["\*"\], Resources:\["\*"\], Verbs:\["\*"\]\}/,
    );
    expect(() => check.check("RoleBinding", binding("nope"), alice)).toThrow(
      /clusterroles.rbac.authorization.k8s.io "nope" not found/,
    );
  });

  it("refuses Roles with rules the writer lacks; masters and in-process writes are not checked", () => {
    const role: KubeObject = {
      metadata: { name: "nodes", namespace: "team" },
      rules: [{ verbs: ["get"], apiGroups: [""], resources: ["nodes"] }],
    };
    expect(() => check.check("Role", role, alice)).toThrow(
      /\{APIGroups:\[""\], Resources:\["nodes"\], Verbs:\["get"\]\}/,
    );
    expect(() => check.check("Role", role, { username: "root", groups: ["system:masters"] })).not.toThrow();
    expect(() => check.check("Role", role, undefined)).not.toThrow();
    const podsRole = { ...role, rules: [{ verbs: ["get", "delete"], apiGroups: [""], resources: ["pods"] }] };
    expect(() => check.check("Role", podsRole, alice)).not.toThrow();
  });

  it("allows what the escalate and bind verbs grant", () => {
    cache.upsert("clusterroles", {
      metadata: { name: "binder" },
      rules: [
        {
          verbs: ["bind"],
          apiGroups: ["rbac.authorization.k8s.io"],
          resources: ["clusterroles"],
          resourceNames: ["cluster-admin"],
        },
      ],
    } as KubeObject);
    cache.upsert("rolebindings", {
      metadata: { name: "binder", namespace: "team" },
      roleRef: { kind: "ClusterRole", name: "binder" },
      subjects: [{ kind: "User", name: "alice" }],
    } as KubeObject);
    expect(() => check.check("RoleBinding", binding("cluster-admin"), alice)).not.toThrow();
  });
});
