/**
 * SubjectAccessReview / LocalSubjectAccessReview: upstream's validation causes, the subject
 * taken from spec (no group added), and decisions from the bootstrap policy (anonymous and
 * system:auth-delegator included).
 */
import { describe, expect, it } from "vitest";
import type { JsonObject, KubeObject } from "../../../../src/api/object.js";
import {
  bootstrapPolicy,
  RbacAuthorizer,
  RbacPolicyCache,
} from "../../../../src/hub/apiserver/authz/index.js";
import {
  subjectAttributes,
  validateSpec,
} from "../../../../src/hub/apiserver/handlers/subject-access-review.js";

function authorizer(extra: KubeObject[] = []): RbacAuthorizer {
  const cache = new RbacPolicyCache();
  const kinds = { ClusterRole: "clusterroles", ClusterRoleBinding: "clusterrolebindings" } as const;
  for (const o of [...bootstrapPolicy(), ...extra]) cache.upsert(kinds[o.kind as keyof typeof kinds], o);
  return new RbacAuthorizer(cache);
}

const allowed = (spec: JsonObject, extra: KubeObject[] = []) =>
  authorizer(extra).authorize(subjectAttributes(spec)).allowed;

describe("SubjectAccessReview validation", () => {
  it("wants exactly one attribute kind and a user or a group", () => {
    expect(validateSpec({}, false, {}).map((c) => c.field)).toEqual(["spec.resourceAttributes", "spec.user"]);
    const both = validateSpec(
      { user: "u", resourceAttributes: { verb: "get" }, nonResourceAttributes: { path: "/x", verb: "get" } },
      false,
      {},
    );
    expect(both).toEqual([
      {
        reason: "FieldValueInvalid",
        field: "spec.nonResourceAttributes",
        message:
          'Invalid value: {"path":"/x","verb":"get"}: cannot be specified in combination with resourceAttributes',
      },
    ]);
    expect(
      validateSpec({ groups: ["g"], resourceAttributes: {} }, false, { creationTimestamp: null }),
    ).toEqual([]);
    expect(validateSpec({ user: "u", resourceAttributes: {} }, false, { name: "x" })[0]?.message).toBe(
      'Invalid value: {"name":"x"}: must be empty',
    );
  });

  it("makes a local review's resource namespace match metadata.namespace and refuses non-resource ones", () => {
    const causes = validateSpec({ user: "u", resourceAttributes: { namespace: "other" } }, true, {
      namespace: "ns1",
    });
    expect(causes.map((c) => `${c.field}: ${c.message}`)).toEqual([
      'spec.resourceAttributes.namespace: Invalid value: "other": must match metadata.namespace',
    ]);
    expect(
      validateSpec({ user: "u", resourceAttributes: { namespace: "ns1" } }, true, { namespace: "ns1" }),
    ).toEqual([]);
    const nr = validateSpec({ user: "u", nonResourceAttributes: { path: "/x", verb: "get" } }, true, {
      namespace: "n",
    });
    expect(nr.map((c) => c.field)).toEqual(["spec.nonResourceAttributes"]);
  });
});

describe("SubjectAccessReview decisions", () => {
  it("answers for spec's subject: groups as given, nothing added", () => {
    const ra = { verb: "get", path: "/version" };
    expect(allowed({ user: "system:anonymous", nonResourceAttributes: ra })).toBe(false);
    expect(
      allowed({ user: "system:anonymous", groups: ["system:unauthenticated"], nonResourceAttributes: ra }),
    ).toBe(true);
    const pods = { verb: "list", resource: "pods", namespace: "default" };
    expect(
      allowed({ user: "system:anonymous", groups: ["system:unauthenticated"], resourceAttributes: pods }),
    ).toBe(false);
    expect(allowed({ user: "root", groups: ["system:masters"], resourceAttributes: pods })).toBe(true);
  });

  it("carries uid and extra into the user and grants system:auth-delegator its two creates", () => {
    const a = subjectAttributes({
      user: "u",
      uid: "42",
      extra: { scopes: ["a", 1] },
      resourceAttributes: {},
    });
    expect(a.user).toEqual({ username: "u", groups: [], uid: "42", extra: { scopes: ["a"] } });
    const binding: KubeObject = {
      kind: "ClusterRoleBinding",
      metadata: { name: "delegate" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:auth-delegator" },
      subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "webhook" }],
    };
    const create = (group: string, resource: string) => ({
      user: "webhook",
      resourceAttributes: { verb: "create", group, resource },
    });
    expect(allowed(create("authentication.k8s.io", "tokenreviews"), [binding])).toBe(true);
    expect(allowed(create("authorization.k8s.io", "subjectaccessreviews"), [binding])).toBe(true);
    expect(allowed(create("authorization.k8s.io", "subjectaccessreviews"))).toBe(false);
  });
});
