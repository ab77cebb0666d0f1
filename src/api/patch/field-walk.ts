/**
 * Schema-aware walks of objects for server-side apply: the field set an applied configuration
 * claims, the comparison of two versions of an object (what changed, was added, was removed),
 * the merge of an applied configuration onto the live object, and removal of pruned paths.
 *
 * Design notes
 * - Object fields are granular (each key its own field) unless the schema marks them atomic;
 *   associative lists are keyed by their merge key, sets by value, other lists are atomic.
 * - The applied set holds leaves and list items, never plain maps (upstream's ToFieldSet); an
 *   empty map or list in the configuration is owned as a leaf.
 * - "Added" includes every path of a new subtree, the subtree root included (that root becomes
 *   the `".": {}` of an Update manager's entry) — except Go value structs (`struct` in the
 *   schema), which upstream's typed objects always carry.
 * - Fields the apiserver owns are never tracked: apiVersion, kind, metadata.name, namespace,
 *   uid, resourceVersion, generation, creationTimestamp, selfLink, managedFields.
 */
import { isObject, type JsonObject } from "../object.js";
import { type FieldPath, FieldSet, field, itemElement, valueElement } from "./fieldset.js";
import { jsonEqual } from "./json-patch.js";
import { listKind, type PatchSchema } from "./schema.js";

const STRIPPED = [
  ["f:apiVersion"],
  ["f:kind"],
  ["f:metadata"],
  ...["name", "namespace", "creationTimestamp", "selfLink", "uid", "generation", "resourceVersion"].map(
    (f) => ["f:metadata", `f:${f}`],
  ),
];

export function stripServerFields(s: FieldSet): FieldSet {
  let out = s.withoutTree(["f:metadata", "f:managedFields"]);
  out = out.minus(FieldSet.of(STRIPPED));
  return out;
}

const grows = (p: FieldPath, e: string): FieldPath => [...p, e];

/** The fields an applied configuration sets (upstream's ToFieldSet). */
export function appliedFields(v: unknown, s: PatchSchema | undefined): FieldSet {
  const set = new FieldSet();
  const walk = (x: unknown, sc: PatchSchema | undefined, p: FieldPath) => {
    if (isObject(x) && !sc?.atomic) {
      const keys = Object.keys(x);
      if (keys.length === 0) set.add(p);
      for (const k of keys) walk(x[k], sc?.fields?.[k], grows(p, field(k)));
    } else if (Array.isArray(x) && x.length > 0 && listKind(sc) !== "atomic") {
      x.forEach((item, i) => {
        if (listKind(sc) === "set") {
          set.add(grows(p, valueElement(item)));
          return;
        }
        const ip = grows(p, itemElement(item, sc?.mergeKey ?? "", i));
        set.add(ip);
        if (isObject(item) && !sc?.items?.atomic) {
          for (const k of Object.keys(item)) walk(item[k], sc?.items?.fields?.[k], grows(ip, field(k)));
        }
      });
    } else {
      set.add(p);
    }
  };
  walk(v, s, []);
  return stripServerFields(set);
}

export interface Comparison {
  modified: FieldSet;
  added: FieldSet;
  removed: FieldSet;
}

/** Every path of a subtree (root included unless it is a value struct). */
function allPaths(v: unknown, sc: PatchSchema | undefined, p: FieldPath, into: FieldSet): void {
  if (!sc?.struct) into.add(p);
  if (isObject(v) && !sc?.atomic) {
    for (const k of Object.keys(v)) allPaths(v[k], sc?.fields?.[k], grows(p, field(k)), into);
  } else if (Array.isArray(v)) {
    const kind = listKind(sc);
    v.forEach((item, i) => {
      if (kind === "set") into.add(grows(p, valueElement(item)));
      else if (kind === "associative")
        allPaths(item, sc?.items, grows(p, itemElement(item, sc?.mergeKey ?? "", i)), into);
    });
  }
}

/** Items of a non-atomic list by their path element. */
function itemsByElement(list: unknown[], sc: PatchSchema | undefined): Map<string, unknown> {
  const m = new Map<string, unknown>();
  list.forEach((item, i) => {
    m.set(listKind(sc) === "set" ? valueElement(item) : itemElement(item, sc?.mergeKey ?? "", i), item);
  });
  return m;
}

