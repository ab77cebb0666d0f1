/**
 * Impersonation (`kubectl --as=… --as-group=…`): the Impersonate-User / -Group / -Uid /
 * -Extra-* headers replace the authenticated user, when that user may `impersonate` each of
 * them — upstream's WithImpersonation filter.
 *
 * Design notes
 * - Checked as resource requests with verb "impersonate": users/<name> and groups/<name> in
 *   the core group, serviceaccounts/<name> in the account's namespace for
 *   `system:serviceaccount:ns:name`, and uids / userextras/<key> in authentication.k8s.io.
 *   Refusals are upstream's 403: `users "bob" is forbidden: User "x" cannot impersonate …`.
 * - Impersonating a service account without groups gives its fixed groups; any non-anonymous
 *   impersonated user gets `system:authenticated` unless a group says (un)authenticated.
 * - Repeated headers are read distinct (`headersDistinct`): Node joins them with ", " otherwise.
 */
import type { IncomingMessage } from "node:http";
import { ApiError } from "../../../api/errors.js";
import type { UserInfo } from "../auth.js";
import { type Attributes, forbiddenError } from "./attributes.js";
import type { Authorizer } from "./rbac-authorizer.js";
import { parseServiceAccountUsername, serviceAccountGroups } from "./rules.js";

const EXTRA_PREFIX = "impersonate-extra-";

/** whether any header name (even indexes of rawHeaders) starts with "Impersonate-", any case */
function hasImpersonationHeader(raw: readonly string[]): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length > 12 && (name.charCodeAt(0) | 0x20) === 0x69 /* i */) {
      if (name.slice(0, 12).toLowerCase() === "impersonate-") return true;
    }
  }
  return false;
}

/** the user the request acts as: `requestor` itself when no Impersonate-* header is present */
export function impersonatedUser(req: IncomingMessage, requestor: UserInfo, authz: Authorizer): UserInfo {
  // nearly every request impersonates nobody: look at the raw names before building
  // headersDistinct (an object of arrays for every header, on each request)
  if (!hasImpersonationHeader(req.rawHeaders)) return requestor;
  const h = req.headersDistinct;
  const users = h["impersonate-user"] ?? [];
  const groupsAsked = h["impersonate-group"] ?? [];
  const uids = h["impersonate-uid"] ?? [];
  const extras: [string, string][] = [];
  for (const [k, vs] of Object.entries(h)) {
    if (!k.startsWith(EXTRA_PREFIX) || !vs) continue;
    const key = decodeURIComponent(k.slice(EXTRA_PREFIX.length));
    for (const v of vs) extras.push([key, v]);
  }
  if (users.length === 0) {
    if (groupsAsked.length > 0 || uids.length > 0 || extras.length > 0)
      throw ApiError.badRequest(
        "impersonating groups, a uid or extra fields requires impersonating a user too: add Impersonate-User (kubectl --as)",
      );
    return requestor;
  }
  if (users.length > 1 || uids.length > 1)
    throw ApiError.badRequest("only one Impersonate-User and one Impersonate-Uid header may be sent");
  const username = users[0]!;
  const check = (resource: string, name: string, extra: Partial<Attributes> = {}) => {
    const a: Attributes = {
      user: requestor,
      verb: "impersonate",
      resourceRequest: true,
      apiGroup: "",
      apiVersion: "v1",
      resource,
      subresource: "",
      namespace: "",
      name,
      path: "",
      ...extra,
    };
    const d = authz.authorize(a);
    if (!d.allowed) throw forbiddenError(a, d.reason);
  };

  let groups: string[] = [];
  const sa = parseServiceAccountUsername(username);
  if (sa) {
    check("serviceaccounts", sa.name, { namespace: sa.namespace });
    if (groupsAsked.length === 0) groups = serviceAccountGroups(sa.namespace);
  } else {
    check("users", username);
  }
  for (const g of groupsAsked) {
    check("groups", g);
    groups.push(g);
  }
  const authn = { apiGroup: "authentication.k8s.io" };
  for (const [key, value] of extras) check("userextras", value, { ...authn, subresource: key });
  const uid = uids[0];
  if (uid !== undefined) check("uids", uid, authn);

  if (
    username !== "system:anonymous" &&
    !groups.includes("system:authenticated") &&
    !groups.includes("system:unauthenticated")
  )
    groups.push("system:authenticated");
  return { username, groups, ...(uid !== undefined ? { uid } : {}) };
}
