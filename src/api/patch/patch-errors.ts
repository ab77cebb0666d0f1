/**
 * Errors of the patch machinery, in the codes and words upstream's apiserver uses:
 * - malformed patch documents → 400 BadRequest with the decoder's message
 *   ("invalid patch format of retainKeys"),
 * - patches that are well formed but cannot apply (a failed JSON-patch `test`, a missing path,
 *   a list of lists) → 422 Invalid "the server rejected our request due to an error in our
 *   request"; upstream drops the reason there, we append it so the user can see what failed,
 * - strategic merge errors upstream does not classify (a list item without its merge key) reach
 *   the client as a 500 carrying the raw message; we keep the code and add the hint.
 */
import { ApiError } from "../errors.js";

export function patchBadRequest(message: string): ApiError {
  return new ApiError(400, "BadRequest", message);
}

export function patchUnprocessable(detail: string): ApiError {
  return new ApiError(
    422,
    "Invalid",
    `the server rejected our request due to an error in our request: ${detail}`,
    {},
  );
}

export function patchInternal(message: string): ApiError {
  return new ApiError(500, "InternalError", message);
}

export function unsupportedPatchType(): ApiError {
  return new ApiError(
    415,
    "UnsupportedMediaType",
    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
  );
}

/** Go's `%v` rendering of decoded JSON, so messages read like upstream's (`map[name:c]`). */
export function goFormat(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  if (Array.isArray(v)) return `[${v.map(goFormat).join(" ")}]`;
  if (typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `map[${entries.map(([k, x]) => `${k}:${goFormat(x)}`).join(" ")}]`;
  }
  return String(v);
}

/** Go's reflect type name of a decoded JSON value, for "expected a X, but received a Y". */
export function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  if (Array.isArray(v)) return "[]interface {}";
  switch (typeof v) {
    case "object":
      return "map[string]interface {}";
    case "number":
      return "float64";
    case "boolean":
      return "bool";
    default:
      return "string";
  }
}
