/**
 * Component schemas: the built-in kinds' schemas generated from `kubernetes-types` (see
 * scripts/gen-openapi.mjs), plus reference walking so a group-version document carries exactly the
 * schemas its kinds reach.
 *
 * Design notes
 * - The generated table is read-only shared data; documents get their own copies through JSON
 *   serialisation, so nothing a caller does to a served document leaks back into the table.
 * - `closure` follows `$ref`s transitively (through properties, items, additionalProperties,
 *   allOf/oneOf/anyOf). A dangling reference is a programming error (a ResourceInfo whose
 *   `schemaRef` was mistyped, or a CRD schema pointing nowhere), reported with the name so it can
 *   be fixed rather than served as a document kubectl would choke on.
 * - The table (≈700 KB of JSON, ≈0.9 MB of heap once parsed, plus its source text) loads on
 *   first use, not with every hub: the API server awaits `loadBuiltInSchemas()` before serving
 *   /openapi/v3 and before a write (field validation), so lookups stay synchronous. An idle hub
 *   nobody has written to through HTTP never loads it.
 */
import type { JsonObject } from "../../../api/object.js";
import { isObject } from "../../../api/object.js";

export const REF_PREFIX = "#/components/schemas/";

/** Upstream names of the schemas that recur in every document. */
export const META = "io.k8s.apimachinery.pkg.apis.meta.v1";
export const OBJECT_META = `${META}.ObjectMeta`;
export const LIST_META = `${META}.ListMeta`;
export const STATUS = `${META}.Status`;
export const PATCH = `${META}.Patch`;
export const DELETE_OPTIONS = `${META}.DeleteOptions`;
export const WATCH_EVENT = `${META}.WatchEvent`;
export const SCALE = "io.k8s.api.autoscaling.v1.Scale";

let builtIn: Readonly<Record<string, JsonObject>> | undefined;

/** loads the generated table once (a separate chunk of the bundle) */
export async function loadBuiltInSchemas(): Promise<void> {
  builtIn ??= (await import("./generated/schemas.json", { with: { type: "json" } })).default as Record<
    string,
    JsonObject
  >;
}

function table(): Readonly<Record<string, JsonObject>> {
  if (!builtIn) throw new Error("built-in OpenAPI schemas used before loadBuiltInSchemas() resolved");
  return builtIn;
}

export function refTo(name: string): JsonObject {
  return { $ref: REF_PREFIX + name };
}

/** The generated schema of a built-in type, or undefined when the name is unknown. */
export function builtInSchema(name: string): JsonObject | undefined {
  const t = table();
  return Object.hasOwn(t, name) ? t[name] : undefined;
}

export function builtInSchemaNames(): string[] {
  return Object.keys(table());
}

export class UnknownSchemaError extends Error {
  constructor(
    readonly schemaName: string,
    readonly referencedFrom: string,
  ) {
    super(
      `OpenAPI schema "${schemaName}" (referenced from ${referencedFrom}) is neither a generated built-in ` +
        `schema nor an extra (CRD) schema; fix the ResourceInfo.schemaRef or the CRD schema, or regenerate ` +
        `with "npm run gen:openapi"`,
    );
    this.name = "UnknownSchemaError";
  }
}

/** Every `$ref` target inside one schema (not following them). */
export function directRefs(schema: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(schema)) {
    for (const item of schema) directRefs(item, out);
  } else if (isObject(schema)) {
    for (const [key, value] of Object.entries(schema)) {
      if (key === "$ref" && typeof value === "string" && value.startsWith(REF_PREFIX)) {
        out.add(value.slice(REF_PREFIX.length));
      } else if (typeof value === "object" && value !== null) {
        // Descends through `properties` maps too: a property literally named "$ref" holds an
        // object, not a string, so it cannot be mistaken for a reference.
        directRefs(value, out);
      }
    }
  }
  return out;
}

/**
 * The named schemas and everything they reference, transitively. Extra schemas (CRDs) win over
 * built-ins of the same name. Returned schemas are fresh copies, sorted by name.
 */
export function closure(
  roots: Iterable<string>,
  extra: Readonly<Record<string, JsonObject>> = {},
): Record<string, JsonObject> {
  const found = new Map<string, JsonObject>();
  const queue: [name: string, from: string][] = [...roots].map((r) => [r, "the resource list"]);
  while (queue.length > 0) {
    const [name, from] = queue.pop()!;
    if (found.has(name)) continue;
    const schema = Object.hasOwn(extra, name) ? extra[name] : builtInSchema(name);
    if (!schema) throw new UnknownSchemaError(name, from);
    found.set(name, schema);
    for (const next of directRefs(schema)) if (!found.has(next)) queue.push([next, name]);
  }
  const out: Record<string, JsonObject> = {};
  for (const name of [...found.keys()].sort()) out[name] = JSON.parse(JSON.stringify(found.get(name)));
  return out;
}
