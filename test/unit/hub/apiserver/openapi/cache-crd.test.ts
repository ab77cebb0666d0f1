import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../../../../src/api/object.js";
import {
  crdSchemaName,
  crdSchemas,
  loadBuiltInSchemas,
  OpenApiCache,
  openApiV3Root,
  serveOpenApiV3,
} from "../../../../../src/hub/apiserver/openapi/index.js";
import { deployments, namespaces, pods, widgetCrd, widgets } from "../../../../helpers/openapi-fixtures.js";

// the built-in table loads on demand (the API server awaits it before serving /openapi/v3)
await loadBuiltInSchemas();

describe("crdSchemas", () => {
  const schemas = crdSchemas(widgetCrd);

  it("publishes served versions under upstream's reversed-group names", () => {
    expect(crdSchemaName("stable.example.com", "v1", "CronTab")).toBe("com.example.stable.v1.CronTab");
    expect(Object.keys(schemas).sort()).toEqual(["com.example.v1.Widget", "com.example.v1.WidgetList"]);
  });

  it("adds the GVK, ObjectMeta reference and type-meta fields to the CRD's own schema", () => {
    const widget = schemas["com.example.v1.Widget"] as {
      properties: Record<string, JsonObject>;
    } & JsonObject;
    expect(widget["x-kubernetes-group-version-kind"]).toEqual([
      { group: "example.com", kind: "Widget", version: "v1" },
    ]);
    expect(widget.description).toBe("Widget is a test custom resource.");
    expect(widget.properties.metadata!.allOf).toEqual([
      { $ref: "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" },
    ]);
    expect(widget.properties.kind).toMatchObject({ type: "string" });
    expect(widget.properties.spec).toMatchObject({ properties: { size: { type: "integer" } } });
    const list = schemas["com.example.v1.WidgetList"] as {
      properties: Record<string, JsonObject>;
    } & JsonObject;
    expect(list["x-kubernetes-group-version-kind"]).toEqual([
      { group: "example.com", kind: "WidgetList", version: "v1" },
    ]);
    expect(list.properties.items!.items).toEqual({ $ref: "#/components/schemas/com.example.v1.Widget" });
  });

  it("does not modify the CRD and opens schema-less versions to unknown fields", () => {
    const before = JSON.stringify(widgetCrd);
    const bare = crdSchemas({
      ...widgetCrd,
      spec: { ...widgetCrd.spec, versions: [{ name: "v2", served: true, storage: true }] },
    });
    expect(JSON.stringify(widgetCrd)).toBe(before);
    expect(bare["com.example.v2.Widget"]).toMatchObject({
      type: "object",
      "x-kubernetes-preserve-unknown-fields": true,
    });
  });
});

describe("OpenApiCache and the /openapi/v3 endpoints", () => {
  const resources = [pods, namespaces, deployments, widgets];
  const extra = crdSchemas(widgetCrd);

  it("builds the root with one hashed URL per group-version", () => {
    expect(
      openApiV3Root([
        { groupVersion: "apps/v1", hash: "B" },
        { groupVersion: "v1", hash: "A" },
      ]),
    ).toEqual({
      paths: {
        "api/v1": { serverRelativeURL: "/openapi/v3/api/v1?hash=A" },
        "apis/apps/v1": { serverRelativeURL: "/openapi/v3/apis/apps/v1?hash=B" },
      },
    });
    const cache = new OpenApiCache(resources, extra);
    const root = JSON.parse(cache.root().toString()) as {
      paths: Record<string, { serverRelativeURL: string }>;
    };
    expect(Object.keys(root.paths).sort()).toEqual(["api/v1", "apis/apps/v1", "apis/example.com/v1"]);
    expect(root.paths["api/v1"]!.serverRelativeURL).toBe(
      `/openapi/v3/api/v1?hash=${cache.document("v1")!.hash}`,
    );
    expect(cache.document("v1")!.hash).toMatch(/^[0-9A-F]{128}$/);
  });

  it("keeps hashes stable across calls and instances, and changes them when the registry changes", () => {
    const a = new OpenApiCache(resources, extra);
    const b = new OpenApiCache(resources, extra);
    const h = a.document("apps/v1")!.hash;
    expect(a.document("apps/v1")).toBe(a.document("apps/v1"));
    expect(b.document("apps/v1")!.hash).toBe(h);
    const core = a.document("v1")!.hash;
    a.update(
      resources.filter((r) => r !== namespaces),
      extra,
    );
    expect(a.document("v1")!.hash).not.toBe(core);
    expect(a.document("apps/v1")!.hash).toBe(h);
    a.update([pods]);
    expect(a.document("apps/v1")).toBeUndefined();
  });

  it("serves documents immutably by current hash, redirects stale hashes, and honours If-None-Match", () => {
    const cache = new OpenApiCache(resources, extra);
    const { hash } = cache.document("apps/v1")!;
    const q = (s: string) => new URLSearchParams(s);
    expect(serveOpenApiV3(cache, "/apis/apps/v1", q(""))).toBeUndefined();
    const root = serveOpenApiV3(cache, "/openapi/v3", q(""))!;
    expect(root.status).toBe(200);
    expect(JSON.parse(root.body.toString()).paths["apis/apps/v1"]).toBeDefined();

    const ok = serveOpenApiV3(cache, "/openapi/v3/apis/apps/v1", q(`hash=${hash}`))!;
    expect(ok).toMatchObject({
      status: 200,
      headers: { ETag: `"${hash}"`, "Cache-Control": "public, immutable" },
    });
    expect(JSON.parse(ok.body.toString()).openapi).toBe("3.0.0");

    const stale = serveOpenApiV3(cache, "/openapi/v3/apis/apps/v1", q("hash=OLD"))!;
    expect(stale).toMatchObject({
      status: 301,
      headers: { Location: `/openapi/v3/apis/apps/v1?hash=${hash}` },
    });

    const unchanged = serveOpenApiV3(cache, "/openapi/v3/apis/apps/v1", q(""), `"${hash}"`)!;
    expect(unchanged.status).toBe(304);
    expect(unchanged.body.length).toBe(0);

    const missing = serveOpenApiV3(cache, "/openapi/v3/apis/batch/v1", q(""))!;
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body.toString())).toMatchObject({
      kind: "Status",
      reason: "NotFound",
      code: 404,
    });
  });
});
