/**
 * Shared pieces of validation: field paths, Go-style value rendering, and the small checks
 * upstream repeats everywhere (non-negative, port number or name, immutable field).
 *
 * Design notes:
 * - Paths are plain strings built like apimachinery's field.Path ("spec.ports[0].name",
 *   "data[key]"), since the cause's `field` is what kubectl prints before the message.
 * - Upstream renders map/slice/struct values with Go's %#v; `goMap`/`goSlice`/`goSelector`
 *   reproduce the shapes users actually meet (template labels, selectors, clusterIPs).
 */
import { fieldErr, type StatusCause } from "../errors.js";
import { inclusiveRangeError, isValidPortName, isValidPortNum, regexError } from "../names.js";
import { isObject } from "../object.js";

export type Causes = StatusCause[];

export const child = (path: string, ...names: string[]): string =>
  [path, ...names].filter((p) => p !== "").join(".");
export const index = (path: string, i: number): string => `${path}[${i}]`;
export const key = (path: string, k: string): string => `${path}[${k}]`;

export const FIELD_IMMUTABLE = "field is immutable";
export const IS_NEGATIVE = "must be greater than or equal to 0";
export const IS_NOT_POSITIVE = "must be greater than 0";

/** Go's %#v of a map[string]string (keys sorted, as fmt prints maps) */
export function goMap(v: unknown): string {
  if (!isObject(v)) return "map[string]string(nil)";
  const entries = Object.keys(v)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${JSON.stringify(String(v[k]))}`);
  return `map[string]string{${entries.join(", ")}}`;
}

/** Go's %#v of a []string */
export function goSlice(v: unknown): string {
  if (!Array.isArray(v)) return "[]string(nil)";
  return `[]string{${v.map((x) => JSON.stringify(String(x))).join(", ")}}`;
}

/** Go's %#v of a metav1.LabelSelector (the dereferenced pointer, as field errors print it) */
export function goSelector(v: unknown): string {
  if (!isObject(v)) return "null";
  const ml = isObject(v.matchLabels) ? goMap(v.matchLabels) : "map[string]string(nil)";
  const exprs = Array.isArray(v.matchExpressions)
    ? `[]v1.LabelSelectorRequirement{${v.matchExpressions
        .map((e) => {
          const x = isObject(e) ? e : {};
          return `v1.LabelSelectorRequirement{Key:${JSON.stringify(String(x.key ?? ""))}, Operator:${JSON.stringify(String(x.operator ?? ""))}, Values:${goSlice(x.values)}}`;
        })
        .join(", ")}}`
    : "[]v1.LabelSelectorRequirement(nil)";
  return `v1.LabelSelector{MatchLabels:${ml}, MatchExpressions:${exprs}}`;
}

/** how upstream prints a scalar value in a field error; structs fall back to JSON */
export function goValue(v: unknown): string {
  if (v === undefined || v === null) return "null";
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return JSON.stringify(v);
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return goSlice(v);
  return JSON.stringify(v);
}

/** order-insensitive deep equality of JSON values (upstream's Semantic.DeepEqual for our data) */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

export const isSet = (v: unknown): boolean => v !== undefined && v !== null;
export const isInt = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v);

export function nonNegative(v: unknown, path: string): Causes {
  if (!isSet(v)) return [];
  if (!isInt(v)) return [fieldErr.invalid(path, v, "must be an integer")];
  return v < 0 ? [fieldErr.invalid(path, v, IS_NEGATIVE)] : [];
}

export function positive(v: unknown, path: string): Causes {
  if (!isSet(v)) return [];
  if (!isInt(v)) return [fieldErr.invalid(path, v, "must be an integer")];
  return v <= 0 ? [fieldErr.invalid(path, v, IS_NOT_POSITIVE)] : [];
}

/** ValidatePortNumOrName: an IntOrString that is a port number or an IANA service name */
export function portNumOrName(v: unknown, path: string): Causes {
  if (typeof v === "number") return isValidPortNum(v).map((m) => fieldErr.invalid(path, v, m));
  if (typeof v === "string") {
    if (/^[0-9]+$/.test(v)) return isValidPortNum(Number(v)).map((m) => fieldErr.invalid(path, v, m));
    return isValidPortName(v).map((m) => fieldErr.invalid(path, v, m));
  }
  if (!isSet(v)) return [fieldErr.invalid(path, 0, inclusiveRangeError(1, 65535))];
  return [fieldErr.invalid(path, goValue(v), "must be an integer or a string")];
}

/** ValidateImmutableField with upstream's message; `render` prints the new value */
export function immutable(
  next: unknown,
  prev: unknown,
  path: string,
  render: (v: unknown) => string = goValue,
): Causes {
  return deepEqual(next, prev) ? [] : [fieldErr.invalidRendered(path, render(next), FIELD_IMMUTABLE)];
}

/** NotSupported when the value is not one of `values`, Required when empty */
export function oneOf(v: unknown, values: readonly string[], path: string, required = true): Causes {
  if (v === undefined || v === null || v === "") return required ? [fieldErr.required(path)] : [];
  return typeof v === "string" && values.includes(v) ? [] : [fieldErr.notSupported(path, v, values)];
}

/** IsValidPercent / ValidatePositiveIntOrPercent for maxSurge, maxUnavailable, minAvailable */
export function intOrPercent(v: unknown, path: string): Causes {
  if (typeof v === "number") return nonNegative(v, path);
  if (typeof v === "string") {
    if (!/^[0-9]+%$/.test(v)) {
      const msg = regexError(
        "a valid percent string must be a numeric string followed by an ending '%'",
        "[0-9]+%",
        "1%",
        "93%",
      );
      return [fieldErr.invalid(path, v, msg)];
    }
    if (Number.parseInt(v, 10) > 100) return [fieldErr.invalid(path, v, "must not be greater than 100%")];
    return [];
  }
  return [];
}

export const percentOrInt = (v: unknown, base: number): number =>
  typeof v === "number" ? v : typeof v === "string" ? Math.round((Number.parseInt(v, 10) / 100) * base) : 0;
