/**
 * Label selectors: the `?labelSelector=` string grammar and `LabelSelector` objects
 * (matchLabels/matchExpressions), both compiled to one matcher.
 *
 * Design notes:
 * - The string parser follows apimachinery's labels.Parse: a lexer that scans the whole input
 *   into tokens first, then a recursive-descent parser with a context-sensitive lookahead
 *   ("in"/"notin" are keywords only where an operator may stand; as a value they are plain
 *   identifiers). Its error strings are upstream's, since kubectl shows them verbatim.
 * - A nil `LabelSelector` selects nothing while an empty one selects everything (upstream's
 *   LabelSelectorAsSelector); workload controllers rely on that distinction.
 * - Field selectors live in fields.ts and are re-exported here.
 */

import { isQualifiedName, isValidLabelValue } from "./names.js";
import { isObject } from "./object.js";

export * from "./fields.js";

export type LabelOperator = "=" | "==" | "!=" | "in" | "notin" | "exists" | "!" | "gt" | "lt";

export interface Requirement {
  readonly key: string;
  readonly operator: LabelOperator;
  readonly values: readonly string[];
}

export interface LabelMatcher {
  readonly requirements: readonly Requirement[];
  /** true for the selector that matches every object (empty string, `{}`) */
  readonly everything: boolean;
  /** true for the selector that matches no object (a nil LabelSelector) */
  readonly nothing: boolean;
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
  toString(): string;
}

export class SelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SelectorError";
  }
}

type Tok = "id" | "!" | "=" | "==" | "!=" | "in" | "notin" | "(" | ")" | "," | ">" | "<" | "eos" | "error";
interface Token {
  tok: Tok;
  lit: string;
}

const SPECIAL = new Set(["=", "!", "(", ")", ",", ">", "<"]);
const SYMBOLS: Record<string, Tok> = {
  ")": ")",
  ",": ",",
  "!": "!",
  "!=": "!=",
  "=": "=",
  "==": "==",
  ">": ">",
  "<": "<",
  "(": "(",
};
const isWhitespace = (c: string): boolean => c === " " || c === "\t" || c === "\r" || c === "\n";

function lex(input: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (true) {
    while (i < input.length && isWhitespace(input[i] ?? "")) i++;
    if (i >= input.length) {
      out.push({ tok: "eos", lit: "" });
      return out;
    }
    const c = input[i] ?? "";
    if (SPECIAL.has(c)) {
      // longest run of special symbols that is still a known operator
      let buf = "";
      let last: Token | undefined;
      let lastEnd = i;
      let j = i;
      while (j < input.length && SPECIAL.has(input[j] ?? "")) {
        buf += input[j];
        j++;
        const t = SYMBOLS[buf];
        if (t) {
          last = { tok: t, lit: buf };
          lastEnd = j;
        } else if (last) break;
      }
      if (!last) {
        out.push({ tok: "error", lit: `error expected: keyword found '${buf}'` });
        i = j;
      } else {
        out.push(last);
        i = lastEnd;
      }
      continue;
    }
    let j = i;
    while (j < input.length && !SPECIAL.has(input[j] ?? "") && !isWhitespace(input[j] ?? "")) j++;
    const word = input.slice(i, j);
    out.push({ tok: word === "in" ? "in" : word === "notin" ? "notin" : "id", lit: word });
    i = j;
  }
}

class Parser {
  private pos = 0;
  constructor(private readonly toks: Token[]) {}

  private peek(values: boolean): Token {
    const t = this.toks[this.pos] ?? { tok: "eos", lit: "" };
    return values && (t.tok === "in" || t.tok === "notin") ? { tok: "id", lit: t.lit } : t;
  }
  private next(values: boolean): Token {
    const t = this.peek(values);
    if (this.pos < this.toks.length - 1) this.pos++;
    return t;
  }

  parse(): Requirement[] {
    const reqs: Requirement[] = [];
    while (true) {
      const { tok, lit } = this.peek(true);
      if (tok === "eos") return reqs;
      if (tok !== "id" && tok !== "!") {
        throw new SelectorError(`found '${lit}', expected: !, identifier, or 'end of string'`);
      }
      try {
        reqs.push(this.requirement());
      } catch (e) {
        throw new SelectorError(`unable to parse requirement: ${(e as Error).message}`);
      }
      const t = this.next(true);
      if (t.tok === "eos") return reqs;
      if (t.tok !== ",") throw new SelectorError(`found '${t.lit}', expected: ',' or 'end of string'`);
      const t2 = this.peek(true);
      if (t2.tok !== "id" && t2.tok !== "!") {
        throw new SelectorError(`found '${t2.lit}', expected: identifier after ','`);
      }
    }
  }

