/**
 * Server-side apply and managedFields bookkeeping (metadata.managedFields, FieldsV1).
 *
 * Design notes — follows structured-merge-diff's Updater, simplified:
 * - Apply: new = merge(live, applied); the applier's entry becomes exactly the applied set;
 *   fields in the applier's previous set that nobody owns any more are pruned from the object;
 *   then live and new are compared: another manager owning a field that changed or appeared is a
 *   conflict (409) unless force, which moves the field to the applier; removed fields leave
 *   every entry. A live object without managedFields is first owned by "before-first-apply".
 * - Update (create/update/patch): the manager's entry gains every field it changed or added;
 *   other managers lose those fields and the removed ones; its time only moves when it changed
 *   something. Managers are told apart by manager, operation, subresource and (for Update)
 *   apiVersion, as upstream does.
 * - Simplified compared with upstream: one API version (no conversion between versions), merge
 *   keys come from the SMP tag table (so container ports key on containerPort only, not
 *   containerPort+protocol), explicit nulls in an applied configuration are ignored, no
 *   unions/discriminators, no cap of 10 Update entries, status is not reset for the main
 *   resource (the registry's strategy does that), and CRD schemas are not consulted (all maps
 *   granular, all lists atomic).
 */
import { ApiError, type StatusCause } from "../errors.js";
import { cloneJson, isObject, type JsonObject, parseApiVersion } from "../object.js";
import { createdFieldsV1 } from "./created-fields.js";
import { appliedFields, compareObjects, mergeApplied, removePath, valueAt } from "./field-walk.js";
import { decodeFieldsV1, encodeFieldsV1, type FieldPath, FieldSet, renderPath } from "./fieldset.js";
import type { GroupKind, PatchSchema } from "./schema.js";
import { schemaFor } from "./schema-builtin.js";

interface Entry {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  time?: string;
  subresource?: string;
  set: FieldSet;
}

export interface ServerSideApplyOptions {
  live?: JsonObject;
  applied: JsonObject;
  manager: string;
  force: boolean;
  gk: GroupKind;
  /** RFC 3339 time of the request, e.g. "2025-01-01T00:00:00Z" */
  now: string;
  /** apiVersion of the request ("apps/v1") */
  apiVersion: string;
}

export interface UpdateManagedFieldsOptions {
  old?: JsonObject;
  updated: JsonObject;
  manager: string;
  operation: "Update";
  now: string;
  apiVersion: string;
  subresource?: string;
  gk?: GroupKind;
}

const sameManager = (a: Entry, b: Pick<Entry, "manager" | "operation" | "apiVersion" | "subresource">) =>
  a.manager === b.manager &&
  a.operation === b.operation &&
  (a.subresource ?? "") === (b.subresource ?? "") &&
  (a.operation === "Apply" || a.apiVersion === b.apiVersion);

function decodeEntries(obj: JsonObject | undefined): Entry[] {
  const mf = isObject(obj?.metadata) ? obj.metadata.managedFields : undefined;
  if (!Array.isArray(mf)) return [];
  return mf.filter(isObject).map((e) => {
    const entry: Entry = {
      manager: String(e.manager ?? ""),
      operation: e.operation === "Apply" ? "Apply" : "Update",
      apiVersion: String(e.apiVersion ?? ""),
      set: decodeFieldsV1(e.fieldsV1),
    };
    if (typeof e.time === "string") entry.time = e.time;
    if (typeof e.subresource === "string" && e.subresource) entry.subresource = e.subresource;
    return entry;
  });
}

