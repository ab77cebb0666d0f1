/**
 * CRDs: structural-schema validation messages, pruning and defaulting, and the CRD controller
 * (serving into a real ResourceRegistry, conditions, name conflicts, cleanup on deletion)
 * against a recording fake client.
 */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { refs } from "../../../../src/client/client.js";
import { CustomResourceCatalog } from "../../../../src/hub/apiserver/custom-resources/index.js";
import { ResourceRegistry } from "../../../../src/hub/apiserver/registry.js";
import { CLEANUP_FINALIZER, CrdController } from "../../../../src/hub/controllers/crd/index.js";
import { FakeClient } from "../../../helpers/fake-client.js";
import { controllerDeps } from "../../../helpers/fake-controller-deps.js";

const SCHEMA = {
  type: "object",
  properties: {
    spec: {
      type: "object",
      required: ["image"],
      properties: {
        image: { type: "string", pattern: "^[a-z]+$" },
        size: { type: "integer", minimum: 1, maximum: 10, default: 3 },
        color: { type: "string", enum: ["red", "blue"] },
        tags: { type: "array", maxItems: 2, items: { type: "string" } },
        extra: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
      },
    },
    status: { type: "object", properties: { replicas: { type: "integer" } } },
  },
};

function crd(name = "widgets.example.com", plural = "widgets", kind = "Widget"): KubeObject {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name },
    spec: {
      group: "example.com",
      scope: "Namespaced",
      names: { plural, singular: kind.toLowerCase(), kind, shortNames: ["wd"] },
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          schema: { openAPIV3Schema: SCHEMA },
          subresources: {
            status: {},
            scale: { specReplicasPath: ".spec.size", statusReplicasPath: ".status.replicas" },
          },
          additionalPrinterColumns: [{ name: "Size", type: "integer", jsonPath: ".spec.size" }],
        },
      ],
    },
  };
}

function setup() {
  const client = new FakeClient();
  const registry = new ResourceRegistry([]);
  const catalog = new CustomResourceCatalog(registry);
  const ctl = new CrdController(
    controllerDeps(client, () => new Date("2024-01-01T00:00:00Z")),
    catalog,
  );
  return { client, registry, catalog, ctl };
}

describe("custom resource schema", () => {
  it("prunes, defaults and reports violations in upstream's words", () => {
    const { catalog } = setup();
    catalog.serve(crd() as never);
    const info = catalog.servedResources("widgets.example.com")[0]!;
    const obj: KubeObject = {
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "w" },
      spec: {
        image: "Bad1",
        color: "pink",
        tags: ["a", "b", "c"],
        unknown: 1,
        extra: { kept: true },
        size: null,
      },
    };
    const causes = catalog.admit(info, obj, undefined);
    expect(obj.spec).toEqual({
      image: "Bad1",
      color: "pink",
      tags: ["a", "b", "c"],
      extra: { kept: true },
      size: 3,
    });
    expect(causes.map((c) => `${c.field}: ${c.message}`)).toEqual([
      "spec.image: Invalid value: \"Bad1\": spec.image in body should match '^[a-z]+$'",
      'spec.color: Unsupported value: "pink": supported values: "red", "blue"',
      "spec.tags: Too many: 3: must have at most 2 items",
    ]);
    const bad: KubeObject = {
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "w" },
      spec: { size: "big" },
    };
    expect(catalog.admit(info, bad, undefined).map((c) => `${c.field}: ${c.message}`)).toEqual([
      "spec.image: Required value",
      'spec.size: Invalid value: "string": spec.size in body must be of type integer: "string"',
    ]);
    const big: KubeObject = {
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "w" },
      spec: { image: "a", size: 11 },
    };
    expect(catalog.admit(info, big, undefined)[0]?.message).toBe(
      "Invalid value: 11: spec.size in body should be less than or equal to 10",
    );
  });
});

