/**
 * Authentication: bearer tokens (the admin kubeconfig's, and later service-account tokens)
 * and client certificates signed by the cluster CA (CN = user, O = groups). Anything else is
 * 401. Authorization (RBAC, impersonation) happens afterwards, in ./authz/.
 */
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
}

export interface TokenEntry {
  token: string;
  user: UserInfo;
}

export class Authenticator {
  private readonly tokens: TokenEntry[];
  /** the tokens' bytes, made once rather than on every request */
  private readonly tokenBytes: Buffer[];

  /** `verify` checks bearer tokens that are not static ones (service account JWTs) */
  constructor(
    tokens: TokenEntry[],
    private readonly verify?: (token: string) => UserInfo | undefined,
  ) {
    this.tokens = [...tokens];
    this.tokenBytes = tokens.map((t) => Buffer.from(t.token));
  }

  addToken(entry: TokenEntry): void {
    this.tokens.push(entry);
    this.tokenBytes.push(Buffer.from(entry.token));
  }

  authenticate(req: IncomingMessage): UserInfo | undefined {
    const h = req.headers.authorization;
    if (h?.startsWith("Bearer ")) {
      const presented = Buffer.from(h.slice(7).trim());
      for (let i = 0; i < this.tokens.length; i++) {
        const want = this.tokenBytes[i]!;
        if (want.length === presented.length && timingSafeEqual(want, presented)) return this.tokens[i]!.user;
      }
      return this.verify?.(presented.toString());
    }
    const sock = req.socket as TLSSocket;
    if (typeof sock.getPeerCertificate === "function" && sock.authorized) {
      const cert = sock.getPeerCertificate();
      const cn = cert?.subject?.CN;
      if (cn) {
        const o = cert.subject.O;
        const groups = Array.isArray(o) ? o : o ? [o] : [];
        return { username: Array.isArray(cn) ? cn[0]! : cn, groups: [...groups, "system:authenticated"] };
      }
    }
    return undefined;
  }
}
