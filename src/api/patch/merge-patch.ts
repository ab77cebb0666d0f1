/**
 * JSON merge patch (RFC 7386, application/merge-patch+json): what `kubectl label`, `annotate`,
 * `scale` and every patch of a custom resource send. Objects merge recursively, `null` removes a
 * key, anything else (arrays included) replaces the target value.
 */
import { cloneJson, isObject, type JsonObject } from "../object.js";
import { patchBadRequest } from "./patch-errors.js";

export function applyMergePatch(original: JsonObject, patch: unknown): JsonObject {
  if (!isObject(patch)) {
    throw patchBadRequest(
      'Invalid JSON Patch: a merge patch (application/merge-patch+json) must be a JSON object such as {"metadata":{"labels":{"a":"b"}}}',
    );
  }
  return mergeInto(cloneJson(original), patch);
}

function mergeInto(target: JsonObject, patch: JsonObject): JsonObject {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) {
      delete target[k];
    } else if (isObject(v)) {
      const cur = target[k];
      target[k] = mergeInto(isObject(cur) ? cur : {}, v);
    } else {
      target[k] = cloneJson(v);
    }
  }
  return target;
}
