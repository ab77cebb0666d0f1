/**
 * Strategic merge patch (application/strategic-merge-patch+json), applied the way upstream's
 * apimachinery strategicpatch package applies it on the server.
 *
 * Design notes
 * - Maps merge key by key; `null` deletes a key; a patch key missing from the original is taken
 *   as is (directives stripped, nulls inside discarded).
 * - Lists: an associative list (patchStrategy merge + mergeKey) merges items by key, `{$patch:
 *   delete, <key>: v}` removes items, `{$patch: replace}` makes the patch's items the list;
 *   a set of primitives (merge, no key) is unioned and `$deleteFromPrimitiveList/<f>` removes
 *   values; every other list is replaced.
 * - Order, as upstream: `$setElementOrder/<f>` first, then patch order, then live order. Items
 *   that are new and not placed by `$setElementOrder` come before the server's items — the
 *   known upstream behaviour of `kubectl patch` adding a container.
 * - Map directives: `$patch: replace` (the patch is the map), `$patch: delete` (empty map),
 *   `$retainKeys: [..]` (drop original keys not listed; every patched key must be listed).
 * - The function works on private copies; the caller's objects are never touched.
 */
import { cloneJson, isObject, type JsonObject } from "../object.js";
import { goFormat, patchBadRequest, patchInternal, unsupportedPatchType } from "./patch-errors.js";
import { fieldSchema, type GroupKind, type PatchSchema } from "./schema.js";
import { schemaFor, supportsStrategicMerge } from "./schema-builtin.js";
import {
  badArgType,
  elementKind,
  keyValue,
  kindOf,
  noMergeKey,
  normalizeOrder,
  partition,
  sameKey,
} from "./smp-lists.js";

const DIRECTIVE = "$patch";
const RETAIN_KEYS = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER = "$setElementOrder";

export function applyStrategicMergePatch(original: JsonObject, patch: JsonObject, gk: GroupKind): JsonObject {
  if (!supportsStrategicMerge(gk)) throw unsupportedPatchType();
  if (!isObject(patch)) throw patchBadRequest("invalid JSON document");
  return mergeMap(cloneJson(original), cloneJson(patch), schemaFor(gk));
}

function mergeMap(original: JsonObject | undefined, patch: JsonObject, schema: PatchSchema | undefined) {
  if (DIRECTIVE in patch) {
    const directive = patch[DIRECTIVE];
    if (directive === "replace") {
      delete patch[DIRECTIVE];
      return patch;
    }
    if (directive === "delete") return {};
    throw patchInternal(`unknown patch type: ${goFormat(directive)} in map: ${goFormat(patch)}`);
  }
  const out = original ?? {};
  applyRetainKeys(out, patch);
  mergeOrderedLists(out, patch, schema);

  for (const [rawKey, patchV] of Object.entries(patch)) {
    let key = rawKey;
    let isDeleteList = false;
    if (rawKey.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      key = extractKey(rawKey, DELETE_FROM_PRIMITIVE_LIST);
      isDeleteList = true;
    }
    if (patchV === null) {
      delete out[key];
      continue;
    }
    const origV = out[key];
    if (!(key in out) || kindOf(origV) !== kindOf(patchV)) {
      if (!isDeleteList) setWithoutDirectives(out, key, discardNulls(patchV));
      continue;
    }
    const fs = fieldSchema(schema, key);
    if (isObject(origV) && isObject(patchV)) {
      out[key] = fs?.patchStrategy === "replace" ? patchV : mergeMap(origV, patchV, fs);
    } else if (Array.isArray(origV) && Array.isArray(patchV)) {
      out[key] =
        fs?.patchStrategy === "merge" || isDeleteList
          ? mergeSlice(origV, patchV, fs, fs?.mergeKey ?? "", isDeleteList)
          : patchV;
    } else {
      setWithoutDirectives(out, key, patchV);
    }
  }
  return out;
}

function setWithoutDirectives(target: JsonObject, key: string, v: unknown): void {
  const [value, keep] = removeDirectives(v);
  if (keep) target[key] = value;
  else delete target[key];
}

/**
 * Strips directives from a value taken whole; a map that is itself a directive is dropped.
 * Leftover `$retainKeys`/`$setElementOrder`/`$deleteFromPrimitiveList` keys go too: upstream
 * loses them when decoding into the typed object, and they must never reach storage.
 */
function removeDirectives(v: unknown): [unknown, boolean] {
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const x of v) {
      const [nv, keep] = removeDirectives(x);
      if (keep) out.push(nv);
    }
    return [out, true];
  }
  if (isObject(v)) {
    if (DIRECTIVE in v) return [undefined, false];
    for (const [k, x] of Object.entries(v)) {
      if (isDirectiveKey(k)) {
        delete v[k];
        continue;
      }
      const [nv, keep] = removeDirectives(x);
      if (keep) v[k] = nv;
      else delete v[k];
    }
  }
  return [v, true];
}

function isDirectiveKey(k: string): boolean {
  return (
    k === RETAIN_KEYS ||
    k.startsWith(`${SET_ELEMENT_ORDER}/`) ||
    k.startsWith(`${DELETE_FROM_PRIMITIVE_LIST}/`)
  );
}