export function compareObjects(oldV: unknown, newV: unknown, s: PatchSchema | undefined): Comparison {
  const c: Comparison = { modified: new FieldSet(), added: new FieldSet(), removed: new FieldSet() };
  const walk = (o: unknown, n: unknown, sc: PatchSchema | undefined, p: FieldPath) => {
    if (o === undefined && n === undefined) return;
    if (o === undefined) return allPaths(n, sc, p, c.added);
    if (n === undefined) return allPaths(o, sc, p, c.removed);
    if (isObject(o) && isObject(n) && !sc?.atomic) {
      for (const k of new Set([...Object.keys(o), ...Object.keys(n)])) {
        walk(o[k], n[k], sc?.fields?.[k], grows(p, field(k)));
      }
      return;
    }
    if (Array.isArray(o) && Array.isArray(n) && listKind(sc) !== "atomic") {
      const om = itemsByElement(o, sc);
      const nm = itemsByElement(n, sc);
      for (const e of new Set([...om.keys(), ...nm.keys()])) {
        const ip = grows(p, e);
        if (listKind(sc) === "set") {
          if (!om.has(e)) c.added.add(ip);
          else if (!nm.has(e)) c.removed.add(ip);
        } else walk(om.get(e), nm.get(e), sc?.items, ip);
      }
      return;
    }
    if (!jsonEqual(o, n)) c.modified.add(p);
  };
  walk(oldV, newV, s, []);
  return {
    modified: stripServerFields(c.modified),
    added: stripServerFields(c.added),
    removed: stripServerFields(c.removed),
  };
}

/** live.Merge(applied): maps merge, associative lists merge by key, sets union, the rest is replaced. */
export function mergeApplied(live: unknown, applied: unknown, s: PatchSchema | undefined): unknown {
  if (applied === undefined) return live;
  if (isObject(live) && isObject(applied) && !s?.atomic) {
    const out: JsonObject = { ...live };
    for (const [k, v] of Object.entries(applied)) out[k] = mergeApplied(live[k], v, s?.fields?.[k]);
    return out;
  }
  if (Array.isArray(live) && Array.isArray(applied) && listKind(s) !== "atomic") {
    const lm = itemsByElement(live, s);
    const am = itemsByElement(applied, s);
    const pending = [...am.keys()];
    const out: unknown[] = [];
    const emitUpTo = (e: string) => {
      while (pending.length > 0) {
        const next = pending.shift() as string;
        out.push(lm.has(next) ? mergeApplied(lm.get(next), am.get(next), s?.items) : am.get(next));
        if (next === e) return;
      }
    };
    // Applied items keep their relative order; live-only items stay where they were.
    for (const [e, item] of lm) {
      if (am.has(e)) {
        if (pending.includes(e)) emitUpTo(e);
      } else out.push(item);
    }
    emitUpTo("");
    return out;
  }
  return applied;
}

/** Removes the value at `p` from `obj` (in place); returns whether something was removed. */
export function removePath(obj: unknown, p: FieldPath): boolean {
  let cur: unknown = obj;
  for (let i = 0; i < p.length; i++) {
    const e = p[i] as string;
    const last = i === p.length - 1;
    if (e.startsWith("f:")) {
      if (!isObject(cur) || !(e.slice(2) in cur)) return false;
      if (last) return delete cur[e.slice(2)];
      cur = cur[e.slice(2)];
      continue;
    }
    if (!Array.isArray(cur)) return false;
    const list: unknown[] = cur;
    const idx = list.findIndex((item, j) =>
      e.startsWith("v:") ? valueElement(item) === e : itemElement(item, keyName(e), j) === e,
    );
    if (idx < 0) return false;
    if (last) {
      list.splice(idx, 1);
      return true;
    }
    cur = list[idx];
  }
  return false;
}

function keyName(e: string): string {
  if (!e.startsWith("k:")) return "";
  return Object.keys(JSON.parse(e.slice(2)) as JsonObject)[0] ?? "";
}

export function valueAt(obj: unknown, p: FieldPath): unknown {
  let cur: unknown = obj;
  for (const e of p) {
    if (e.startsWith("f:")) cur = isObject(cur) ? cur[e.slice(2)] : undefined;
    else if (Array.isArray(cur)) {
      const list: unknown[] = cur;
      cur = list.find((item, j) =>
        e.startsWith("v:") ? valueElement(item) === e : itemElement(item, keyName(e), j) === e,
      );
    } else return undefined;
  }
  return cur;
}
