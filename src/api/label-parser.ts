/**
 * The `?labelSelector=` string grammar (apimachinery's labels.Parse).
 *
 * Design notes
 * - A lexer scans the whole input into tokens first, then a recursive-descent parser reads them
 *   with a context-sensitive lookahead: "in"/"notin" are keywords only where an operator may
 *   stand; as a value they are plain identifiers.
 * - Error strings are upstream's, since kubectl shows them verbatim.
 */

import { type LabelOperator, newRequirement, type Requirement, SelectorError } from "./label-requirements.js";
import { isQualifiedName } from "./names.js";

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

/** Parses a `?labelSelector=` string into requirements; throws SelectorError with upstream's message. */
export function parseRequirements(selector: string): Requirement[] {
  return new Parser(lex(selector)).parse();
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
