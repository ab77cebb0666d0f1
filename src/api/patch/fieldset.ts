/**
 * Field sets: which fields of an object a manager owns, in managedFields' FieldsV1 format.
 *
 * Design notes
 * - A path is a list of FieldsV1 keys: `f:<field>`, `k:<json of the key fields>` (an item of an
 *   associative list), `v:<json value>` (a member of a set), `i:<index>` (fallback for items that
 *   lack their key). A set is a Map from the joined path to its elements, so union, difference
 *   and intersection are plain map operations.
 * - FieldsV1 nests the paths; a node that is itself a member and also has children carries
 *   `".": {}`, a member without children is `{}` — the same encoding upstream writes, with keys
 *   in upstream's order (`.` first, then f:, k:, v:, i:), so kubectl shows familiar output.
 * - Paths render like structured-merge-diff's for conflict messages:
 *   `.spec.template.spec.containers[name="c"].image`, `.metadata.finalizers[="x"]`.
 */
import { isObject, type JsonObject } from "../object.js";

export type FieldPath = readonly string[];

const SEP = "\u0000";

export class FieldSet {
  private readonly paths = new Map<string, FieldPath>();

  static of(paths: Iterable<FieldPath>): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.add(p);
    return s;
  }

  add(p: FieldPath): void {
    if (p.length > 0) this.paths.set(p.join(SEP), p);
  }
  has(p: FieldPath): boolean {
    return this.paths.has(p.join(SEP));
  }
  get size(): number {
    return this.paths.size;
  }
  isEmpty(): boolean {
    return this.paths.size === 0;
  }
  values(): FieldPath[] {
    return [...this.paths.values()];
  }
  union(o: FieldSet): FieldSet {
    return FieldSet.of([...this.values(), ...o.values()]);
  }
  intersect(o: FieldSet): FieldSet {
    return FieldSet.of(this.values().filter((p) => o.has(p)));
  }
  minus(o: FieldSet): FieldSet {
    return FieldSet.of(this.values().filter((p) => !o.has(p)));
  }
  /** Whether some member lies strictly below `p`. */
  hasUnder(p: FieldPath): boolean {
    const prefix = p.join(SEP) + SEP;
    for (const k of this.paths.keys()) if (k.startsWith(prefix)) return true;
    return false;
  }
  /** Drops `p` and everything below it. */
  withoutTree(p: FieldPath): FieldSet {
    const k = p.join(SEP);
    return FieldSet.of(
      this.values().filter((q) => {
        const qk = q.join(SEP);
        return qk !== k && !qk.startsWith(k + SEP);
      }),
    );
  }
}

export function decodeFieldsV1(v: unknown): FieldSet {
  const set = new FieldSet();
  const walk = (node: unknown, prefix: string[]) => {
    if (!isObject(node)) return;
    for (const [k, child] of Object.entries(node)) {
      if (k === ".") continue;
      const p = [...prefix, k];
      if (!isObject(child) || Object.keys(child).length === 0 || "." in child) set.add(p);
      walk(child, p);
    }
  };
  walk(v, []);
  return set;
}

function rank(k: string): number {
  return ["f:", "k:", "v:", "i:"].indexOf(k.slice(0, 2));
}

function compareKeys(a: string, b: string): number {
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * A FieldsV1 tree under construction: `member` marks a path that is itself in the set. Built
 * from a FieldSet, or directly by a walk that knows its paths (created-fields.ts) so that the
 * common case never joins path strings.
 */
export interface FieldNode {
  member: boolean;
  readonly children: Map<string, FieldNode>;
}

export function fieldNode(): FieldNode {
  return { member: false, children: new Map() };
}

/** The child of `n` for path element `e`, created on first use. */
export function fieldChild(n: FieldNode, e: string): FieldNode {
  let c = n.children.get(e);
  if (!c) {
    c = fieldNode();
    n.children.set(e, c);
  }
  return c;
}

/**
 * FieldsV1 JSON of a tree. A node that is neither a member nor above one renders nothing, so a
 * walk may unmark paths (server-owned fields) after building.
 */
export function renderFieldsV1(root: FieldNode): JsonObject | undefined {
  const out = (n: FieldNode): JsonObject | undefined => {
    const o: JsonObject = {};
    let any = false;
    for (const k of [...n.children.keys()].sort(compareKeys)) {
      const c = out(n.children.get(k) as FieldNode);
      if (c === undefined) continue;
      if (!any && n.member) o["."] = {};
      any = true;
      o[k] = c;
    }
    return any || n.member ? o : undefined;
  };
  return out(root);
}

export function encodeFieldsV1(set: FieldSet): JsonObject {
  const root = fieldNode();
  for (const p of set.values()) {
    let n = root;
    for (const e of p) n = fieldChild(n, e);
    n.member = true;
  }
  return renderFieldsV1(root) ?? {};
}

/** `.spec.containers[name="c"].image`, as upstream prints a path in conflicts. */
export function renderPath(p: FieldPath): string {
  return p
    .map((e) => {
      const body = e.slice(2);
      switch (e.slice(0, 2)) {
        case "f:":
          return `.${body}`;
        case "k:": {
          const key = JSON.parse(body) as JsonObject;
          const parts = Object.entries(key).map(([n, v]) => `${n}=${JSON.stringify(v)}`);
          return `[${parts.sort().join(",")}]`;
        }
        case "v:":
          return `[=${body}]`;
        default:
          return `[${body}]`;
      }
    })
    .join("");
}

export const field = (name: string): string => `f:${name}`;

/** The `k:` element of an associative-list item, or `i:<index>` when the item lacks its key. */
export function itemElement(item: unknown, mergeKey: string, index: number): string {
  if (isObject(item) && mergeKey in item) return `k:${JSON.stringify({ [mergeKey]: item[mergeKey] })}`;
  return `i:${index}`;
}

export const valueElement = (v: unknown): string => `v:${JSON.stringify(v)}`;