describe("CrdController", () => {
  it("adds the finalizer, serves the resource and sets NamesAccepted/Established", async () => {
    const { client, registry, catalog, ctl } = setup();
    client.seed(refs.customresourcedefinitions, crd());
    await ctl.start(new AbortController().signal);
    await ctl.idle();
    const got = (await client.get(refs.customresourcedefinitions, undefined, "widgets.example.com"))!;
    expect(got.metadata.finalizers).toEqual([CLEANUP_FINALIZER]);
    const st = got.status as {
      conditions: { type: string; status: string; reason: string; message: string }[];
      acceptedNames: unknown;
      storedVersions: string[];
    };
    expect(st.conditions.map((c) => [c.type, c.status, c.reason, c.message])).toEqual([
      ["NamesAccepted", "True", "NoConflicts", "no conflicts found"],
      ["Established", "True", "InitialNamesAccepted", "the initial names have been accepted"],
    ]);
    expect(st.acceptedNames).toEqual({
      plural: "widgets",
      singular: "widget",
      kind: "Widget",
      listKind: "WidgetList",
      shortNames: ["wd"],
    });
    expect(st.storedVersions).toEqual(["v1"]);
    const info = registry.get("example.com", "v1", "widgets")!;
    expect(info).toMatchObject({
      kind: "Widget",
      namespaced: true,
      hasStatus: true,
      schemaRef: "com.example.v1.Widget",
    });
    expect(info.scale).toEqual({ specReplicasPath: ".spec.size", statusReplicasPath: ".status.replicas" });
    expect(catalog.printer(info)?.columns.map((c) => c.name)).toEqual(["Name", "Size"]);
    expect(Object.keys(catalog.schemas())).toEqual(["com.example.v1.Widget", "com.example.v1.WidgetList"]);
    // steady state: nothing more to write
    const n = client.actions.length;
    await ctl.reconcile("widgets.example.com");
    expect(client.actions.length).toBe(n);
    ctl.stop();
  });

  it("refuses a conflicting plural and does not serve it", async () => {
    const { client, registry, ctl } = setup();
    client.seed(refs.customresourcedefinitions, crd());
    await ctl.start(new AbortController().signal);
    await ctl.idle();
    client.seed(refs.customresourcedefinitions, crd("gadgets.example.com", "widgets", "Gadget"));
    await ctl.reconcile("gadgets.example.com");
    await ctl.reconcile("gadgets.example.com");
    const got = (await client.get(refs.customresourcedefinitions, undefined, "gadgets.example.com"))!;
    const conds = (
      got.status as { conditions: { type: string; status: string; reason: string; message: string }[] }
    ).conditions;
    expect(conds[0]).toMatchObject({
      type: "NamesAccepted",
      status: "False",
      reason: "PluralConflict",
      message: '"widgets" is already in use',
    });
    expect(conds[1]).toMatchObject({ type: "Established", status: "False", reason: "NotAccepted" });
    expect(registry.get("example.com", "v1", "widgets")?.kind).toBe("Widget");
    ctl.stop();
  });

  it("on deletion removes the instances, then the finalizer, then stops serving", async () => {
    const { client, registry, ctl } = setup();
    client.seed(refs.customresourcedefinitions, {
      ...crd(),
      metadata: { name: "widgets.example.com", finalizers: [CLEANUP_FINALIZER] },
    });
    await ctl.start(new AbortController().signal);
    await ctl.idle();
    const ref = { group: "example.com", version: "v1", resource: "widgets" };
    client.seed(ref, {
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "w1", namespace: "a" },
    });
    client.seed(ref, {
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "w2", namespace: "b" },
    });
    await client.delete(refs.customresourcedefinitions, undefined, "widgets.example.com");
    await ctl.reconcile("widgets.example.com");
    expect(client.objects(ref)).toEqual([]);
    expect(
      await client.get(refs.customresourcedefinitions, undefined, "widgets.example.com"),
    ).toBeUndefined();
    expect(registry.get("example.com", "v1", "widgets")).toBeUndefined();
    expect(client.verbs().filter((v) => v.startsWith("delete widgets"))).toEqual([
      "delete widgets a/w1",
      "delete widgets b/w2",
    ]);
    ctl.stop();
  });
});
