/**
 * Authentication: who a request (or a TokenReview's token) is, as upstream's authenticator
 * chain decides it. Authorization (RBAC, impersonation) happens afterwards, in ./authz/.
 *
 * Design notes
 * - Order as upstream's union: a verified client certificate (CN = user, O = groups), then the
 *   bearer token through each token authenticator (the admin token, bootstrap tokens,
 *   service-account JWTs). The first that recognises the credential wins.
 * - Presented but invalid credentials are a 401, never anonymous: a bearer token nobody accepts,
 *   or a client certificate the cluster CA did not sign. Upstream's error text is kept for
 *   TokenReview (`invalid bearer token`, with the authenticators' reasons in brackets).
 * - No credentials at all: `system:anonymous` in `system:unauthenticated` when anonymous auth
 *   is on (upstream's default; `--anonymous-auth=false` turns it off), else a 401.
 * - Every authenticated user gets `system:authenticated` (upstream's AuthenticatedGroupAdder).
 * - Audiences: a token is checked against the audiences asked for (a TokenReview's
 *   spec.audiences, or the API's own). Authenticators that know no audiences (static and
 *   bootstrap tokens) answer for the API's audiences only, as upstream's audience-agnostic
 *   wrapper does.
 */
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  /** upstream's user extra (e.g. the pod a bound service-account token belongs to) */
  extra?: Record<string, string[]>;
}

export const ANONYMOUS_USER = "system:anonymous";
export const UNAUTHENTICATED_GROUP = "system:unauthenticated";
export const AUTHENTICATED_GROUP = "system:authenticated";

/** what one token authenticator says: a user, a reason it refuses, or undefined (not its kind) */
export type TokenOutcome = { user: UserInfo; audiences: string[] } | { error: string } | undefined;

/** checks `token` for the `audiences` asked for (never empty: the API's own by default) */
export type TokenAuthenticator = (token: string, audiences: string[]) => TokenOutcome;

export type AuthnResult = { user: UserInfo; audiences: string[] } | { error: string };

export interface AuthenticatorOptions {
  /** tried in order for bearer tokens */
  tokens: TokenAuthenticator[];
  /** requests without credentials act as system:anonymous (default true, as upstream) */
  anonymous?: boolean;
  /** the API server's own audiences (upstream's --api-audiences; default: the token issuer) */
  apiAudiences: string[];
}

export interface TokenEntry {
  token: string;
  user: UserInfo;
}

const INVALID_TOKEN = "invalid bearer token";

export class Authenticator {
  readonly anonymous: boolean;
  readonly apiAudiences: string[];

  constructor(private readonly opts: AuthenticatorOptions) {
    this.anonymous = opts.anonymous ?? true;
    this.apiAudiences = opts.apiAudiences;
  }

  /** the request's user, or why it is a 401 */
  authenticateRequest(req: IncomingMessage): AuthnResult {
    const sock = req.socket as TLSSocket;
    let certError: string | undefined;
    if (typeof sock.getPeerCertificate === "function") {
      const cert = sock.getPeerCertificate();
      const cn = cert?.subject?.CN;
      if (cn && sock.authorized) {
        const o = cert.subject.O;
        const groups = Array.isArray(o) ? o : o ? [o] : [];
        return done({ username: Array.isArray(cn) ? cn[0]! : cn, groups }, []);
      }
      // a certificate was presented and refused: a credential, so no anonymous fallback
      if (cert && Object.keys(cert).length > 0)
        certError = `x509: ${sock.authorizationError ?? "the client certificate is not valid"}`;
    }
    const token = bearerToken(req.headers.authorization);
    if (token !== undefined) {
      const r = this.authenticateToken(token);
      if ("user" in r) return r;
      return { error: certError ? `[${certError}, ${r.error}]` : r.error };
    }
    if (certError) return { error: certError };
    if (!this.anonymous)
      return { error: "the request carries no credentials (a bearer token or a client certificate)" };
    return { user: { username: ANONYMOUS_USER, groups: [UNAUTHENTICATED_GROUP] }, audiences: [] };
  }

  /** a bearer token as TokenReview checks it; `audiences` defaults to the API's */
  authenticateToken(token: string, audiences: string[] = []): AuthnResult {
    const want = audiences.length > 0 ? audiences : this.apiAudiences;
    const errors: string[] = [];
    for (const a of this.opts.tokens) {
      const r = a(token, want);
      if (r === undefined) continue;
      if ("user" in r) return done(r.user, r.audiences);
      errors.push(r.error);
    }
    return { error: errors.length === 0 ? INVALID_TOKEN : `[${[INVALID_TOKEN, ...errors].join(", ")}]` };
  }
}

/** upstream's bearer parsing: scheme case-insensitive, an empty token is no token */
export function bearerToken(header: string | undefined): string | undefined {
  // split(" ")'s first two fields without the array: parts[0] is "bearer", parts[1] the token
  if (!header) return undefined;
  const h = header.trim();
  if (h.indexOf(" ") !== 6 || h.slice(0, 6).toLowerCase() !== "bearer") return undefined;
  const end = h.indexOf(" ", 7);
  const token = end < 0 ? h.slice(7) : h.slice(7, end);
  return token === "" ? undefined : token;
}

function done(user: UserInfo, audiences: string[]): AuthnResult {
  if (user.groups.includes(AUTHENTICATED_GROUP) || user.username === ANONYMOUS_USER)
    return { user, audiences };
  return { user: { ...user, groups: [...user.groups, AUTHENTICATED_GROUP] }, audiences };
}

/** the intersection of two audience lists, in the order of `a` */
export function intersectAudiences(a: string[], b: string[]): string[] {
  return a.filter((x) => b.includes(x));
}

/**
 * Fixed tokens (the admin kubeconfig's), compared in constant time. They know no audience, so
 * they answer only when the audiences asked for include one of the API's.
 */
export function staticTokens(entries: TokenEntry[], apiAudiences: string[]): TokenAuthenticator {
  const bytes = entries.map((e) => Buffer.from(e.token));
  return (token, audiences) => {
    const presented = Buffer.from(token);
    for (let i = 0; i < entries.length; i++) {
      const want = bytes[i]!;
      if (want.length !== presented.length || !timingSafeEqual(want, presented)) continue;
      const auds = intersectAudiences(apiAudiences, audiences);
      return auds.length === 0 ? undefined : { user: entries[i]!.user, audiences: auds };
    }
    return undefined;
  };
}
