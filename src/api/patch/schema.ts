/**
 * Patch schema: how each field of a built-in kind merges.
 *
 * Design notes
 * - Upstream derives strategic-merge behaviour from the `patchStrategy`/`patchMergeKey` Go struct
 *   tags of k8s.io/api, and server-side apply from the OpenAPI `x-kubernetes-list-type` markers.
 *   We keep one small tree per kind (data in schema-builtin.ts) that answers both questions:
 *   lists with a merge key are associative (SMP merges by key, SSA owns `k:{...}` items), lists
 *   with strategy merge and no key are sets of primitives (SMP unions, SSA owns `v:` items),
 *   every other list is atomic (replaced by SMP, owned as a whole by SSA).
 * - Only fields that differ from the default need an entry: an unknown field is a map that merges
 *   key by key, or an atomic list. That default is also exactly what SSA does for CRDs without a
 *   structural schema, so the same walker serves them.
 * - CRDs do not get strategic merge at all: upstream answers 415 because a custom resource has no
 *   Go struct to read tags from (supportsStrategicMerge).
 */

export interface PatchSchema {
  /** known fields of an object; fields not listed merge with the default rules */
  readonly fields?: Readonly<Record<string, PatchSchema>>;
  /**
   * List fields: "merge" + mergeKey = associative list, "merge" alone = set of primitives.
   * Object fields: "replace" = SMP replaces the whole map (patchStrategy:"replace").
   */
  readonly patchStrategy?: "merge" | "replace";
  readonly mergeKey?: string;
  /** schema of the elements of an associative list */
  readonly items?: PatchSchema;
  /** SSA: owned as a whole (`+structType=atomic`, `+mapType=atomic`) */
  readonly atomic?: boolean;
  /**
   * A Go value struct (not a pointer or map): upstream's typed objects always carry it, so an
   * Update never "adds" it as a whole and its field set has no "." member for it.
   */
  readonly struct?: boolean;
}

export interface GroupKind {
  readonly group: string;
  readonly kind: string;
}

export type ListKind = "associative" | "set" | "atomic";

export function listKind(s: PatchSchema | undefined): ListKind {
  if (s?.patchStrategy !== "merge") return "atomic";
  return s.mergeKey ? "associative" : "set";
}

export function fieldSchema(s: PatchSchema | undefined, field: string): PatchSchema | undefined {
  return s?.fields?.[field];
}

/** Builders that keep the data table readable. */
export const sch = {
  obj: (fields: Record<string, PatchSchema>, extra: Omit<PatchSchema, "fields"> = {}): PatchSchema => ({
    fields,
    ...extra,
  }),
  struct: (fields: Record<string, PatchSchema> = {}): PatchSchema => ({ fields, struct: true }),
  mergeBy: (mergeKey: string, items?: PatchSchema): PatchSchema =>
    items ? { patchStrategy: "merge", mergeKey, items } : { patchStrategy: "merge", mergeKey },
  set: { patchStrategy: "merge" } as PatchSchema,
  atomic: { atomic: true } as PatchSchema,
};
