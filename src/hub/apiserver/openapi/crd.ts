/**
 * OpenAPI component schemas for a CustomResourceDefinition, so custom resources appear in
 * /openapi/v3 like built-ins: kubectl needs every served group-version in the v3 root (otherwise it
 * falls back to /openapi/v2 and `create -f` fails), and `kubectl explain widget.spec` reads these.
 *
 * Design notes
 * - Names follow upstream's CRD publishing: the group reversed, then version and kind
 *   (`example.com`, `v1`, `Widget` → `com.example.v1.Widget`), plus the `…List` schema.
 * - As upstream does, `metadata` is replaced by a reference to ObjectMeta (a CRD's own metadata
 *   schema may only restrict name/generateName), and `apiVersion`/`kind` get their standard
 *   descriptions, so explain output matches built-ins.
 * - Only served versions are published. A version without a schema is published as an object
 *   preserving unknown fields, which is what the server will accept for it.
 */
import type { CustomResourceDefinition } from "kubernetes-types/apiextensions/v1";
import type { JsonObject } from "../../../api/object.js";
import { cloneJson, isObject } from "../../../api/object.js";
import { LIST_META, OBJECT_META, refTo } from "./schemas.js";

const API_VERSION_DESCRIPTION =
  "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
const KIND_DESCRIPTION =
  "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";
const METADATA_DESCRIPTION =
  "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/** Upstream's component name for a custom kind: `com.example.v1.Widget`. */
export function crdSchemaName(group: string, version: string, kind: string): string {
  return `${group.split(".").reverse().join(".")}.${version}.${kind}`;
}

function typeMetaProperties(): JsonObject {
  return {
    apiVersion: { description: API_VERSION_DESCRIPTION, type: "string" },
    kind: { description: KIND_DESCRIPTION, type: "string" },
  };
}

function kindSchema(source: unknown, group: string, version: string, kind: string): JsonObject {
  const schema: JsonObject = isObject(source)
    ? cloneJson(source)
    : { type: "object", "x-kubernetes-preserve-unknown-fields": true };
  const own = isObject(schema.properties) ? schema.properties : {};
  schema.properties = {
    ...own,
    ...typeMetaProperties(),
    metadata: { allOf: [refTo(OBJECT_META)], description: METADATA_DESCRIPTION },
  };
  schema.type ??= "object";
  schema["x-kubernetes-group-version-kind"] = [{ group, kind, version }];
  return schema;
}

function listSchema(
  itemName: string,
  group: string,
  version: string,
  kind: string,
  listKind: string,
): JsonObject {
  return {
    description: `${listKind} is a list of ${kind}`,
    type: "object",
    required: ["items"],
    properties: {
      ...typeMetaProperties(),
      items: {
        description: `List of ${kind.toLowerCase()}s. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md`,
        type: "array",
        items: refTo(itemName),
      },
      metadata: {
        allOf: [refTo(LIST_META)],
        description:
          "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
      },
    },
    "x-kubernetes-group-version-kind": [{ group, kind: listKind, version }],
  };
}

/**
 * Component schemas (kind and list) for every served version of a CRD, keyed by upstream name.
 * Versions marked `served: false` are skipped; a CRD without group or kind yields nothing.
 */
export function crdSchemas(crd: CustomResourceDefinition): Record<string, JsonObject> {
  const out: Record<string, JsonObject> = {};
  const { group, names, versions } = crd.spec ?? {};
  if (!group || !names?.kind) return out;
  const kind = names.kind;
  const listKind = names.listKind || `${kind}List`;
  for (const v of versions ?? []) {
    if (!v.served) continue;
    const name = crdSchemaName(group, v.name, kind);
    out[name] = kindSchema(v.schema?.openAPIV3Schema, group, v.name, kind);
    out[crdSchemaName(group, v.name, listKind)] = listSchema(name, group, v.name, kind, listKind);
  }
  return out;
}
