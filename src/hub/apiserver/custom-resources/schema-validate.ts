/**
 * Validation of custom objects against a CRD version's structural schema, in the words of
 * upstream's kube-openapi validator as apiextensions-apiserver turns them into field errors
 * (`spec.size: Invalid value: "string": spec.size in body must be of type integer: "string"`,
 * `spec.image: Required value`, `spec.color: Unsupported value: "pink": supported values: …`).
 *
 * Design notes
 * - A hand-written walk rather than ajv: the messages and field paths kubectl users see must
 *   match upstream exactly, and the same walk shape serves pruning and defaulting.
 * - Covered: type (incl. x-kubernetes-int-or-string, nullable), enum, required, pattern,
 *   min/maxLength, minimum/maximum (+exclusive), multipleOf, min/maxItems, uniqueItems,
 *   min/maxProperties, properties/additionalProperties/items, allOf/anyOf/oneOf/not.
 *   `format` is not checked (upstream only checks a few, leniently); CEL rules are not run.
 * - metadata, apiVersion and kind at the root (and in embedded resources) are the server's
 *   business, not the schema's.
 */
import { isDeepStrictEqual } from "node:util";
import { fieldErr, type StatusCause } from "../../../api/errors.js";
import { isObject } from "../../../api/object.js";

export interface StructuralSchema {
  type?: string;
  properties?: Record<string, StructuralSchema>;
  additionalProperties?: StructuralSchema | boolean;
  items?: StructuralSchema;
  required?: string[];
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minProperties?: number;
  maxProperties?: number;
  nullable?: boolean;
  default?: unknown;
  allOf?: StructuralSchema[];
  anyOf?: StructuralSchema[];
  oneOf?: StructuralSchema[];
  not?: StructuralSchema;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-embedded-resource"?: boolean;
}

/** the JSON type name kube-openapi reports for a value */
export function typeName(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  if (typeof v === "boolean") return "boolean";
  if (typeof v === "string") return "string";
  return "object";
}

function typeMatches(s: StructuralSchema, v: unknown): boolean {
  const t = typeName(v);
  if (s["x-kubernetes-int-or-string"]) return t === "integer" || t === "string";
  if (!s.type) return true;
  if (s.type === "number") return t === "number" || t === "integer";
  return s.type === t;
}

