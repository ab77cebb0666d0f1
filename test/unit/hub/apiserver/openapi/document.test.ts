import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../../../../src/api/object.js";
import {
  crdSchemas,
  loadBuiltInSchemas,
  openApiV3Document,
  REF_PREFIX,
  UnknownSchemaError,
} from "../../../../../src/hub/apiserver/openapi/index.js";
import { deployments, namespaces, pods, widgetCrd, widgets } from "../../../../helpers/openapi-fixtures.js";

// the built-in table loads on demand (the API server awaits it before serving /openapi/v3)
await loadBuiltInSchemas();

type Doc = {
  paths: Record<string, Record<string, JsonObject>>;
  components: { schemas: Record<string, JsonObject> };
};
const all = [pods, namespaces, deployments, widgets];
const v1 = openApiV3Document("v1", all) as unknown as Doc;
const apps = openApiV3Document("apps/v1", all) as unknown as Doc;
const crd = openApiV3Document("example.com/v1", all, crdSchemas(widgetCrd)) as unknown as Doc;

function paramNames(op: JsonObject | undefined): string[] {
  return ((op?.parameters as JsonObject[] | undefined) ?? []).map((p) => p.name as string);
}

function refsIn(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refsIn(n, out);
  else if (typeof node === "object" && node !== null) {
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string") out.push(v);
      else refsIn(v, out);
    }
  }
  return out;
}

