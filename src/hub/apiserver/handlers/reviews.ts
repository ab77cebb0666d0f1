/**
 * The create-only review APIs kubectl uses: SelfSubjectAccessReview (`auth can-i`),
 * SelfSubjectRulesReview (`auth can-i --list`) and SelfSubjectReview (`auth whoami`); the
 * reviews on someone else's behalf (SubjectAccessReview, LocalSubjectAccessReview) are in
 * ./subject-access-review.ts and TokenReview in ./token-review.ts.
 * Access and rules reviews answer from the same RBAC authorizer that guards requests, for the
 * user the request acts as (so `--as` works through impersonation).
 */
import { ApiError } from "../../../api/errors.js";
import { isObject, type JsonObject } from "../../../api/object.js";
import type { UserInfo } from "../auth.js";
import { type Attributes, nonResourceAttributes } from "../authz/attributes.js";
import type { PolicyRule } from "../authz/rules.js";
import { decodeObjectBody } from "../codec.js";
import { readBody, sendJson } from "../http.js";
import type { Call } from "./context.js";
import { handleSubjectAccessReview, resourceAttributes } from "./subject-access-review.js";

export async function handleReview(call: Call): Promise<void> {
  const body = decodeObjectBody(
    await readBody(call.req),
    call.req.headers["content-type"],
    call.parts.decode,
  );
  const { kind, group, version } = call.info;
  const apiVersion = `${group}/${version}`;
  const user = call.user;
  const spec = isObject(body.spec) ? body.spec : {};
  const reply = (status: unknown, withSpec = true) =>
    sendJson(call.res, 201, {
      kind,
      apiVersion,
      metadata: { creationTimestamp: null },
      ...(withSpec ? { spec } : {}),
      status,
    });
  switch (kind) {
    case "SelfSubjectAccessReview": {
      const d = call.parts.authorizer.authorize(accessAttributes(user, spec));
      reply({ allowed: d.allowed, ...(d.reason ? { reason: d.reason } : {}) });
      return;
    }
    case "SelfSubjectRulesReview": {
      const ns = typeof spec.namespace === "string" ? spec.namespace : "";
      const rules = call.parts.authorizer.rulesFor(user, ns);
      reply({
        resourceRules: rules.resourceRules.map(resourceRule),
        nonResourceRules: rules.nonResourceRules.map((r) => ({
          verbs: r.verbs,
          nonResourceURLs: r.nonResourceURLs,
        })),
        incomplete: rules.errors.length > 0,
        ...(rules.errors.length > 0 ? { evaluationError: rules.errors.join(", ") } : {}),
      });
      return;
    }
    case "SelfSubjectReview":
      reply(
        {
          userInfo: { username: user.username, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups },
        },
        false,
      );
      return;
    case "SubjectAccessReview":
    case "LocalSubjectAccessReview":
      return handleSubjectAccessReview(call, body);
    default:
      throw ApiError.methodNotAllowed(`${kind} cannot be created here`);
  }
}

const str = (o: JsonObject, k: string): string => (typeof o[k] === "string" ? (o[k] as string) : "");

/** spec.resourceAttributes or spec.nonResourceAttributes as authorizer attributes */
function accessAttributes(user: UserInfo, spec: JsonObject): Attributes {
  if (isObject(spec.resourceAttributes)) return resourceAttributes(user, spec.resourceAttributes);
  if (isObject(spec.nonResourceAttributes)) {
    const nra = spec.nonResourceAttributes;
    return nonResourceAttributes(user, str(nra, "verb"), str(nra, "path"));
  }
  throw ApiError.invalid(
    "SelfSubjectAccessReview",
    "",
    [
      {
        reason: "FieldValueRequired",
        field: "spec.resourceAttributes",
        message:
          "Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified",
      },
    ],
    "authorization.k8s.io",
  );
}

function resourceRule(r: PolicyRule): Record<string, string[]> {
  return {
    verbs: r.verbs,
    ...(r.apiGroups.length > 0 ? { apiGroups: r.apiGroups } : {}),
    ...(r.resources.length > 0 ? { resources: r.resources } : {}),
    ...(r.resourceNames.length > 0 ? { resourceNames: r.resourceNames } : {}),
  };
}
