/**
 * Validation of label maps, annotation maps and LabelSelector objects, as apimachinery's
 * meta/v1/validation and api/validation (ValidateLabels, ValidateAnnotations,
 * ValidateLabelSelector).
 *
 * Design notes:
 * - Upstream reports label and annotation errors at the map's path ("metadata.labels"), not at
 *   the key, and with the offending key or value as the invalid value; we keep that so
 *   kubectl's output matches a real cluster.
 * - The annotation size limit counts key and value bytes together (256 KiB).
 */
import { fieldErr } from "../errors.js";
import { isQualifiedName, isValidLabelValue, TOTAL_ANNOTATION_SIZE_LIMIT } from "../names.js";
import { isObject } from "../object.js";
import { type Causes, child, index } from "./util.js";

export function validateLabelName(name: string, path: string): Causes {
  return isQualifiedName(name).map((m) => fieldErr.invalid(path, name, m));
}

export function validateLabels(labels: unknown, path: string): Causes {
  if (labels === undefined || labels === null) return [];
  if (!isObject(labels))
    return [fieldErr.typeInvalid(path, labels, "must be a map of string keys to string values")];
  const out: Causes = [];
  for (const [k, v] of Object.entries(labels)) {
    out.push(...validateLabelName(k, path));
    if (typeof v !== "string") {
      out.push(fieldErr.typeInvalid(path, v, "label values must be strings"));
      continue;
    }
    for (const m of isValidLabelValue(v)) out.push(fieldErr.invalid(path, v, m));
  }
  return out;
}

export function validateAnnotations(annotations: unknown, path: string): Causes {
  if (annotations === undefined || annotations === null) return [];
  if (!isObject(annotations)) {
    return [fieldErr.typeInvalid(path, annotations, "must be a map of string keys to string values")];
  }
  const out: Causes = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) {
    for (const m of isQualifiedName(k.toLowerCase())) out.push(fieldErr.invalid(path, k, m));
    size += Buffer.byteLength(k) + Buffer.byteLength(typeof v === "string" ? v : String(v));
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) out.push(fieldErr.tooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT));
  return out;
}

/** ValidateLabelSelector: operators, value counts, key and value syntax */
export function validateLabelSelector(sel: unknown, path: string): Causes {
  if (sel === undefined || sel === null) return [];
  if (!isObject(sel)) return [fieldErr.typeInvalid(path, sel, "must be a label selector object")];
  const out: Causes = [...validateLabels(sel.matchLabels, child(path, "matchLabels"))];
  const exprs = Array.isArray(sel.matchExpressions) ? sel.matchExpressions : [];
  exprs.forEach((e, i) => {
    const p = index(child(path, "matchExpressions"), i);
    const expr = isObject(e) ? e : {};
    const values = Array.isArray(expr.values) ? expr.values : [];
    switch (expr.operator) {
      case "In":
      case "NotIn":
        if (values.length === 0) {
          out.push(
            fieldErr.required(child(p, "values"), "must be specified when `operator` is 'In' or 'NotIn'"),
          );
        }
        break;
      case "Exists":
      case "DoesNotExist":
        if (values.length > 0) {
          out.push(
            fieldErr.forbidden(
              child(p, "values"),
              "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            ),
          );
        }
        break;
      default:
        out.push(
          fieldErr.invalid(child(p, "operator"), expr.operator ?? "", "not a valid selector operator"),
        );
    }
    out.push(...validateLabelName(typeof expr.key === "string" ? expr.key : "", child(p, "key")));
    values.forEach((v, j) => {
      for (const m of isValidLabelValue(String(v)))
        out.push(fieldErr.invalid(index(child(p, "values"), j), v, m));
    });
  });
  return out;
}
