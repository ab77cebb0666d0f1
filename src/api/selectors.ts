/**
 * Label selectors: the `?labelSelector=` string grammar (label-parser.ts) and `LabelSelector`
 * objects (matchLabels/matchExpressions), both compiled to one matcher.
 *
 * Design notes:
 * - Both forms become a list of requirements (label-requirements.ts), sorted by key, so a
 *   selector prints the same way whichever form it came in.
 * - A nil `LabelSelector` selects nothing while an empty one selects everything (upstream's
 *   LabelSelectorAsSelector); workload controllers rely on that distinction.
 * - Field selectors live in fields.ts and are re-exported here, as are the requirement types.
 */

import { parseRequirements } from "./label-parser.js";
import {
  type LabelOperator,
  newRequirement,
  type Requirement,
  requirementMatches,
  requirementString,
  SelectorError,
} from "./label-requirements.js";
import { isObject } from "./object.js";

export * from "./fields.js";
export { type LabelOperator, newRequirement, type Requirement, SelectorError } from "./label-requirements.js";

export interface LabelMatcher {
  readonly requirements: readonly Requirement[];
  /** true for the selector that matches every object (empty string, `{}`) */
  readonly everything: boolean;
  /** true for the selector that matches no object (a nil LabelSelector) */
  readonly nothing: boolean;
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
  toString(): string;
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
  return matcherOf(parseRequirements(selector));
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
