/**
 * One requirement of a label selector (`key op values`): its construction with upstream's
 * checks (labels.NewRequirement), how it matches a label set, and how it prints.
 *
 * Design notes
 * - Both selector forms (the `?labelSelector=` string, parsed in label-parser.ts, and
 *   LabelSelector objects, in selectors.ts) build requirements through newRequirement, so
 *   they reject the same keys and values with the same messages; kubectl shows them verbatim.
 * - gt/lt compare as arbitrary-precision integers (BigInt), as upstream parses int64 and
 *   refuses anything else: a label that is not an integer never matches.
 */
import { isQualifiedName, isValidLabelValue } from "./names.js";

export type LabelOperator = "=" | "==" | "!=" | "in" | "notin" | "exists" | "!" | "gt" | "lt";

export interface Requirement {
  readonly key: string;
  readonly operator: LabelOperator;
  readonly values: readonly string[];
}

export class SelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SelectorError";
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

export function requirementMatches(r: Requirement, labels: Readonly<Record<string, string>>): boolean {
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

export function requirementString(r: Requirement): string {
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
