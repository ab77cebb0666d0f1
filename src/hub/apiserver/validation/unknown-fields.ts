/**
 * Unknown-field detection for `fieldValidation` (Strict → 400, Warn → `Warning:` header,
 * Ignore → nothing), walking an object against the OpenAPI v3 component schemas.
 *
 * Design notes
 * - Only what schemas declare counts: `additionalProperties` marks maps (any key is fine),
 *   `x-kubernetes-preserve-unknown-fields` and schema-less objects stop the walk, so CRDs
 *   with open schemas are never rejected by mistake.
 * - Paths are reported the way upstream's strict decoder does: `spec.template.spec.foo`, with
 *   list indices as `[0]`.
 */

export interface Schema {
  type?: string;
  $ref?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  allOf?: Schema[];
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  [k: string]: unknown;
}

export interface SchemaCatalog {
  /** a component schema by name ("io.k8s.api.core.v1.Pod"), or undefined */
  schema(name: string): Schema | undefined;
}

const REF_PREFIX = "#/components/schemas/";

function resolve(catalog: SchemaCatalog, s: Schema | undefined, depth: number): Schema | undefined {
  let cur = s;
  for (let i = 0; cur && i < 8; i++) {
    if (cur.$ref) {
      cur = catalog.schema(cur.$ref.startsWith(REF_PREFIX) ? cur.$ref.slice(REF_PREFIX.length) : cur.$ref);
      continue;
    }
    const first = cur.allOf?.[0];
    if (first && !cur.properties) {
      cur = first;
      continue;
    }
    return cur;
  }
  return depth > 64 ? undefined : cur;
}

/** Paths of fields in `value` that the schema does not declare. */
export function unknownFields(catalog: SchemaCatalog, schemaName: string, value: unknown): string[] {
  const out: string[] = [];
  walk(catalog, catalog.schema(schemaName), value, "", out, 0);
  return out;
}

function walk(
  catalog: SchemaCatalog,
  schema: Schema | undefined,
  value: unknown,
  path: string,
  out: string[],
  depth: number,
): void {
  const s = resolve(catalog, schema, depth);
  if (!s || depth > 64 || s["x-kubernetes-preserve-unknown-fields"]) return;
  if (Array.isArray(value)) {
    if (s.items)
      for (const [i, v] of value.entries()) walk(catalog, s.items, v, `${path}[${i}]`, out, depth + 1);
    return;
  }
  if (typeof value !== "object" || value === null) return;
  if (s.properties) {
    for (const [k, v] of Object.entries(value)) {
      const child = s.properties[k];
      const p = path === "" ? k : `${path}.${k}`;
      if (child) walk(catalog, child, v, p, out, depth + 1);
      else if (typeof s.additionalProperties === "object")
        walk(catalog, s.additionalProperties, v, p, out, depth + 1);
      else if (s.additionalProperties !== true) out.push(p);
    }
    return;
  }
  if (typeof s.additionalProperties === "object") {
    for (const [k, v] of Object.entries(value)) {
      walk(catalog, s.additionalProperties, v, path === "" ? k : `${path}.${k}`, out, depth + 1);
    }
  }
}