/** how Go's field error prints a value: strings quoted, numbers and bools bare */
function render(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (v === null || v === undefined) return "null";
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

function child(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

export function validateValue(
  s: StructuralSchema,
  v: unknown,
  path: string,
  out: StatusCause[],
  root = false,
): void {
  const where = path === "" ? "body" : path;
  const inBody = `${where} in body`;
  if (v === null) {
    if (!s.nullable && (s.type || s["x-kubernetes-int-or-string"]))
      out.push(
        fieldErr.typeInvalid(path, "null", `${inBody} must be of type ${s.type ?? "integer,string"}: "null"`),
      );
    return;
  }
  if (!typeMatches(s, v)) {
    const t = typeName(v);
    out.push({
      reason: "FieldValueTypeInvalid",
      field: path,
      message: `Invalid value: ${JSON.stringify(t)}: ${inBody} must be of type ${s.type ?? "integer,string"}: ${JSON.stringify(t)}`,
    });
    return;
  }
  if (s.enum && !s.enum.some((e) => isDeepStrictEqual(e, v))) {
    out.push({
      reason: "FieldValueNotSupported",
      field: path,
      message: `Unsupported value: ${render(v)}: supported values: ${s.enum.map(render).join(", ")}`,
    });
  }
  for (const sub of s.allOf ?? []) validateValue(sub, v, path, out, root);
  if (s.anyOf && !s.anyOf.some((sub) => errorsOf(sub, v, path, root).length === 0))
    out.push(
      fieldErr.invalidRendered(path, render(v), `${inBody} must validate at least one schema (anyOf)`),
    );
  if (s.oneOf && s.oneOf.filter((sub) => errorsOf(sub, v, path, root).length === 0).length !== 1)
    out.push(
      fieldErr.invalidRendered(path, render(v), `${inBody} must validate one and only one schema (oneOf)`),
    );
  if (s.not && errorsOf(s.not, v, path, root).length === 0)
    out.push(fieldErr.invalidRendered(path, render(v), `${inBody} must not validate the schema (not)`));
  if (typeof v === "string") validateString(s, v, path, inBody, out);
  else if (typeof v === "number") validateNumber(s, v, path, inBody, out);
  else if (Array.isArray(v)) validateArray(s, v, path, inBody, out);
  else if (isObject(v)) validateObject(s, v, path, inBody, out, root);
}

function errorsOf(s: StructuralSchema, v: unknown, path: string, root: boolean): StatusCause[] {
  const out: StatusCause[] = [];
  validateValue(s, v, path, out, root);
  return out;
}

function validateString(
  s: StructuralSchema,
  v: string,
  path: string,
  inBody: string,
  out: StatusCause[],
): void {
  const len = [...v].length;
  if (s.maxLength !== undefined && len > s.maxLength) out.push(fieldErr.tooLong(path, s.maxLength));
  if (s.minLength !== undefined && len < s.minLength)
    out.push(
      fieldErr.invalidRendered(path, render(v), `${inBody} should be at least ${s.minLength} chars long`),
    );
  if (s.pattern !== undefined) {
    let re: RegExp | undefined;
    try {
      re = new RegExp(s.pattern, "u");
    } catch {
      re = undefined;
    }
    if (re && !re.test(v))
      out.push(fieldErr.invalidRendered(path, render(v), `${inBody} should match '${s.pattern}'`));
  }
}

function validateNumber(
  s: StructuralSchema,
  v: number,
  path: string,
  inBody: string,
  out: StatusCause[],
): void {
  const bad = (detail: string) => out.push(fieldErr.invalidRendered(path, render(v), `${inBody} ${detail}`));
  if (s.maximum !== undefined) {
    if (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum)
      bad(`should be less than ${s.exclusiveMaximum ? "" : "or equal to "}${s.maximum}`);
  }
  if (s.minimum !== undefined) {
    if (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum)
      bad(`should be greater than ${s.exclusiveMinimum ? "" : "or equal to "}${s.minimum}`);
  }
  if (s.multipleOf !== undefined && s.multipleOf !== 0 && !Number.isInteger(v / s.multipleOf))
    bad(`should be a multiple of ${s.multipleOf}`);
}

function validateArray(
  s: StructuralSchema,
  v: unknown[],
  path: string,
  inBody: string,
  out: StatusCause[],
): void {
  if (s.maxItems !== undefined && v.length > s.maxItems)
    out.push(fieldErr.tooMany(path, v.length, s.maxItems));
  if (s.minItems !== undefined && v.length < s.minItems)
    out.push(fieldErr.invalidRendered(path, render(v), `${inBody} should have at least ${s.minItems} items`));
  if (s.uniqueItems && v.some((x, i) => v.findIndex((y) => isDeepStrictEqual(x, y)) !== i))
    out.push(
      fieldErr.duplicate(
        `${path}[${v.findIndex((x, i) => v.findIndex((y) => isDeepStrictEqual(x, y)) !== i)}]`,
        undefined,
      ),
    );
  const items = s.items;
  if (items) for (const [i, x] of v.entries()) validateValue(items, x, `${path}[${i}]`, out);
}

function validateObject(
  s: StructuralSchema,
  v: Record<string, unknown>,
  path: string,
  inBody: string,
  out: StatusCause[],
  root: boolean,
): void {
  const embedded = root || s["x-kubernetes-embedded-resource"] === true;
  const n = Object.keys(v).length;
  if (s.maxProperties !== undefined && n > s.maxProperties)
    out.push(
      fieldErr.invalidRendered(
        path,
        render(v),
        `${inBody} should have at most ${s.maxProperties} properties`,
      ),
    );
  if (s.minProperties !== undefined && n < s.minProperties)
    out.push(
      fieldErr.invalidRendered(
        path,
        render(v),
        `${inBody} should have at least ${s.minProperties} properties`,
      ),
    );
  for (const r of s.required ?? []) {
    if (!(r in v) && !(embedded && (r === "metadata" || r === "apiVersion" || r === "kind")))
      out.push(fieldErr.required(child(path, r)));
  }
  for (const [k, x] of Object.entries(v)) {
    if (embedded && (k === "metadata" || k === "apiVersion" || k === "kind")) continue;
    const p = s.properties?.[k];
    if (p) validateValue(p, x, child(path, k), out);
    else if (isObject(s.additionalProperties)) validateValue(s.additionalProperties, x, child(path, k), out);
  }
}

/** All schema violations of a custom object (the root is an embedded resource). */
export function validateCustomObject(schema: StructuralSchema | undefined, obj: unknown): StatusCause[] {
  if (!schema) return [];
  const out: StatusCause[] = [];
  validateValue(schema, obj, "", out, true);
  // duplicate messages (a oneOf branch reporting what allOf already did) add nothing
  const seen = new Set<string>();
  return out.filter((c) => {
    const k = `${c.field}|${c.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