function discardNulls(v: unknown): unknown {
  if (Array.isArray(v)) v.forEach(discardNulls);
  else if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (x === null) delete v[k];
      else discardNulls(x);
    }
  }
  return v;
}

function extractKey(key: string, prefix: string): string {
  const i = key.indexOf("/");
  if (i < 0 || key.slice(0, i) !== prefix) {
    throw patchBadRequest(
      prefix === DELETE_FROM_PRIMITIVE_LIST
        ? "invalid patch format of primitive list"
        : "invalid patch format of setElementOrder list",
    );
  }
  return key.slice(i + 1);
}

function applyRetainKeys(original: JsonObject, patch: JsonObject): void {
  if (!(RETAIN_KEYS in patch)) return;
  const list = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(list)) throw patchBadRequest("invalid patch format of retainKeys");
  const keep = new Set<unknown>(list);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER)) continue;
    if (!keep.has(k)) throw patchBadRequest("invalid patch format of retainKeys");
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

/** `$setElementOrder/<f>`: merge that list now and fix its order; the list leaves the patch. */
function mergeOrderedLists(original: JsonObject, patch: JsonObject, schema: PatchSchema | undefined): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER)) continue;
    const order = patch[key];
    delete patch[key];
    if (!Array.isArray(order)) throw badArgType([], order);
    const field = extractKey(key, SET_ELEMENT_ORDER);
    const foundOriginal = field in original;
    const foundPatch = field in patch;
    const origList = original[field];
    const patchList = patch[field];
    if (foundOriginal && !Array.isArray(origList)) throw badArgType([], origList);
    if (foundPatch && !Array.isArray(patchList)) throw badArgType([], patchList);
    const fs = fieldSchema(schema, field);
    const mergeKey = fs?.mergeKey ?? "";
    const o = (origList as unknown[] | undefined) ?? [];
    const p = (patchList as unknown[] | undefined) ?? [];
    validateAgainstOrder(p, order, mergeKey);

    let merged: unknown[];
    if (foundOriginal && foundPatch) {
      merged = fs?.patchStrategy === "merge" ? mergeSlice(o, p, fs, mergeKey, false) : p;
    } else if (foundOriginal) merged = o;
    else if (foundPatch) merged = removeDirectives(p)[0] as unknown[];
    else continue;

    const [inOrder, serverOnly] = partition(merged, order, mergeKey);
    original[field] = normalizeOrder(inOrder, serverOnly, order, o, mergeKey, elementKind(o, p));
    delete patch[field];
  }
}

function validateAgainstOrder(patchList: unknown[], order: unknown[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  const items = mergeKey ? patchList.filter((x) => !(isObject(x) && x[DIRECTIVE] === "delete")) : patchList;
  let pi = 0;
  let oi = 0;
  while (pi < items.length && oi < order.length) {
    const item = items[pi];
    if (isObject(item) && DIRECTIVE in item) {
      pi++;
      continue;
    }
    if (sameKey(item, order[oi], mergeKey)) pi++;
    oi++;
  }
  if (pi < items.length) {
    throw patchInternal(
      `The order in patch list:\n${goFormat(patchList)}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${goFormat(order)}\n`,
    );
  }
}

function mergeSlice(
  original: unknown[],
  patch: unknown[],
  schema: PatchSchema | undefined,
  mergeKey: string,
  isDeleteList: boolean,
): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = elementKind(original, patch);
  let merged: unknown[];
  let orig = original;
  let items = patch;
  if (kind === "primitive") {
    if (isDeleteList) {
      const drop = new Set(patch);
      return original.filter((v) => !drop.has(v));
    }
    merged = [...new Set([...original, ...patch])];
  } else {
    if (!mergeKey) throw patchInternal("cannot merge lists without merge key");
    [orig, items] = applySpecialElements(original, patch, mergeKey);
    merged = orig.slice();
    for (const item of items as JsonObject[]) {
      const v = keyValue(item, mergeKey);
      const i = merged.findIndex((m) => isObject(m) && m[mergeKey] === v);
      if (i >= 0) merged[i] = mergeMap(merged[i] as JsonObject, item, schema?.items);
      else merged.push(item);
    }
  }
  const [inPatch, serverOnly] = partition(merged, items, mergeKey);
  return normalizeOrder(inPatch, serverOnly, items, orig, mergeKey, kind);
}

/** `$patch: delete|replace` items; returns the new original and the patch without them. */
function applySpecialElements(
  original: unknown[],
  patch: unknown[],
  mergeKey: string,
): [unknown[], unknown[]] {
  const plain: unknown[] = [];
  let orig = original;
  let replace = false;
  for (const v of patch as JsonObject[]) {
    if (!(DIRECTIVE in v)) {
      plain.push(v);
      continue;
    }
    const d = v[DIRECTIVE];
    if (d === "delete") {
      if (!(mergeKey in v)) throw noMergeKey(v, mergeKey);
      orig = orig.filter((m) => !(isObject(m) && m[mergeKey] === v[mergeKey]));
    } else if (d === "replace") replace = true;
    else if (d === "merge") throw patchInternal("merging lists cannot yet be specified in the patch");
    else throw patchInternal(`unknown patch type: ${goFormat(d)} in map: ${goFormat(v)}`);
  }
  return replace ? [plain, []] : [orig, plain];
}
