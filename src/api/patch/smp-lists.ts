/**
 * List helpers of the strategic merge patch: element kinds, merge-key lookups and upstream's
 * ordering rule ($setElementOrder, then patch order, then live order; see strategic-merge.ts).
 */
import { isObject, type JsonObject } from "../object.js";
import { goFormat, goTypeName, patchInternal, patchUnprocessable } from "./patch-errors.js";

export type ElemKind = "map" | "primitive";

const DIRECTIVE = "$patch";

export function kindOf(v: unknown): string {
  if (Array.isArray(v)) return "list";
  if (v === null) return "null";
  return typeof v;
}

export function badArgType(expected: unknown, actual: unknown) {
  return patchInternal(`expected a ${goTypeName(expected)}, but received a ${goTypeName(actual)}`);
}

export function keyValue(item: unknown, mergeKey: string): unknown {
  if (!isObject(item)) throw badArgType({}, item);
  if (!(mergeKey in item)) throw noMergeKey(item, mergeKey);
  return item[mergeKey];
}

export function noMergeKey(item: JsonObject, mergeKey: string) {
  return patchInternal(
    `map: ${goFormat(item)} does not contain declared merge key: ${mergeKey}; every item of this list needs its "${mergeKey}" field`,
  );
}

export function sameKey(a: unknown, b: unknown, mergeKey: string): boolean {
  return mergeKey ? keyValue(a, mergeKey) === keyValue(b, mergeKey) : a === b;
}

export function elementKind(...lists: unknown[][]): ElemKind {
  let prev: string | undefined;
  for (const list of lists) {
    for (const v of list) {
      const k = kindOf(v);
      if (prev === undefined) {
        if (k === "list") throw patchUnprocessable("lists of lists are not supported");
        prev = k;
      } else if (prev !== k) {
        throw patchInternal(`list element types are not identical: ${goFormat(lists)}`);
      }
    }
  }
  return prev === "object" ? "map" : "primitive";
}

export function partition(list: unknown[], by: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const inBy: unknown[] = [];
  const rest: unknown[] = [];
  for (const v of list) {
    const found = mergeKey
      ? by.some((b) => isObject(b) && mergeKey in b && b[mergeKey] === keyValue(v, mergeKey))
      : by.includes(v);
    (found ? inBy : rest).push(v);
  }
  return [inBy, rest];
}

export function indexIn(list: unknown[], v: unknown, mergeKey: string, kind: ElemKind): number {
  const val = (x: unknown) => (kind === "map" ? (isObject(x) ? x[mergeKey] : undefined) : x);
  const want = val(v);
  return list.findIndex((x) => val(x) === want);
}

/** Patch items sorted by the patch order, server-only items by live order, then interleaved. */
export function normalizeOrder(
  patchItems: unknown[],
  serverOnly: unknown[],
  patchOrder: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
  kind: ElemKind,
): unknown[] {
  const sortBy = (items: unknown[], order: unknown[]) => {
    const deleted = kind === "map" ? items.filter((x) => isObject(x) && x[DIRECTIVE] === "delete") : [];
    const rest = items.filter((x) => !deleted.includes(x));
    rest.sort((a, b) => indexIn(order, a, mergeKey, kind) - indexIn(order, b, mergeKey, kind));
    return [...rest, ...deleted];
  };
  const right = sortBy(patchItems, patchOrder);
  const left = sortBy(serverOnly, serverOrder);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey, kind);
      const ri = indexIn(serverOrder, right[j], mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}
