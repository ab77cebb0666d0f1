/**
 * The API server's authorization step for one HTTP request: impersonation first, then the
 * request's attributes against the authorizer, a 403 with upstream's message on refusal.
 *
 * Design notes
 * - Runs after authentication and before routing, as upstream's filter chain does: a user who
 *   may not list a resource learns nothing about whether it exists (403, not 404).
 * - Stream upgrades (pods/exec, pods/attach, pods/portforward) need `create` on the
 *   subresource whatever the HTTP method: WebSocket clients use GET, and upstream requires
 *   `create` for those since 1.31 (AuthorizePodWebsocketUpgradeCreatePermission).
 * - Long-running requests (watch, follow logs, exec) are authorized once, when they start.
 */
import type { IncomingMessage } from "node:http";
import type { UserInfo } from "../auth.js";
import type { ResourceRequest } from "../request-info.js";
import type { RequestUrl } from "../request-url.js";
import { type Attributes, forbiddenError, requestAttributes } from "./attributes.js";
import { impersonatedUser } from "./impersonation.js";
import type { Authorizer } from "./rbac-authorizer.js";

const STREAM_SUBRESOURCES = new Set(["exec", "attach", "portforward"]);

/**
 * Authorizes `req` for the authenticated `user`; returns the user the request acts as
 * (impersonated or not). Throws ApiError 403 (or 400 for malformed impersonation headers).
 */
export function authorizeRequest(
  authz: Authorizer,
  req: IncomingMessage,
  user: UserInfo,
  url: RequestUrl,
  opts: {
    upgrade?: boolean;
    /** the path without trailing slashes and its parse, when the caller has them */
    path?: string;
    rr?: ResourceRequest;
  } = {},
): UserInfo {
  const acting = impersonatedUser(req, user, authz);
  const path = opts.path ?? (url.pathname.replace(/\/+$/, "") || "/");
  const a: Attributes = requestAttributes(acting, req.method ?? "GET", path, url.searchParams, opts.rr);
  if (opts.upgrade && a.resourceRequest && a.apiGroup === "" && a.resource === "pods") {
    if (STREAM_SUBRESOURCES.has(a.subresource)) a.verb = "create";
  }
  const d = authz.authorize(a);
  if (!d.allowed) throw forbiddenError(a, d.reason);
  return acting;
}
