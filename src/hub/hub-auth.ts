/**
 * The hub's authenticator chain: a composition helper for hub.ts (see apiserver/auth.ts for
 * the mechanism).
 *
 * Design notes
 * - Token authenticators in upstream's order of cost: the admin kubeconfig's static token,
 *   bootstrap tokens (join tokens, looked up in the shared informer cache of Secrets), then
 *   service-account JWTs (an ECDSA verification).
 * - The API's audience is the service-account issuer, as upstream's default --api-audiences.
 */
import type { KubeObject } from "../api/object.js";
import { Authenticator, staticTokens } from "./apiserver/auth.js";
import { bootstrapTokenAuthenticator } from "./auth/bootstrap-authenticator.js";
import {
  type BoundPodCheck,
  type ServiceAccountTokens,
  TOKEN_ISSUER,
} from "./auth/service-account-tokens.js";

export interface HubAuthDeps {
  adminToken: string;
  saTokens: ServiceAccountTokens;
  /** a Secret from an in-memory cache (bootstrap tokens) */
  getSecret: (namespace: string, name: string) => KubeObject | undefined;
  /** is the pod a bound token names still the live one */
  podStillBound: BoundPodCheck;
  /** `--anonymous-auth` (default true) */
  anonymous: boolean;
  now: () => Date;
}

export function createHubAuthenticator(d: HubAuthDeps): Authenticator {
  const apiAudiences = [TOKEN_ISSUER];
  return new Authenticator({
    apiAudiences,
    anonymous: d.anonymous,
    tokens: [
      staticTokens(
        [
          {
            token: d.adminToken,
            user: { username: "admin", groups: ["system:masters", "system:authenticated"] },
          },
        ],
        apiAudiences,
      ),
      bootstrapTokenAuthenticator(d.getSecret, apiAudiences, d.now),
      (token, audiences) => d.saTokens.review(token, audiences, d.now(), d.podStillBound),
    ],
  });
}
