/**
 * authorization.k8s.io/v1 SubjectAccessReview (cluster) and LocalSubjectAccessReview
 * (namespaced): "may user U (groups G) do V?", asked on someone else's behalf — what webhook
 * authorizers, aggregated API servers and `kubectl auth can-i --as` style tools call.
 *
 * Design notes
 * - Answered by the RBAC authorizer that guards requests, for the user, groups, uid and extra
 *   of spec (not the caller's): the caller only needs `create` on the review resource
 *   (system:auth-delegator for subjectaccessreviews; admin holds localsubjectaccessreviews).
 *   No group is added: upstream does not add system:authenticated to a reviewed subject.
 * - Validation as upstream's (422, `SubjectAccessReview.authorization.k8s.io "" is invalid`):
 *   exactly one of resourceAttributes/nonResourceAttributes, a user or a group, empty
 *   metadata. A LocalSubjectAccessReview takes its metadata.namespace from the path (a
 *   different one is upstream's 400) and its spec.resourceAttributes.namespace must equal it.
 * - Status: allowed, denied (RBAC never denies, it only has no opinion), reason (the granting
 *   binding, or the policy errors met), evaluationError (none: RBAC reports through reason).
 */
import { ApiError, type StatusCause } from "../../../api/errors.js";
import { isObject, type JsonObject } from "../../../api/object.js";
import type { UserInfo } from "../auth.js";
import { type Attributes, nonResourceAttributes } from "../authz/attributes.js";
import { sendJson } from "../http.js";
import type { Call } from "./context.js";

const GROUP = "authorization.k8s.io";

/** answers the review in `body` (already decoded by handleReview) */
export function handleSubjectAccessReview(call: Call, body: JsonObject): void {
  const kind = call.info.kind;
  const local = kind === "LocalSubjectAccessReview";
  const meta: JsonObject = isObject(body.metadata) ? { ...body.metadata } : {};
  const pathNs = call.rr.namespace ?? "";
  if (local) {
    const objNs = typeof meta.namespace === "string" ? meta.namespace : "";
    if (objNs !== "" && objNs !== pathNs)
      throw ApiError.badRequest(
        "the namespace of the provided object does not match the namespace sent on the request",
      );
    meta.namespace = pathNs;
  }
  const spec = isObject(body.spec) ? body.spec : {};
  const causes = validateSpec(spec, local, meta);
  if (causes.length > 0) throw invalid(kind, causes);
  const d = call.parts.authorizer.authorize(subjectAttributes(spec));
  sendJson(call.res, 201, {
    kind,
    apiVersion: `${GROUP}/v1`,
    metadata: { ...(local ? { namespace: pathNs } : {}), creationTimestamp: null },
    spec,
    status: { allowed: d.allowed, ...(d.reason ? { reason: d.reason } : {}) },
  });
}

/** the subject of spec as the authorizer's user */
export function subjectUser(spec: JsonObject): UserInfo {
  const groups = Array.isArray(spec.groups)
    ? spec.groups.filter((g): g is string => typeof g === "string")
    : [];
  const extra: Record<string, string[]> = {};
  if (isObject(spec.extra))
    for (const [k, v] of Object.entries(spec.extra))
      if (Array.isArray(v)) extra[k] = v.filter((x): x is string => typeof x === "string");
  return {
    username: str(spec, "user"),
    groups,
    ...(str(spec, "uid") ? { uid: str(spec, "uid") } : {}),
    ...(Object.keys(extra).length > 0 ? { extra } : {}),
  };
}

/** a review's spec.resourceAttributes as the authorizer's attributes for `user` (all review kinds) */
export function resourceAttributes(user: UserInfo, ra: JsonObject): Attributes {
  return {
    user,
    verb: str(ra, "verb"),
    resourceRequest: true,
    apiGroup: str(ra, "group"),
    apiVersion: str(ra, "version"),
    resource: str(ra, "resource"),
    subresource: str(ra, "subresource"),
    namespace: str(ra, "namespace"),
    name: str(ra, "name"),
    path: "",
  };
}

/** spec.resourceAttributes or spec.nonResourceAttributes for spec's subject */
export function subjectAttributes(spec: JsonObject): Attributes {
  const user = subjectUser(spec);
  if (isObject(spec.resourceAttributes)) return resourceAttributes(user, spec.resourceAttributes);
  const nra = isObject(spec.nonResourceAttributes) ? spec.nonResourceAttributes : {};
  return nonResourceAttributes(user, str(nra, "verb"), str(nra, "path"));
}

/** upstream's ValidateSubjectAccessReview / ValidateLocalSubjectAccessReview */
export function validateSpec(spec: JsonObject, local: boolean, meta: JsonObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const ra = spec.resourceAttributes;
  const nra = spec.nonResourceAttributes;
  if (isObject(ra) && isObject(nra))
    causes.push(
      bad("spec.nonResourceAttributes", nra, "cannot be specified in combination with resourceAttributes"),
    );
  if (!isObject(ra) && !isObject(nra))
    causes.push(
      bad(
        "spec.resourceAttributes",
        null,
        "exactly one of nonResourceAttributes or resourceAttributes must be specified",
      ),
    );
  const groups = Array.isArray(spec.groups) ? spec.groups : [];
  if (str(spec, "user") === "" && groups.length === 0)
    causes.push(bad("spec.user", "", "at least one of user or group must be specified"));
  const extraMeta = Object.entries(meta).filter(
    ([k, v]) =>
      v !== null && k !== "managedFields" && k !== "creationTimestamp" && !(local && k === "namespace"),
  );
  if (extraMeta.length > 0)
    causes.push(
      bad(
        "metadata",
        Object.fromEntries(extraMeta),
        local ? "must be empty except for namespace" : "must be empty",
      ),
    );
  if (local) {
    const ns = typeof meta.namespace === "string" ? meta.namespace : "";
    if (isObject(ra) && str(ra, "namespace") !== ns)
      causes.push(
        bad("spec.resourceAttributes.namespace", str(ra, "namespace"), "must match metadata.namespace"),
      );
    if (isObject(nra))
      causes.push(bad("spec.nonResourceAttributes", nra, "disallowed on this kind of request"));
  }
  return causes;
}

function invalid(kind: string, causes: StatusCause[]): ApiError {
  const parts = causes.map((c) => `${c.field}: ${c.message}`);
  const body = parts.length === 1 ? parts[0] : `[${parts.join(", ")}]`;
  return new ApiError(422, "Invalid", `${kind}.${GROUP} "" is invalid: ${body}`, {
    name: "",
    group: GROUP,
    kind,
    causes,
  });
}

const bad = (field: string, value: unknown, detail: string): StatusCause => ({
  reason: "FieldValueInvalid",
  field,
  message: `Invalid value: ${value === null ? '"null"' : JSON.stringify(value)}: ${detail}`,
});

const str = (o: JsonObject, k: string): string => (typeof o[k] === "string" ? (o[k] as string) : "");