function encodeEntries(entries: Entry[]): JsonObject[] {
  const sorted = entries
    .filter((e) => !e.set.isEmpty())
    .sort(
      (p, q) =>
        cmp(p.operation, q.operation) ||
        cmp(p.time ?? "", q.time ?? "") ||
        cmp(p.manager, q.manager) ||
        cmp(p.apiVersion, q.apiVersion) ||
        cmp(p.subresource ?? "", q.subresource ?? ""),
    );
  return sorted.map((e) => {
    const out: JsonObject = { manager: e.manager, operation: e.operation, apiVersion: e.apiVersion };
    if (e.time) out.time = e.time;
    out.fieldsType = "FieldsV1";
    out.fieldsV1 = encodeFieldsV1(e.set);
    if (e.subresource) out.subresource = e.subresource;
    return out;
  });
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function withManagedFields(obj: JsonObject, entries: Entry[]): JsonObject {
  const meta: JsonObject = isObject(obj.metadata) ? obj.metadata : {};
  const encoded = encodeEntries(entries);
  if (encoded.length > 0) meta.managedFields = encoded;
  else delete meta.managedFields;
  obj.metadata = meta;
  return obj;
}

function withoutManagedFields(obj: JsonObject): JsonObject {
  const c = cloneJson(obj);
  if (isObject(c.metadata)) delete c.metadata.managedFields;
  return c;
}

/** `obj` without metadata.managedFields, sharing everything else with it */
function withoutManagedFieldsShallow(obj: JsonObject): JsonObject {
  if (!isObject(obj.metadata)) return { ...obj };
  const { managedFields: _mf, ...meta } = obj.metadata;
  return { ...obj, metadata: meta };
}

function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = dropNulls(x);
  return out;
}

function describeManager(e: Entry): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  return e.operation === "Update" ? `${s} using ${e.apiVersion}` : s;
}

function conflictError(conflicts: { entry: Entry; path: FieldPath }[]): ApiError {
  const causes: StatusCause[] = conflicts.map((c) => ({
    reason: "FieldManagerConflict",
    message: `conflict with ${describeManager(c.entry)}`,
    field: renderPath(c.path),
  }));
  let message: string;
  const first = conflicts[0];
  if (conflicts.length === 1 && first) {
    message = `Apply failed with 1 conflict: conflict with ${describeManager(first.entry)}: ${renderPath(first.path)}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) {
      const k = describeManager(c.entry);
      byManager.set(k, [...(byManager.get(k) ?? []), `- ${renderPath(c.path)}`]);
    }
    const lines = [...byManager.keys()]
      .sort()
      .flatMap((k) => [`conflicts with ${k}:`, ...(byManager.get(k) ?? [])]);
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join("\n")}`;
  }
  return new ApiError(409, "Conflict", message, { causes });
}

/** Server-side apply of `applied` by `manager`; returns the new object with managedFields. */
export function serverSideApply(opts: ServerSideApplyOptions): JsonObject {
  const schema = schemaFor(opts.gk);
  const live = opts.live ? withoutManagedFields(opts.live) : undefined;
  const applied = dropNulls(withoutManagedFields(opts.applied)) as JsonObject;

  let entries = decodeEntries(opts.live);
  if (live && entries.length === 0) {
    const all = appliedFields(live, schema);
    entries = [{ manager: "before-first-apply", operation: "Update", apiVersion: opts.apiVersion, set: all }];
  }
  const me: Entry = {
    manager: opts.manager,
    operation: "Apply",
    apiVersion: opts.apiVersion,
    set: new FieldSet(),
  };
  const previous = entries.find((e) => sameManager(e, me));
  const others = entries.filter((e) => e !== previous);
  me.set = appliedFields(applied, schema);
  me.time = opts.now;

  const merged = mergeApplied(live ?? {}, applied, schema) as JsonObject;

  if (previous) {
    const owned = others.reduce((acc, e) => acc.union(e.set), me.set);
    const pruned = previous.set.values().filter((p) => !owned.has(p) && !owned.hasUnder(p));
    // Parents first: removing a key field first would make its list item unfindable.
    for (const p of pruned.sort((a, b) => a.length - b.length)) removePath(merged, p);
    // A map that held only pruned fields goes too, unless someone owns it.
    for (const p of pruned) {
      for (let n = p.length - 1; n > 0; n--) {
        const parent = p.slice(0, n);
        const v = valueAt(merged, parent);
        const empty = (isObject(v) && Object.keys(v).length === 0) || (Array.isArray(v) && v.length === 0);
        if (!empty || owned.has(parent) || owned.hasUnder(parent)) break;
        removePath(merged, parent);
      }
    }
  }

  const diff = compareObjects(live ?? {}, merged, schema);
  const changed = diff.modified.union(diff.added);
  const conflicts: { entry: Entry; path: FieldPath }[] = [];
  for (const e of others) {
    for (const p of e.set.intersect(changed).values()) conflicts.push({ entry: e, path: p });
  }
  if (conflicts.length > 0 && !opts.force) throw conflictError(conflicts);
  for (const e of others) e.set = e.set.minus(changed).minus(diff.removed);

  return withManagedFields(merged, [me, ...others]);
}

