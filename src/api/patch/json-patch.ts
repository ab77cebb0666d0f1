/**
 * JSON patch (RFC 6902, application/json-patch+json): `kubectl rollout undo` and
 * `kubectl patch --type=json` send it.
 *
 * Design notes
 * - Written here rather than taken from fast-json-patch so the input is never mutated, op values
 *   are copied (not shared with the result) and failures carry upstream's classification:
 *   a document that is not a list of operations is a 400 (upstream fails to decode it), an
 *   operation that cannot apply — missing path, bad index, failed `test` — is a 422 with
 *   evanphx/json-patch's wording.
 * - Pointers follow RFC 6901: `~1` is "/", `~0` is "~", "-" appends (add only), indexes have no
 *   leading zeros. `test` compares JSON values structurally (key order does not matter).
 */
import { cloneJson, isObject, type JsonObject } from "../object.js";
import { patchBadRequest, patchUnprocessable } from "./patch-errors.js";

export interface JsonPatchOp {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

export function applyJsonPatch(original: JsonObject, ops: unknown): JsonObject {
  if (!Array.isArray(ops)) {
    throw patchBadRequest(
      'json: cannot unmarshal object into Go value of type jsonpatch.Patch: a JSON patch must be a list of operations such as [{"op":"replace","path":"/spec/replicas","value":3}]',
    );
  }
  for (const op of ops) {
    if (!isObject(op)) {
      throw patchBadRequest(
        `json: cannot unmarshal ${typeof op} into a JSON patch operation: each one is an object`,
      );
    }
  }
  const root: { doc: unknown } = { doc: cloneJson(original) };
  for (const op of ops as JsonObject[]) applyOne(root, op);
  if (!isObject(root.doc)) throw patchUnprocessable("the patched document is not a JSON object");
  return root.doc;
}

function applyOne(root: { doc: unknown }, op: JsonObject): void {
  const kind = op.op;
  const path = pathOf(op, "path");
  switch (kind) {
    case "add":
      add(root, path, opValue(op), "add");
      return;
    case "remove":
      remove(root, path, "remove");
      return;
    case "replace": {
      const [parent, key] = resolve(root, path, "replace");
      if (!has(parent, key)) throw missing("replace operation does not apply: doc is missing key", path);
      set(parent, key, opValue(op));
      return;
    }
    case "move": {
      const from = pathOf(op, "from");
      if (path !== from && path.startsWith(`${from}/`)) {
        throw patchUnprocessable(`move operation does not apply: "${from}" is a prefix of "${path}"`);
      }
      const v = remove(root, from, "move");
      add(root, path, v, "move");
      return;
    }
    case "copy": {
      const from = pathOf(op, "from");
      const [parent, key] = resolve(root, from, "copy");
      if (!has(parent, key)) throw missing("copy operation does not apply: doc is missing from path", from);
      add(root, path, cloneJson(get(parent, key)), "copy");
      return;
    }
    case "test": {
      const [parent, key] = resolve(root, path, "test", true);
      const actual = parent !== undefined && has(parent, key) ? get(parent, key) : undefined;
      if (!jsonEqual(actual, op.value)) throw patchUnprocessable(`testing value ${path} failed: test failed`);
      return;
    }
    default:
      throw patchUnprocessable(
        `Unexpected kind: ${String(kind)}: op must be one of add, remove, replace, move, copy, test`,
      );
  }
}

function pathOf(op: JsonObject, field: "path" | "from"): string {
  const p = op[field];
  if (typeof p !== "string") throw patchUnprocessable(`operation missing ${field} field`);
  if (p !== "" && !p.startsWith("/")) {
    throw patchUnprocessable(`invalid JSON pointer ${JSON.stringify(p)}: it must be empty or start with "/"`);
  }
  return p;
}

function opValue(op: JsonObject): unknown {
  if (!("value" in op)) throw patchUnprocessable(`${String(op.op)} operation is missing its value`);
  return cloneJson(op.value);
}

function tokens(path: string): string[] {
  return path
    .split("/")
    .slice(1)
    .map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
}

type Container = JsonObject | unknown[];

/** The container holding the pointer's target, and the last token. Root is `{doc}`/"doc". */
function resolve(root: { doc: unknown }, path: string, opName: string, lenient = false): [Container, string] {
  const toks = tokens(path);
  let parent: Container = root as unknown as JsonObject;
  let key = "doc";
  for (const t of toks) {
    const next: unknown = has(parent, key) ? get(parent, key) : undefined;
    if (!isObject(next) && !Array.isArray(next)) {
      if (lenient) return [undefined as unknown as Container, t];
      throw missing(`${opName} operation does not apply: doc is missing path`, path);
    }
    parent = next;
    key = t;
  }
  return [parent, key];
}

function arrayIndex(arr: unknown[], key: string, forAdd: boolean): number {
  if (forAdd && key === "-") return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(key)) throw patchUnprocessable(`invalid array index ${JSON.stringify(key)}`);
  const i = Number(key);
  if (i > arr.length || (!forAdd && i === arr.length)) {
    throw patchUnprocessable(`Unable to access invalid index: ${i}: invalid index referenced`);
  }
  return i;
}

function has(c: Container, key: string): boolean {
  if (Array.isArray(c)) return /^(0|[1-9][0-9]*)$/.test(key) && Number(key) < c.length;
  return Object.hasOwn(c, key);
}

function get(c: Container, key: string): unknown {
  return Array.isArray(c) ? c[arrayIndex(c, key, false)] : c[key];
}

function set(c: Container, key: string, v: unknown): void {
  if (Array.isArray(c)) c[arrayIndex(c, key, false)] = v;
  else c[key] = v;
}

function add(root: { doc: unknown }, path: string, v: unknown, opName: string): void {
  const [parent, key] = resolve(root, path, opName);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true), 0, v);
  else parent[key] = v;
}

function remove(root: { doc: unknown }, path: string, opName: string): unknown {
  const [parent, key] = resolve(root, path, opName);
  if (!has(parent, key)) {
    throw missing(
      `${opName} operation does not apply: doc is missing ${opName === "move" ? "from " : ""}path`,
      path,
    );
  }
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, key, false), 1)[0];
  const v = parent[key];
  delete parent[key];
  return v;
}

function missing(what: string, path: string) {
  return patchUnprocessable(`${what}: "${path}": missing value`);
}

export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}