  private requirement(): Requirement {
    let t = this.next(true);
    let op: LabelOperator | undefined;
    if (t.tok === "!") {
      op = "!";
      t = this.next(true);
    }
    if (t.tok !== "id") throw new Error(`found '${t.lit}', expected: identifier`);
    const key = t.lit;
    const keyErrs = isQualifiedName(key);
    if (keyErrs.length > 0)
      throw new Error(`<nil>: Invalid value: ${JSON.stringify(key)}: ${keyErrs.join("; ")}`);
    // "!key" is complete by itself; whatever follows is the caller's problem (as upstream)
    if (op === "!") return newRequirement(key, "!", []);
    const after = this.peek(true).tok;
    if (after === "eos" || after === ",") return newRequirement(key, "exists", []);
    const o = this.next(false);
    const ops: Partial<Record<Tok, LabelOperator>> = {
      in: "in",
      notin: "notin",
      "=": "=",
      "==": "==",
      "!=": "!=",
      ">": "gt",
      "<": "lt",
    };
    const operator = ops[o.tok];
    if (!operator) throw new Error(`found '${o.lit}', expected: in, notin, =, ==, !=, gt, lt`);
    const values = operator === "in" || operator === "notin" ? this.valueSet() : this.exactValue();
    return newRequirement(key, operator, values);
  }

  private valueSet(): string[] {
    const open = this.next(true);
    if (open.tok !== "(") throw new Error(`found '${open.lit}' expected: '('`);
    const first = this.peek(true);
    if (first.tok === ")") {
      this.next(true);
      return [""];
    }
    if (first.tok !== "id" && first.tok !== ",") {
      throw new Error(`found '${first.lit}', expected: ',', ')' or identifier`);
    }
    const set = new Set<string>();
    while (true) {
      const t = this.next(true);
      if (t.tok === "id") {
        set.add(t.lit);
        const t2 = this.peek(true);
        if (t2.tok === ",") continue;
        if (t2.tok === ")") break;
        throw new Error(`found '${t2.lit}', expected: ',' or ')'`);
      }
      if (t.tok === ",") {
        if (set.size === 0) set.add("");
        const t2 = this.peek(true);
        if (t2.tok === ")") {
          set.add("");
          break;
        }
        if (t2.tok === ",") {
          this.next(true);
          set.add("");
        }
        continue;
      }
      throw new Error(`found '${t.lit}', expected: ',', or identifier`);
    }
    const close = this.next(true);
    if (close.tok !== ")") throw new Error(`found '${close.lit}', expected: ')'`);
    return [...set].sort();
  }

  private exactValue(): string[] {
    const t = this.peek(true);
    if (t.tok === "eos" || t.tok === ",") return [""];
    this.next(true);
    if (t.tok === "id") return [t.lit];
    throw new Error(`found '${t.lit}', expected: identifier`);
  }
}

/** upstream NewRequirement: checks value counts and syntax for the operator */
export function newRequirement(key: string, operator: LabelOperator, values: string[]): Requirement {
  const errs: string[] = [];
  const keyErrs = isQualifiedName(key);
  if (keyErrs.length > 0) errs.push(`key: Invalid value: ${JSON.stringify(key)}: ${keyErrs.join("; ")}`);
  const vals = `[]string{${values.map((v) => JSON.stringify(v)).join(", ")}}`;
  if ((operator === "in" || operator === "notin") && values.length === 0) {
    errs.push(`values: Invalid value: ${vals}: for 'in', 'notin' operators, values set can't be empty`);
  }
  if ((operator === "=" || operator === "==" || operator === "!=") && values.length !== 1) {
    errs.push(`values: Invalid value: ${vals}: exact-match compatibility requires one single value`);
  }
  if ((operator === "exists" || operator === "!") && values.length !== 0) {
    errs.push(`values: Invalid value: ${vals}: values set must be empty for exists and does not exist`);
  }
  if (operator === "gt" || operator === "lt") {
    if (values.length !== 1) {
      errs.push(`values: Invalid value: ${vals}: for 'Gt', 'Lt' operators, exactly one value is required`);
    }
    values.forEach((v, i) => {
      if (!/^[-+]?[0-9]+$/.test(v)) {
        errs.push(
          `values[${i}]: Invalid value: ${JSON.stringify(v)}: for 'Gt', 'Lt' operators, the value must be an integer`,
        );
      }
    });
  }
  values.forEach((v, i) => {
    const ve = isValidLabelValue(v);
    if (ve.length > 0)
      errs.push(`values[${i}][${key}]: Invalid value: ${JSON.stringify(v)}: ${ve.join("; ")}`);
  });
  if (errs.length === 1) throw new Error(errs[0]);
  if (errs.length > 1) throw new Error(`[${errs.join(", ")}]`);
  return { key, operator, values };
}

