/**
 * Selection: label and field selectors from a list/watch query, compiled once per request
 * into one predicate over objects (the parsing and matching rules live in src/api/selectors).
 */
import { ApiError } from "../../api/errors.js";
import type { KubeObject } from "../../api/object.js";
import { fieldsForObject, parseFieldSelector, parseLabelSelector } from "../../api/selectors.js";
import type { ResourceInfo } from "./resource-info.js";

export type Predicate = (obj: KubeObject) => boolean;

export function compileSelection(
  info: ResourceInfo,
  labelSelector?: string,
  fieldSelector?: string,
): Predicate | undefined {
  const ls = labelSelector?.trim() ? wrap(() => parseLabelSelector(labelSelector)) : undefined;
  const fs = fieldSelector?.trim() ? wrap(() => parseFieldSelector(fieldSelector)) : undefined;
  if (!ls && !fs) return undefined;
  if (fs) {
    // reject unsupported field labels up front, in upstream's words
    const supported = new Set(Object.keys(fieldsForObject(info.group, info.kind, { metadata: {} })));
    for (const req of fs.requirements) {
      if (!supported.has(req.field)) {
        throw ApiError.badRequest(`field label not supported: ${req.field}`);
      }
    }
  }
  return (obj) => {
    if (ls && !ls.matches(obj.metadata.labels ?? {})) return false;
    if (fs) {
      const fields = fieldsForObject(info.group, info.kind, obj);
      if (!fs.matches((f) => fields[f])) return false;
    }
    return true;
  };
}

function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw ApiError.badRequest((e as Error).message);
  }
}
