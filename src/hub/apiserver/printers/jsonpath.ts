/**
 * The JSONPath subset CRD printer columns use, evaluated like client-go's jsonpath with
 * AllowMissingKeys(true): a missing key or index yields no result instead of an error.
 *
 * Supported: `.a.b`, `['a.b']` / `["a"]`, `[0]`, `[-1]`, `[1:3]`, `[*]`, `.*`, `..a` (recursive
 * descent), and filters `[?(@.type=="Ready")]` with == != < <= > >= against a string or number
 * literal, or `[?(@.a)]` for existence. That covers what CRDs in the wild put in
 * additionalPrinterColumns; anything else is rejected at parse time with a message naming it.
 *
 * Design notes:
 * - A path compiles once per CRD version into steps; evaluation maps a list of current values
 *   through each step, so `[*]` fans out and later steps apply to every element.
 * - Filters compare like Go's text/template eq/lt: both sides must be of the same basic kind
 *   (string or number), otherwise the element does not match.
 */

type Step =
  | { kind: "field"; name: string }
  | { kind: "wildcard" }
  | { kind: "recursive"; name: string }
  | { kind: "index"; index: number }
  | { kind: "slice"; start?: number; end?: number }
  | { kind: "filter"; path: Step[]; op?: string; literal?: string | number };

export class JsonPathError extends Error {
  constructor(path: string, why: string) {
    super(`unrecognized JSONPath ${JSON.stringify(path)}: ${why}`);
    this.name = "JsonPathError";
  }
}

const FIELD_CHAR = /[^.[\]\s()=!<>@?'"]/;

function readName(src: string, i: number): [string, number] {
  let j = i;
  while (j < src.length && FIELD_CHAR.test(src.charAt(j))) j++;
  return [src.slice(i, j), j];
}

function parseSteps(src: string, full: string): Step[] {
  const steps: Step[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src.charAt(i);
    if (c === "." && src.charAt(i + 1) === ".") {
      const [name, j] = readName(src, i + 2);
      if (!name) throw new JsonPathError(full, "expected a field name after '..'");
      steps.push({ kind: "recursive", name });
      i = j;
    } else if (c === ".") {
      if (src.charAt(i + 1) === "*") {
        steps.push({ kind: "wildcard" });
        i += 2;
        continue;
      }
      const [name, j] = readName(src, i + 1);
      if (name) steps.push({ kind: "field", name });
      i = j;
    } else if (c === "[") {
      const close = findClose(src, i, full);
      steps.push(parseBracket(src.slice(i + 1, close).trim(), full));
      i = close + 1;
    } else {
      throw new JsonPathError(full, `unexpected ${JSON.stringify(c)} at offset ${i}`);
    }
  }
  return steps;
}

function findClose(src: string, open: number, full: string): number {
  let quote = "";
  let depth = 0;
  for (let j = open; j < src.length; j++) {
    const ch = src.charAt(j);
    if (quote) {
      if (ch === quote) quote = "";
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === "[") depth++;
    else if (ch === "]" && --depth === 0) return j;
  }
  throw new JsonPathError(full, "unterminated '['");
}

function parseLiteral(text: string, full: string): string | number {
  const t = text.trim();
  if ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'"))) {
    return t.slice(1, -1);
  }
  const n = Number(t);
  if (t !== "" && Number.isFinite(n)) return n;
  throw new JsonPathError(full, `filter value ${t} is neither a quoted string nor a number`);
}

function parseBracket(inner: string, full: string): Step {
  if (inner === "*") return { kind: "wildcard" };
  if (/^'.*'$|^".*"$/.test(inner)) return { kind: "field", name: inner.slice(1, -1) };
  if (/^-?\d+$/.test(inner)) return { kind: "index", index: Number(inner) };
  const slice = /^(-?\d*):(-?\d*)$/.exec(inner);
  if (slice) {
    const step: Step = { kind: "slice" };
    if (slice[1]) step.start = Number(slice[1]);
    if (slice[2]) step.end = Number(slice[2]);
    return step;
  }
  const filter = /^\?\(\s*@(.*?)\s*(?:(==|!=|<=|>=|<|>)\s*(.+?))?\s*\)$/.exec(inner);
  if (filter) {
    const path = parseSteps(filter[1] ?? "", full);
    if (!filter[2]) return { kind: "filter", path };
    return { kind: "filter", path, op: filter[2], literal: parseLiteral(filter[3] ?? "", full) };
  }
  throw new JsonPathError(full, `unsupported expression [${inner}]`);
}

export type CompiledPath = readonly Step[];

/** Compiles `.a.b` style paths; also accepts the `{...}` template braces kubectl users write. */
export function compileJsonPath(path: string): CompiledPath {
  let src = path.trim();
  if (src.startsWith("{") && src.endsWith("}")) src = src.slice(1, -1).trim();
  if (src.startsWith("$")) src = src.slice(1);
  return parseSteps(src, path);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function collectRecursive(v: unknown, name: string, out: unknown[]): void {
  if (Array.isArray(v)) {
    for (const x of v) collectRecursive(x, name, out);
  } else if (isRecord(v)) {
    if (name in v) out.push(v[name]);
    for (const x of Object.values(v)) collectRecursive(x, name, out);
  }
}

function matches(v: unknown, step: Extract<Step, { kind: "filter" }>): boolean {
  const found = evaluate(step.path, v);
  if (found.length === 0) return false;
  if (step.op === undefined) return true;
  const left = found[0];
  const right = step.literal;
  if (typeof left !== typeof right || (typeof left !== "string" && typeof left !== "number")) return false;
  const l = left as string | number;
  const r = right as string | number;
  switch (step.op) {
    case "==":
      return l === r;
    case "!=":
      return l !== r;
    case "<":
      return l < r;
    case "<=":
      return l <= r;
    case ">":
      return l > r;
    default:
      return l >= r;
  }
}

function applyStep(step: Step, v: unknown, out: unknown[]): void {
  switch (step.kind) {
    case "field":
      if (isRecord(v) && step.name in v) out.push(v[step.name]);
      return;
    case "wildcard":
      if (Array.isArray(v)) out.push(...v);
      else if (isRecord(v)) out.push(...Object.values(v));
      return;
    case "recursive":
      collectRecursive(v, step.name, out);
      return;
    case "index": {
      if (!Array.isArray(v)) return;
      const i = step.index < 0 ? v.length + step.index : step.index;
      if (i >= 0 && i < v.length) out.push(v[i]);
      return;
    }
    case "slice":
      if (Array.isArray(v)) out.push(...v.slice(step.start, step.end));
      return;
    case "filter":
      for (const x of Array.isArray(v) ? v : [v]) if (matches(x, step)) out.push(x);
      return;
  }
}

/** All values the path selects, in document order. */
export function evaluate(path: CompiledPath, root: unknown): unknown[] {
  let current: unknown[] = [root];
  for (const step of path) {
    const next: unknown[] = [];
    for (const v of current) applyStep(step, v, next);
    current = next;
  }
  return current;
}