function requirementMatches(r: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const v = labels[r.key];
  switch (r.operator) {
    case "=":
    case "==":
    case "in":
      return has && r.values.includes(v ?? "");
    case "!=":
    case "notin":
      return !has || !r.values.includes(v ?? "");
    case "exists":
      return has;
    case "!":
      return !has;
    case "gt":
    case "lt": {
      if (!has || !/^[-+]?[0-9]+$/.test(v ?? "")) return false;
      const a = BigInt(v ?? "0");
      const b = BigInt(r.values[0] ?? "0");
      return r.operator === "gt" ? a > b : a < b;
    }
  }
}

function requirementString(r: Requirement): string {
  switch (r.operator) {
    case "exists":
      return r.key;
    case "!":
      return `!${r.key}`;
    case "in":
    case "notin":
      return `${r.key} ${r.operator} (${r.values.join(",")})`;
    case "gt":
      return `${r.key}>${r.values[0] ?? ""}`;
    case "lt":
      return `${r.key}<${r.values[0] ?? ""}`;
    default:
      return `${r.key}${r.operator}${r.values[0] ?? ""}`;
  }
}

export function matcherOf(requirements: Requirement[], nothing = false): LabelMatcher {
  const reqs = [...requirements].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    requirements: reqs,
    everything: !nothing && reqs.length === 0,
    nothing,
    matches: (labels) => !nothing && reqs.every((r) => requirementMatches(r, labels ?? {})),
    toString: () => reqs.map(requirementString).join(","),
  };
}

/** Parse a `?labelSelector=` string; throws SelectorError with upstream's message. */
export function parseLabelSelector(selector: string): LabelMatcher {
  return matcherOf(new Parser(lex(selector)).parse());
}

export const everythingSelector = (): LabelMatcher => matcherOf([]);
export const nothingSelector = (): LabelMatcher => matcherOf([], true);

const EXPR_OPS: Record<string, LabelOperator> = {
  In: "in",
  NotIn: "notin",
  Exists: "exists",
  DoesNotExist: "!",
};

/**
 * LabelSelectorAsSelector: a `LabelSelector` object as a matcher. `undefined`/`null` selects
 * nothing; `{}` selects everything. Throws SelectorError for an unknown operator or bad values.
 */
export function labelSelectorMatcher(sel: unknown): LabelMatcher {
  if (sel === undefined || sel === null) return nothingSelector();
  if (!isObject(sel)) throw new SelectorError("a label selector must be an object");
  const reqs: Requirement[] = [];
  const ml = isObject(sel.matchLabels) ? sel.matchLabels : {};
  try {
    for (const [k, v] of Object.entries(ml)) reqs.push(newRequirement(k, "=", [String(v)]));
    const exprs = Array.isArray(sel.matchExpressions) ? sel.matchExpressions : [];
    for (const e of exprs) {
      const expr = isObject(e) ? e : {};
      const op = EXPR_OPS[String(expr.operator)];
      if (!op)
        throw new Error(
          `${JSON.stringify(String(expr.operator ?? ""))} is not a valid label selector operator`,
        );
      const values = Array.isArray(expr.values) ? expr.values.map(String) : [];
      reqs.push(
        newRequirement(String(expr.key ?? ""), op, op === "in" || op === "notin" ? [...values] : values),
      );
    }
  } catch (e) {
    throw new SelectorError((e as Error).message);
  }
  return matcherOf(reqs);
}

/** Convenience: does a LabelSelector object select these labels? */
export function selectorMatches(sel: unknown, labels: Readonly<Record<string, string>> | undefined): boolean {
  return labelSelectorMatcher(sel).matches(labels);
}
