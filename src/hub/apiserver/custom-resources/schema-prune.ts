/**
 * Pruning and defaulting of custom objects by their structural schema (upstream
 * apiextensions-apiserver pkg/apiserver/schema/pruning and defaulting), applied on every
 * write before validation: unknown fields vanish unless `x-kubernetes-preserve-unknown-fields`
 * keeps them, and absent (or null, non-nullable) fields with a `default` get it.
 *
 * Design notes
 * - Both walks mutate the object in place: it is the server's private copy of the request.
 * - At the root and in `x-kubernetes-embedded-resource` objects, apiVersion, kind and metadata
 *   are kept (the server owns them); defaults are deep-copied so writes never share them.
 * - Defaulting runs after pruning and recurses into the defaulted value, as upstream does.
 */
import { isObject } from "../../../api/object.js";
import type { StructuralSchema } from "./schema-validate.js";

const TYPE_META = new Set(["apiVersion", "kind", "metadata"]);

/** Remove fields the schema does not declare. */
export function prune(s: StructuralSchema | undefined, v: unknown, root = false): void {
  if (!s) return;
  // structural schemas keep properties at the top level (allOf/anyOf may only add checks)
  if (Array.isArray(v)) {
    if (s.items) for (const x of v) prune(s.items, x);
    return;
  }
  if (!isObject(v)) return;
  const embedded = root || s["x-kubernetes-embedded-resource"] === true;
  for (const k of Object.keys(v)) {
    if (embedded && TYPE_META.has(k)) continue;
    const p = s.properties?.[k];
    if (p) prune(p, v[k]);
    else if (isObject(s.additionalProperties)) prune(s.additionalProperties, v[k]);
    else if (!s["x-kubernetes-preserve-unknown-fields"] && s.additionalProperties !== true) delete v[k];
  }
}

/** Fill `default`s of absent fields (and of nulls where the field is not nullable). */
export function applyDefaults(s: StructuralSchema | undefined, v: unknown): void {
  if (!s) return;
  if (Array.isArray(v)) {
    if (s.items) for (const x of v) applyDefaults(s.items, x);
    return;
  }
  if (!isObject(v)) return;
  for (const [k, p] of Object.entries(s.properties ?? {})) {
    if (p.default !== undefined && (!(k in v) || (v[k] === null && !p.nullable)))
      v[k] = structuredClone(p.default);
    if (k in v) applyDefaults(p, v[k]);
  }
  if (isObject(s.additionalProperties)) {
    for (const k of Object.keys(v)) if (!s.properties?.[k]) applyDefaults(s.additionalProperties, v[k]);
  }
}
