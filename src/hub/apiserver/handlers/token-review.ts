/**
 * authentication.k8s.io/v1 TokenReview: "who is this bearer token?", answered by the same
 * authenticator chain that guards requests (admin token, bootstrap tokens, service-account
 * JWTs incl. pod-bound ones). What webhook authenticators and aggregated API servers call
 * (`system:auth-delegator` grants it).
 *
 * Design notes
 * - As upstream's tokenreview REST: an empty spec.token is a 400; an unknown or invalid token is
 *   not an error of the request but `status.authenticated` false with `status.error`;
 *   spec.audiences default to the API's own and `status.audiences` says which of them the token
 *   is good for. The review is echoed back (spec included) with 201.
 * - Client certificates cannot be reviewed (a token is all a TokenReview carries). Node
 *   credentials (MQTT passwords or certificates) authenticate at the broker only, so they are
 *   never "authenticated" here.
 * - Anonymous never applies: a token is always presented.
 */
import { ApiError } from "../../../api/errors.js";
import { isObject } from "../../../api/object.js";
import type { Authenticator } from "../auth.js";
import { decodeObjectBody } from "../codec.js";
import { readBody, sendJson } from "../http.js";
import type { Call } from "./context.js";

/** the router's key for the virtual tokenreviews resource (RouterExtensions.subresources) */
export const TOKEN_REVIEW_HANDLER_KEY = "authentication.k8s.io/tokenreviews/";

export function tokenReviewHandler(auth: Authenticator): (call: Call) => Promise<void> {
  return async (call) => {
    const body = decodeObjectBody(
      await readBody(call.req),
      call.req.headers["content-type"],
      call.parts.decode,
    );
    const spec = isObject(body.spec) ? body.spec : {};
    const token = typeof spec.token === "string" ? spec.token : "";
    if (token === "") throw ApiError.badRequest("token is required for TokenReview in authentication");
    const audiences = Array.isArray(spec.audiences)
      ? spec.audiences.filter((a): a is string => typeof a === "string")
      : [];
    sendJson(call.res, 201, {
      kind: "TokenReview",
      apiVersion: "authentication.k8s.io/v1",
      metadata: { ...(isObject(body.metadata) ? body.metadata : {}), creationTimestamp: null },
      spec,
      status: reviewToken(auth, token, audiences),
    });
  };
}

/** TokenReviewStatus for one token, with upstream's field presence (user is always there) */
export function reviewToken(
  auth: Authenticator,
  token: string,
  audiences: string[],
): Record<string, unknown> {
  const r = auth.authenticateToken(token, audiences);
  if (!("user" in r)) return { user: {}, error: r.error };
  const u = r.user;
  const extra = u.extra && Object.keys(u.extra).length > 0 ? { extra: u.extra } : {};
  return {
    authenticated: true,
    user: { username: u.username, ...(u.uid ? { uid: u.uid } : {}), groups: u.groups, ...extra },
    ...(r.audiences.length > 0 ? { audiences: r.audiences } : {}),
  };
}
