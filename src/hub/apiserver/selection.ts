/**
 * Selection: label and field selectors from a list/watch query, compiled once per request
 * into one predicate over objects (the parsing and matching rules live in src/api/selectors).
 */
import { ApiError } from "../../api/errors.js";
import type { KubeObject } from "../../api/object.js";
import {
  fieldsForObject,
  parseFieldSelector,
  parseLabelSelector,
  unsupportedFieldLabelError,
} from "../../api/selectors.js";
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
    const bad = unsupportedFieldLabelError(info.group, info.kind, fs);
    if (bad) throw ApiError.badRequest(bad);
  }
  return (obj) => {
    if (ls && !ls.matches(obj.metadata.labels ?? {})) return false;
    if (fs) {
      const fields = fieldsForObject(info.group, info.kind, obj);
      if (!fs.matches((f: string) => fields[f])) return false;
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