describe("openApiV3Document", () => {
  it("is an OpenAPI 3.0 document describing only the requested group-version", () => {
    expect(v1).toMatchObject({ openapi: "3.0.0", info: { title: "Kubernetes" } });
    expect(Object.keys(v1.paths).every((p) => p.startsWith("/api/v1/"))).toBe(true);
    expect(Object.keys(apps.paths).every((p) => p.startsWith("/apis/apps/v1/"))).toBe(true);
    expect(v1.components.schemas["io.k8s.api.apps.v1.Deployment"]).toBeUndefined();
  });

  it("lays out namespaced, all-namespaces, cluster-scoped and subresource paths like upstream", () => {
    expect(Object.keys(v1.paths)).toEqual(
      expect.arrayContaining([
        "/api/v1/namespaces/{namespace}/pods",
        "/api/v1/namespaces/{namespace}/pods/{name}",
        "/api/v1/namespaces/{namespace}/pods/{name}/status",
        "/api/v1/namespaces/{namespace}/pods/{name}/log",
        "/api/v1/namespaces/{namespace}/pods/{name}/exec",
        "/api/v1/namespaces/{namespace}/pods/{name}/eviction",
        "/api/v1/pods",
        "/api/v1/namespaces",
        "/api/v1/namespaces/{name}",
      ]),
    );
    const item = v1.paths["/api/v1/namespaces/{namespace}/pods/{name}"]!;
    expect(Object.keys(item).sort()).toEqual(["delete", "get", "parameters", "patch", "put"]);
    expect(paramNames(item)).toEqual(["name", "namespace", "pretty"]);
    // namespaces lists no deletecollection verb, so the collection has no DELETE.
    expect(v1.paths["/api/v1/namespaces"]!.delete).toBeUndefined();
    expect(paramNames(v1.paths["/api/v1/namespaces/{name}"])).toEqual(["name", "pretty"]);
  });

  it("tags every operation with its GVK and action", () => {
    const col = v1.paths["/api/v1/namespaces/{namespace}/pods"]!;
    const gvk = { group: "", version: "v1", kind: "Pod" };
    expect(col.get).toMatchObject({ "x-kubernetes-action": "list", "x-kubernetes-group-version-kind": gvk });
    expect(col.post).toMatchObject({
      "x-kubernetes-action": "post",
      operationId: "createCoreV1NamespacedPod",
    });
    expect(col.delete).toMatchObject({ "x-kubernetes-action": "deletecollection" });
    const item = v1.paths["/api/v1/namespaces/{namespace}/pods/{name}"]!;
    expect(item.patch).toMatchObject({
      "x-kubernetes-action": "patch",
      "x-kubernetes-group-version-kind": gvk,
    });
    expect(v1.paths["/api/v1/namespaces/{namespace}/pods/{name}/exec"]!.get).toMatchObject({
      "x-kubernetes-action": "connect",
    });
    expect(v1.paths["/api/v1/namespaces/{namespace}/pods/{name}/eviction"]!.post).toMatchObject({
      "x-kubernetes-group-version-kind": { group: "policy", version: "v1", kind: "Eviction" },
    });
    expect(apps.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]!.patch).toMatchObject({
      "x-kubernetes-group-version-kind": { group: "autoscaling", version: "v1", kind: "Scale" },
      operationId: "patchAppsV1NamespacedDeploymentScale",
    });
  });

  it("offers fieldValidation on every write and the patch body types kubectl sends", () => {
    const item = v1.paths["/api/v1/namespaces/{namespace}/pods/{name}"]!;
    for (const op of [item.patch, item.put, v1.paths["/api/v1/namespaces/{namespace}/pods"]!.post]) {
      expect(paramNames(op)).toEqual(expect.arrayContaining(["fieldValidation", "dryRun", "fieldManager"]));
    }
    expect(paramNames(item.patch)).toContain("force");
    expect(paramNames(item.get)).not.toContain("fieldValidation");
    const patchTypes = Object.keys((item.patch!.requestBody as { content: JsonObject }).content);
    expect(patchTypes.sort()).toEqual([
      "application/apply-patch+yaml",
      "application/json-patch+json",
      "application/merge-patch+json",
      "application/strategic-merge-patch+json",
    ]);
    const put = (item.put!.requestBody as { content: Record<string, { schema: JsonObject }> }).content;
    expect(put["application/json"]!.schema).toEqual({ $ref: `${REF_PREFIX}io.k8s.api.core.v1.Pod` });
    // Custom resources take no strategic merge patch, as upstream.
    const widgetPatch = crd.paths["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"]!.patch!;
    expect(Object.keys((widgetPatch.requestBody as { content: JsonObject }).content)).not.toContain(
      "application/strategic-merge-patch+json",
    );
    expect(paramNames(widgetPatch)).toContain("fieldValidation");
  });

  it("carries the transitive closure of referenced schemas, and nothing dangles", () => {
    const names = Object.keys(v1.components.schemas);
    expect(names).toEqual(
      expect.arrayContaining([
        "io.k8s.api.core.v1.Pod",
        "io.k8s.api.core.v1.PodList",
        "io.k8s.api.core.v1.Container",
        "io.k8s.api.core.v1.Namespace",
        "io.k8s.api.policy.v1.Eviction",
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
        "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
        "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
        "io.k8s.apimachinery.pkg.api.resource.Quantity",
      ]),
    );
    expect(names).toEqual([...names].sort());
    for (const doc of [v1, apps, crd]) {
      for (const ref of refsIn(doc)) {
        expect(doc.components.schemas[ref.slice(REF_PREFIX.length)], ref).toBeDefined();
      }
    }
    expect(apps.components.schemas["io.k8s.api.autoscaling.v1.Scale"]).toBeDefined();
    expect(crd.components.schemas["com.example.v1.Widget"]).toBeDefined();
    expect(crd.components.schemas["com.example.v1.WidgetList"]).toBeDefined();
  });

  it("is deterministic and does not share state with the schema table", () => {
    const again = openApiV3Document("v1", all) as unknown as Doc;
    expect(JSON.stringify(again)).toBe(JSON.stringify(v1));
    (again.components.schemas["io.k8s.api.core.v1.Pod"] as JsonObject).description = "changed";
    const third = openApiV3Document("v1", all) as unknown as Doc;
    expect(third.components.schemas["io.k8s.api.core.v1.Pod"]!.description).not.toBe("changed");
  });

  it("reports a schemaRef that names no schema", () => {
    expect(() => openApiV3Document("v1", [{ ...pods, schemaRef: "io.k8s.api.core.v1.Pood" }])).toThrow(
      UnknownSchemaError,
    );
  });

  it("still describes operations of a kind without a schema, with an open object", () => {
    const doc = openApiV3Document("example.com/v1", [{ ...widgets, schemaRef: undefined }]) as unknown as Doc;
    const patch = doc.paths["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"]!.patch!;
    expect(paramNames(patch)).toContain("fieldValidation");
    expect(patch["x-kubernetes-group-version-kind"]).toEqual({
      group: "example.com",
      version: "v1",
      kind: "Widget",
    });
  });
});
