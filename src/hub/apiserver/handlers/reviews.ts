/**
 * The create-only review APIs kubectl uses: SelfSubjectAccessReview (`auth can-i`),
 * SelfSubjectRulesReview (`auth can-i --list`) and SelfSubjectReview (`auth whoami`).
 */
import { ApiError } from "../../../api/errors.js";
import { isAdmin } from "../auth.js";
import { decodeObjectBody } from "../codec.js";
import { readBody, sendJson } from "../http.js";
import type { Call } from "./context.js";

export async function handleReview(call: Call): Promise<void> {
  const body = decodeObjectBody(
    await readBody(call.req),
    call.req.headers["content-type"],
    call.parts.decode,
  );
  const { kind, group, version } = call.info;
  const apiVersion = `${group}/${version}`;
  const user = call.user;
  const allowed = isAdmin(user);
  switch (kind) {
    case "SelfSubjectAccessReview":
      sendJson(call.res, 201, {
        kind,
        apiVersion,
        metadata: { creationTimestamp: null },
        spec: body.spec ?? {},
        status: allowed
          ? { allowed: true, reason: "the user is in the system:masters group" }
          : { allowed: false },
      });
      return;
    case "SelfSubjectRulesReview":
      sendJson(call.res, 201, {
        kind,
        apiVersion,
        metadata: { creationTimestamp: null },
        spec: body.spec ?? {},
        status: {
          resourceRules: allowed ? [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }] : [],
          nonResourceRules: allowed ? [{ verbs: ["*"], nonResourceURLs: ["*"] }] : [],
          incomplete: false,
        },
      });
      return;
    case "SelfSubjectReview":
      sendJson(call.res, 201, {
        kind,
        apiVersion,
        metadata: { creationTimestamp: null },
        status: {
          userInfo: { username: user.username, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups },
        },
      });
      return;
    default:
      throw ApiError.methodNotAllowed(`${kind} cannot be created here`);
  }
}
