import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../../../../src/api/object.js";
import {
  builtInSchema,
  builtInSchemaNames,
  closure,
  loadBuiltInSchemas,
  UnknownSchemaError,
} from "../../../../../src/hub/apiserver/openapi/index.js";

// the built-in table loads on demand (the API server awaits it before serving /openapi/v3)
await loadBuiltInSchemas();

function schema(name: string): JsonObject {
  const s = builtInSchema(name);
  if (!s) throw new Error(`missing generated schema ${name}`);
  return s;
}

function prop(type: string, field: string): JsonObject {
  return (schema(type).properties as Record<string, JsonObject>)[field]!;
}

describe("generated component schemas", () => {
  it("names kinds like upstream and marks top-level kinds with their GVK", () => {
    expect(schema("io.k8s.api.core.v1.Pod")["x-kubernetes-group-version-kind"]).toEqual([
      { group: "", kind: "Pod", version: "v1" },
    ]);
    expect(schema("io.k8s.api.apps.v1.Deployment")["x-kubernetes-group-version-kind"]).toEqual([
      { group: "apps", kind: "Deployment", version: "v1" },
    ]);
    expect(schema("io.k8s.api.rbac.v1.ClusterRole")["x-kubernetes-group-version-kind"]).toEqual([
      { group: "rbac.authorization.k8s.io", kind: "ClusterRole", version: "v1" },
    ]);
    expect(
      schema("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition")[
        "x-kubernetes-group-version-kind"
      ],
    ).toEqual([{ group: "apiextensions.k8s.io", kind: "CustomResourceDefinition", version: "v1" }]);
    // Not a top-level kind: no GVK.
    expect(schema("io.k8s.api.core.v1.PodSpec")["x-kubernetes-group-version-kind"]).toBeUndefined();
  });

  it("carries descriptions, types, references and required fields", () => {
    expect(schema("io.k8s.api.core.v1.Pod").description).toMatch(/^Pod is a collection of containers/);
    expect(prop("io.k8s.api.core.v1.Pod", "metadata")).toMatchObject({
      allOf: [{ $ref: "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" }],
      description: expect.stringMatching(/^Standard object's metadata/),
    });
    expect(prop("io.k8s.api.core.v1.Container", "image")).toEqual({
      type: "string",
      description: expect.stringMatching(/^Container image name\./),
    });
    expect(schema("io.k8s.api.core.v1.Container").required).toEqual(["name"]);
    expect(schema("io.k8s.api.core.v1.PodSpec").required).toEqual(["containers"]);
    expect(prop("io.k8s.api.core.v1.ConfigMap", "data")).toMatchObject({
      type: "object",
      additionalProperties: { type: "string" },
    });
    expect(prop("io.k8s.api.core.v1.Secret", "data")).toMatchObject({
      additionalProperties: { type: "string", format: "byte" },
    });
  });

  it("takes numeric formats and merge metadata from the Go facts table", () => {
    expect(prop("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "generation")).toMatchObject({
      type: "integer",
      format: "int64",
    });
    expect(prop("io.k8s.api.apps.v1.DeploymentSpec", "replicas")).toMatchObject({
      type: "integer",
      format: "int32",
    });
    expect(prop("io.k8s.api.core.v1.PodSpec", "containers")).toMatchObject({
      type: "array",
      items: { $ref: "#/components/schemas/io.k8s.api.core.v1.Container" },
      "x-kubernetes-patch-merge-key": "name",
      "x-kubernetes-patch-strategy": "merge",
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["name"],
    });
    expect(prop("io.k8s.api.core.v1.Container", "volumeMounts")["x-kubernetes-patch-merge-key"]).toBe(
      "mountPath",
    );
    expect(prop("io.k8s.api.core.v1.ServiceSpec", "ports")["x-kubernetes-patch-merge-key"]).toBe("port");
    expect(prop("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "ownerReferences")).toMatchObject({
      "x-kubernetes-patch-merge-key": "uid",
    });
    expect(prop("io.k8s.api.core.v1.Container", "command")["x-kubernetes-list-type"]).toBe("atomic");
    expect(prop("io.k8s.api.core.v1.Container", "command")["x-kubernetes-patch-strategy"]).toBeUndefined();
  });

  it("gives the scalar wrapper types their wire form", () => {
    expect(schema("io.k8s.apimachinery.pkg.util.intstr.IntOrString")).toMatchObject({
      type: "string",
      format: "int-or-string",
      "x-kubernetes-int-or-string": true,
    });
    expect(schema("io.k8s.apimachinery.pkg.api.resource.Quantity")).toMatchObject({
      oneOf: [{ type: "string" }, { type: "number" }],
      description: expect.stringMatching(/^Quantity is a fixed-point/),
    });
    expect(schema("io.k8s.apimachinery.pkg.apis.meta.v1.Time")).toMatchObject({
      type: "string",
      format: "date-time",
    });
    expect(prop("io.k8s.api.core.v1.ServicePort", "targetPort").allOf).toEqual([
      { $ref: "#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString" },
    ]);
  });

  it("resolves every reference inside the generated table", () => {
    const all = closure(builtInSchemaNames());
    expect(Object.keys(all)).toHaveLength(builtInSchemaNames().length);
    expect(() => closure(["io.k8s.api.core.v1.Nope"])).toThrow(UnknownSchemaError);
  });

  it("is what scripts/gen-openapi.mjs produces from the installed kubernetes-types", async () => {
    const dir = mkdtempSync(join(tmpdir(), "edgekube-gen-openapi-"));
    try {
      const out = join(dir, "schemas.json");
      await promisify(execFile)(process.execPath, ["scripts/gen-openapi.mjs", out]);
      const fresh = JSON.parse(readFileSync(out, "utf8"));
      const committed = JSON.parse(readFileSync("src/hub/apiserver/openapi/generated/schemas.json", "utf8"));
      expect(fresh).toEqual(committed);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