/** Records what `manager` changed in an ordinary create/update/patch. */
export function updateManagedFields(opts: UpdateManagedFieldsOptions): JsonObject {
  const gv = parseApiVersion(String(opts.updated.apiVersion ?? opts.apiVersion));
  const schema = schemaFor(opts.gk ?? { group: gv.group, kind: String(opts.updated.kind ?? "") });
  const md = opts.updated.metadata;
  if (!opts.old && !(isObject(md) && md.managedFields !== undefined)) return recordCreate(opts, schema);
  // shallow copies: nothing below mutates either object, only the copy's metadata is replaced
  const updated = withoutManagedFieldsShallow(opts.updated);
  const old = opts.old ? withoutManagedFieldsShallow(opts.old) : undefined;

  // A client may set managedFields itself (e.g. to reset them); otherwise keep the live ones.
  const requested = decodeEntries(opts.updated);
  const liveEntries = decodeEntries(opts.old);
  const mfOf = (o: JsonObject | undefined) =>
    JSON.stringify(isObject(o?.metadata) ? o.metadata.managedFields : null);
  const ownSet = !opts.subresource && requested.length > 0 && mfOf(opts.updated) !== mfOf(opts.old);
  const entries = ownSet ? requested : liveEntries;

  const diff = compareObjects(old ?? {}, updated, schema);
  const changed = diff.modified.union(diff.added);
  const id = {
    manager: opts.manager,
    operation: opts.operation,
    apiVersion: opts.apiVersion,
    ...(opts.subresource ? { subresource: opts.subresource } : {}),
  };
  let self = entries.find((e) => sameManager(e, id));
  for (const e of entries) e.set = e.set.minus(diff.removed).minus(e === self ? new FieldSet() : changed);
  if (!changed.isEmpty()) {
    if (!self) {
      self = { ...id, set: new FieldSet() };
      entries.push(self);
    }
    self.set = self.set.union(changed);
    self.time = opts.now;
  }
  return withManagedFields(updated, entries);
}

/**
 * A create without client-supplied managedFields: the manager owns every field (see
 * created-fields.ts); same result as the general path, a fraction of its work.
 */
function recordCreate(opts: UpdateManagedFieldsOptions, schema: PatchSchema | undefined): JsonObject {
  const fieldsV1 = createdFieldsV1(opts.updated, schema);
  const meta: JsonObject = isObject(opts.updated.metadata) ? { ...opts.updated.metadata } : {};
  delete meta.managedFields;
  if (fieldsV1 !== undefined) {
    const entry: JsonObject = {
      manager: opts.manager,
      operation: opts.operation,
      apiVersion: opts.apiVersion,
    };
    if (opts.now) entry.time = opts.now;
    entry.fieldsType = "FieldsV1";
    entry.fieldsV1 = fieldsV1;
    if (opts.subresource) entry.subresource = opts.subresource;
    meta.managedFields = [entry];
  }
  return { ...opts.updated, metadata: meta };
}
