import { describe, expect, it } from "vitest";
import { builtinRegistry, SchemaRegistry } from "../../../../src/api/protobuf/index.js";
import { parseMessage } from "../../../../src/api/protobuf/schema.js";

describe("schema registry", () => {
  it("compiles the built-in tables and knows every kind kubectl sends as protobuf", () => {
    const kinds = builtinRegistry().kinds();
    for (const k of [
      "v1 ConfigMap",
      "v1 Secret",
      "v1 Namespace",
      "v1 Service",
      "v1 ServiceAccount",
      "v1 ResourceQuota",
      "apps/v1 Deployment",
      "batch/v1 Job",
      "batch/v1 CronJob",
      "rbac.authorization.k8s.io/v1 Role",
      "rbac.authorization.k8s.io/v1 RoleBinding",
      "rbac.authorization.k8s.io/v1 ClusterRole",
      "rbac.authorization.k8s.io/v1 ClusterRoleBinding",
      "policy/v1 PodDisruptionBudget",
      "networking.k8s.io/v1 Ingress",
      "scheduling.k8s.io/v1 PriorityClass",
      "authorization.k8s.io/v1 SelfSubjectAccessReview",
      "authentication.k8s.io/v1 SelfSubjectReview",
      "authentication.k8s.io/v1 TokenRequest",
    ]) {
      expect(kinds).toContain(k);
    }
  });

  it("covers PodSpec field by field", () => {
    const pod = builtinRegistry().message("PodSpec");
    // k8s.io/api v0.32.0 numbers PodSpec's fields 1..40 without gaps.
    const missing = Array.from({ length: 40 }, (_, i) => i + 1).filter((n) => !pod?.byNo.has(n));
    expect(missing).toEqual([]);
  });

  it("rejects a message declared twice, an unknown reference, and a kind without a message", () => {
    const a = { apiVersion: "x/v1", kinds: [], messages: { A: "1 b B" } };
    expect(() => new SchemaRegistry([a])).toThrow("A.b refers to unknown message B");
    const b = { apiVersion: "x/v1", kinds: [], messages: { A: "1 n string" } };
    expect(() => new SchemaRegistry([b, b])).toThrow("message A is declared twice");
    expect(() => new SchemaRegistry([{ ...b, kinds: ["Nope"] }])).toThrow("kind x/v1 Nope has no message");
  });

  it("parses the field DSL and rejects malformed entries", () => {
    const m = parseMessage("M", "2 b map<Quantity>, 1 a string !, 3 c Inner[], 4 d Inner inline");
    expect(
      m.fields.map((f) => [f.no, f.name, f.type, f.kind, f.map, f.repeated, f.keepZero, f.inline]),
    ).toEqual([
      [2, "b", "Quantity", "builtin", true, false, false, false],
      [1, "a", "string", "scalar", false, false, true, false],
      [3, "c", "Inner", "message", false, true, false, false],
      [4, "d", "Inner", "message", false, false, false, true],
    ]);
    expect(() => parseMessage("M", "1 a map<string")).toThrow('cannot parse field "1 a map<string"');
    expect(() => parseMessage("M", "1 a string, 1 b string")).toThrow("duplicate field number 1");
    expect(() => parseMessage("M", "1 a string inline")).toThrow("only message fields can be inline");
  });
});
