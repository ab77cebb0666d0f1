/**
 * The checks every ObjectStore write makes before it touches the backend: the body names the
 * kind, version and namespace of the URL it was sent to; the namespace exists and is not being
 * terminated; the object is valid (built-in validation plus a custom resource's schema). Also
 * the two values a create fills in itself: generateName's suffix and creationTimestamp.
 *
 * Design notes
 * - Upstream splits these between rest.BeforeCreate/BeforeUpdate (kind, namespace, generated
 *   names), the NamespaceLifecycle admission plugin (the Terminating check and its message) and
 *   each strategy's Validate; here they are plain functions so create, update and
 *   guaranteedUpdate run the same checks in the same order, and so the messages (which users
 *   see through kubectl) live in one place.
 * - Only the namespace check reads the store: a raw substring test on the stored JSON is enough
 *   to see `"phase":"Terminating"`, without parsing the Namespace.
 */
import { ApiError, type StatusCause } from "../../api/errors.js";
import type { KubeObject } from "../../api/object.js";
import { validateCreate, validateUpdate } from "../../api/validation/index.js";
import type { Backend } from "../store/backend.js";
import { objectKey } from "./keys.js";
import { groupVersion, qualifiedResource, type ResourceInfo } from "./resource-info.js";

/** upstream's generateName alphabet (util/rand): no vowels, so suffixes do not spell words */
const NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789";

/** the last second timestamp() formatted: a burst of writes stamps the same second thousands of times */
let lastSecond = Number.NaN;
let lastStamp = "";

/** RFC 3339 in whole seconds, as upstream's metav1.Time serializes ("…T12:00:00Z") */
export function timestamp(d: Date): string {
  const second = Math.floor(d.getTime() / 1000);
  if (second === lastSecond) return lastStamp;
  const iso = d.toISOString();
  // years 0000–9999 always print as "YYYY-MM-DDTHH:MM:SS.sssZ": cut the milliseconds
  lastStamp = iso.length === 24 ? `${iso.slice(0, 19)}Z` : iso.replace(/\.\d{3}Z$/, "Z");
  lastSecond = second;
  return lastStamp;
}

/** `generateName` plus a random 5-character suffix */
export function generatedName(generateName: string): string {
  let suffix = "";
  for (let i = 0; i < 5; i++) suffix += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)];
  return `${generateName}${suffix}`;
}

/** Fill apiVersion/kind/namespace; reject a body for another kind or namespace. */
export function normalizeObject(info: ResourceInfo, ns: string | undefined, obj: KubeObject): void {
  const gv = groupVersion(info);
  if (obj.apiVersion !== undefined && obj.apiVersion !== gv) {
    throw ApiError.badRequest(
      `the API version in the data (${obj.apiVersion}) does not match the expected API version (${gv})`,
    );
  }
  if (obj.kind !== undefined && obj.kind !== info.kind) {
    throw ApiError.badRequest(
      `the kind in the data (${obj.kind}) does not match the expected kind (${info.kind})`,
    );
  }
  obj.apiVersion = gv;
  obj.kind = info.kind;
  if (info.namespaced) {
    if (
      obj.metadata.namespace !== undefined &&
      obj.metadata.namespace !== "" &&
      obj.metadata.namespace !== ns
    ) {
      throw ApiError.badRequest(
        "the namespace of the provided object does not match the namespace sent on the request",
      );
    }
    obj.metadata.namespace = ns;
  } else {
    delete obj.metadata.namespace;
  }
}

/** A create in a namespace that does not exist, or is being terminated, is refused. */
export async function checkNamespaceOpen(
  backend: Backend,
  info: ResourceInfo,
  ns: string | undefined,
  name: string,
): Promise<void> {
  if (!info.namespaced) return;
  if (!ns) throw ApiError.badRequest(`${info.resource} is namespaced: a namespace is required`);
  const kv = await backend.get(
    objectKey({ group: "", resource: "namespaces", namespaced: false }, undefined, ns),
  );
  if (!kv) throw ApiError.notFound("namespaces", ns, "", "namespaces");
  if (kv.value.includes('"phase":"Terminating"')) {
    throw new ApiError(
      403,
      "Forbidden",
      `${qualifiedResource(info)} "${name}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`,
      { name, group: info.group, kind: info.resource },
    );
  }
}

/**
 * Built-in validation (create or update) after the custom resource's schema causes; throws
 * one Invalid error carrying every cause, as upstream does.
 */
export function validateObject(
  info: ResourceInfo,
  obj: KubeObject,
  old: KubeObject | undefined,
  customResource?: (info: ResourceInfo, obj: KubeObject, old: KubeObject | undefined) => StatusCause[],
): void {
  const custom = customResource?.(info, obj, old) ?? [];
  const causes = [
    ...custom,
    ...(old ? validateUpdate(info.group, info.kind, obj, old) : validateCreate(info.group, info.kind, obj)),
  ];
  if (causes.length > 0)
    throw ApiError.invalid(
      info.kind,
      obj.metadata.name ?? obj.metadata.generateName ?? "",
      causes,
      info.group,
    );
}
