/**
 * Request attributes for authorization, derived from a request as upstream's RequestInfoFactory
 * does, and the Forbidden error upstream renders when they are refused.
 *
 * Design notes
 * - Resource requests are `/api/v1/…` and `/apis/<group>/<version>/…` paths that name a
 *   resource; everything else (`/api`, `/apis/apps/v1`, `/openapi/v3`, `/version`) is a
 *   non-resource request whose verb is the lower-cased HTTP method.
 * - Verbs: GET → get, or list/watch on a collection; POST → create; PUT → update; PATCH → patch;
 *   DELETE → delete, or deletecollection on a collection. A named GET with `watch=true` stays
 *   `get`, as upstream.
 * - A list or watch with `fieldSelector=metadata.name=X` carries name X, so rules with
 *   resourceNames can allow `kubectl get pod X -w` and `delete --wait`.
 * - The Namespace object's own paths (`/api/v1/namespaces/foo[/status]`) carry namespace "foo",
 *   so a RoleBinding in "foo" can grant reading its own Namespace.
 */
import { ApiError } from "../../../api/errors.js";
import type { UserInfo } from "../auth.js";
import { parseResourcePath, type ResourceRequest } from "../request-info.js";
import type { RuleRequest } from "./rules.js";

export interface Attributes extends RuleRequest {
  user: UserInfo;
  apiVersion: string;
  namespace: string;
}

/**
 * attributes of an HTTP request to `pathname` (already stripped of its query); `rr` is the
 * path already parsed, when the caller has it (the server parses each request's path once)
 */
export function requestAttributes(
  user: UserInfo,
  method: string,
  pathname: string,
  query: URLSearchParams,
  rr: ResourceRequest | undefined = parseResourcePath(pathname),
): Attributes {
  const m = method.toUpperCase();
  if (!rr) return nonResourceAttributes(user, m.toLowerCase(), pathname);
  let name = rr.name ?? "";
  let namespace = rr.namespace ?? "";
  if (rr.group === "" && rr.resource === "namespaces" && name !== "") namespace = name;
  let verb: string;
  switch (m) {
    case "GET":
    case "HEAD":
      verb = name === "" ? (isTrue(query.get("watch")) ? "watch" : "list") : "get";
      break;
    case "POST":
      verb = "create";
      break;
    case "PUT":
      verb = "update";
      break;
    case "PATCH":
      verb = "patch";
      break;
    case "DELETE":
      verb = name === "" ? "deletecollection" : "delete";
      break;
    default:
      verb = m.toLowerCase();
  }
  if ((verb === "list" || verb === "watch") && name === "") name = exactNameSelector(query) ?? "";
  return {
    user,
    verb,
    resourceRequest: true,
    apiGroup: rr.group,
    apiVersion: rr.version,
    resource: rr.resource,
    subresource: rr.subresource ?? "",
    namespace,
    name,
    path: pathname,
  };
}

export function nonResourceAttributes(user: UserInfo, verb: string, path: string): Attributes {
  return {
    user,
    verb,
    resourceRequest: false,
    apiGroup: "",
    apiVersion: "",
    resource: "",
    subresource: "",
    namespace: "",
    name: "",
    path,
  };
}

const isTrue = (v: string | null) => v === "true" || v === "1";

/** `metadata.name=X` (or `==`) among the field selector's terms, as upstream's RequiresExactMatch */
function exactNameSelector(query: URLSearchParams): string | undefined {
  const fs = query.get("fieldSelector");
  if (!fs) return undefined;
  for (const term of fs.split(",")) {
    const m = /^\s*metadata\.name\s*==?\s*(.*?)\s*$/.exec(term);
    // a valid path segment only: a name with "/" or "%" could not address the object anyway
    if (m?.[1] && !/[/%]/.test(m[1]) && m[1] !== "." && m[1] !== "..") return m[1];
  }
  return undefined;
}

/** upstream's forbiddenMessage: who could not do what, where */
export function forbiddenMessage(a: Attributes): string {
  const user = a.user.username;
  if (!a.resourceRequest) return `User ${q(user)} cannot ${a.verb} path ${q(a.path)}`;
  const resource = a.subresource === "" ? a.resource : `${a.resource}/${a.subresource}`;
  const where = a.namespace !== "" ? `in the namespace ${q(a.namespace)}` : "at the cluster scope";
  return `User ${q(user)} cannot ${a.verb} resource ${q(resource)} in API group ${q(a.apiGroup)} ${where}`;
}

/**
 * The 403 upstream answers (responsewriters.Forbidden → apierrors.NewForbidden):
 * `pods "x" is forbidden: User "u" cannot get resource "pods" in API group "" in the namespace "ns"`,
 * with the authorizer's reason appended when it has one.
 */
export function forbiddenError(a: Attributes, reason = ""): ApiError {
  const msg = reason === "" ? forbiddenMessage(a) : `${forbiddenMessage(a)}: ${reason}`;
  if (!a.resourceRequest || a.resource === "") return new ApiError(403, "Forbidden", `forbidden: ${msg}`, {});
  const qualified = a.apiGroup === "" ? a.resource : `${a.resource}.${a.apiGroup}`;
  const subject = a.name === "" ? qualified : `${qualified} ${q(a.name)}`;
  return new ApiError(403, "Forbidden", `${subject} is forbidden: ${msg}`, {
    ...(a.name !== "" ? { name: a.name } : {}),
    group: a.apiGroup,
    kind: a.resource,
  });
}

/** Go's %q for the plain strings that appear here */
const q = (s: string): string => JSON.stringify(s);
