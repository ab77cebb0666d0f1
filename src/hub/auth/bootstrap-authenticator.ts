/**
 * Bootstrap tokens (`<id>.<secret>`, the join tokens of `edge-hub token create`) as bearer
 * tokens of the API: upstream's bootstrap token authenticator.
 *
 * Design notes
 * - The token's Secret kube-system/bootstrap-token-<id> is read through a synchronous lookup
 *   (the hub's shared informer cache of Secrets), so authentication stays synchronous and costs
 *   no store read per request.
 * - Valid means: the Secret is a bootstrap token with `usage-bootstrap-authentication: "true"`,
 *   the secret half matches (constant time) and it has not expired. Anything else is "not mine"
 *   without a reason, as upstream (which only logs why): the caller answers
 *   `invalid bearer token`, and nobody learns which token ids exist.
 * - The user is `system:bootstrap:<id>` in `system:bootstrappers` plus the Secret's
 *   `auth-extra-groups` (each must start with `system:bootstrappers:`, as upstream validates).
 */
import type { KubeObject } from "../../api/object.js";
import { TOKEN_ID_RE, TOKEN_SECRET_RE } from "../../lib/join-token.js";
import { intersectAudiences, type TokenAuthenticator } from "../apiserver/auth.js";
import { BOOTSTRAP_NAMESPACE, bootstrapSecretName, checkBootstrapToken } from "../edge/bootstrap-token.js";

export const BOOTSTRAPPERS_GROUP = "system:bootstrappers";

export type SecretLookup = (namespace: string, name: string) => KubeObject | undefined;

export function bootstrapTokenAuthenticator(
  getSecret: SecretLookup,
  apiAudiences: string[],
  now: () => Date = () => new Date(),
): TokenAuthenticator {
  return (token, audiences) => {
    const dot = token.indexOf(".");
    const id = token.slice(0, dot);
    const secret = token.slice(dot + 1);
    if (dot < 0 || !TOKEN_ID_RE.test(id) || !TOKEN_SECRET_RE.test(secret)) return undefined;
    const stored = getSecret(BOOTSTRAP_NAMESPACE, bootstrapSecretName(id));
    if (checkBootstrapToken(stored, secret, now()) !== "ok") return undefined;
    const auds = intersectAudiences(apiAudiences, audiences);
    if (auds.length === 0) return undefined;
    return {
      user: { username: `system:bootstrap:${id}`, groups: [BOOTSTRAPPERS_GROUP, ...extraGroups(stored!)] },
      audiences: auds,
    };
  };
}

/** `auth-extra-groups`: comma-separated, each under system:bootstrappers: (others are ignored) */
function extraGroups(secret: KubeObject): string[] {
  const raw = (secret.data as Record<string, unknown> | undefined)?.["auth-extra-groups"];
  if (typeof raw !== "string") return [];
  return Buffer.from(raw, "base64")
    .toString("utf8")
    .split(",")
    .map((g) => g.trim())
    .filter((g) => g.startsWith(`${BOOTSTRAPPERS_GROUP}:`));
}
