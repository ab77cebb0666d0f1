/**
 * ServiceAccount tokens: the TokenRequest API (`kubectl create token`, projected
 * serviceAccountToken volumes) and their verification as bearer tokens.
 *
 * Design notes
 * - Bound JWTs as upstream issues them: ES256 over a hub-local signing key (DATA/tls/sa.key,
 *   made on first start), `iss` https://kubernetes.default.svc.cluster.local, `sub`
 *   system:serviceaccount:<ns>:<name>, the `kubernetes.io` claim with namespace and
 *   service account name/uid (and the pod when bound), `aud`, `exp`, `iat`, `nbf`.
 * - Verification is synchronous (issuer, signature, audience, expiry), with upstream's error
 *   texts for TokenReview. A token bound to a pod is also
 *   checked against the live pod (name and uid, through the injected `BoundPodCheck`, which
 *   reads an in-memory index): a deleted or re-created pod's token stops working, as upstream's
 *   bound-object validation does. It does not re-check that the ServiceAccount still exists.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isObject } from "../../api/object.js";
import { writeFileAtomic } from "../../lib/fsutil.js";
import { intersectAudiences, type TokenOutcome, type UserInfo } from "../apiserver/auth.js";

export const TOKEN_ISSUER = "https://kubernetes.default.svc.cluster.local";

export interface IssueRequest {
  namespace: string;
  name: string;
  uid: string;
  audiences?: string[];
  expirationSeconds: number;
  pod?: { name: string; uid: string };
  now: Date;
}

interface Claims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  "kubernetes.io": {
    namespace: string;
    serviceaccount: { name: string; uid: string };
    pod?: { name: string; uid: string };
  };
}

/** is the pod a token is bound to still the live one? (upstream: bound object validation) */
export type BoundPodCheck = (namespace: string, name: string, uid: string) => boolean;

const b64 = (b: Buffer | string) => Buffer.from(b).toString("base64url");

export class ServiceAccountTokens {
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly kid: string;

  constructor(keyPem: string) {
    this.privateKey = createPrivateKey(keyPem);
    this.publicKey = createPublicKey(this.privateKey);
    this.kid = b64(
      createHash("sha256")
        .update(this.publicKey.export({ type: "spki", format: "der" }))
        .digest(),
    ).slice(0, 43);
  }

  /** the signing key in DATA/tls/sa.key, made on first start */
  static loadOrCreate(dataDir: string): ServiceAccountTokens {
    const file = join(dataDir, "tls", "sa.key");
    if (!existsSync(file)) {
      const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
      writeFileAtomic(file, privateKey.export({ type: "pkcs8", format: "pem" }) as string, 0o600);
    }
    return new ServiceAccountTokens(readFileSync(file, "utf8"));
  }

  issue(r: IssueRequest): { token: string; expirationTimestamp: string } {
    const iat = Math.floor(r.now.getTime() / 1000);
    const claims: Claims = {
      iss: TOKEN_ISSUER,
      sub: `system:serviceaccount:${r.namespace}:${r.name}`,
      aud: r.audiences && r.audiences.length > 0 ? r.audiences : [TOKEN_ISSUER],
      exp: iat + r.expirationSeconds,
      iat,
      nbf: iat,
      "kubernetes.io": {
        namespace: r.namespace,
        serviceaccount: { name: r.name, uid: r.uid },
        ...(r.pod ? { pod: r.pod } : {}),
      },
    };
    const head = b64(JSON.stringify({ alg: "ES256", kid: this.kid }));
    const body = b64(JSON.stringify(claims));
    const sig = sign("sha256", Buffer.from(`${head}.${body}`), {
      key: this.privateKey,
      dsaEncoding: "ieee-p1363",
    });
    return {
      token: `${head}.${body}.${b64(sig)}`,
      expirationTimestamp: new Date(claims.exp * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
    };
  }

  /**
   * the user a valid token stands for, or undefined (bad signature, issuer, audience, expired,
   * or bound to a pod that `boundPod` says is gone)
   */
  verify(token: string, now = new Date(), boundPod?: BoundPodCheck): UserInfo | undefined {
    const r = this.review(token, [TOKEN_ISSUER], now, boundPod);
    return r && "user" in r ? r.user : undefined;
  }

  /**
   * Upstream's JWT authenticator for one token and the audiences asked for: undefined when it is
   * not one of ours (not a JWT, another issuer), an error with upstream's text when it is ours
   * but not valid, else the user and the audiences the token is good for.
   */
  review(token: string, audiences: string[], now = new Date(), boundPod?: BoundPodCheck): TokenOutcome {
    const parts = token.split(".");
    if (parts.length !== 3) return undefined;
    const [head, body, sig] = parts as [string, string, string];
    let c: Claims;
    try {
      c = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as Claims;
    } catch {
      return undefined;
    }
    if (!isObject(c) || c.iss !== TOKEN_ISSUER) return undefined;
    const ok = verify(
      "sha256",
      Buffer.from(`${head}.${body}`),
      { key: this.publicKey, dsaEncoding: "ieee-p1363" },
      Buffer.from(sig, "base64url"),
    );
    if (!ok) return { error: "go-jose/go-jose: error in cryptographic primitive" };
    const tokenAuds = Array.isArray(c.aud) ? c.aud : typeof c.aud === "string" ? [c.aud] : [TOKEN_ISSUER];
    const auds = intersectAudiences(tokenAuds, audiences);
    if (auds.length === 0)
      return {
        error: `token audiences ${goQuote(tokenAuds)} is invalid for the target audiences ${goQuote(audiences)}`,
      };
    const t = Math.floor(now.getTime() / 1000);
    if (typeof c.exp !== "number" || c.exp <= t) return { error: "service account token has expired" };
    if (typeof c.nbf === "number" && c.nbf > t + 60)
      return { error: "service account token is not valid yet" };
    const k = c["kubernetes.io"];
    if (!isObject(k) || !isObject(k.serviceaccount))
      return { error: "service account token claims are invalid" };
    if (k.pod && boundPod && !boundPod(k.namespace, k.pod.name, k.pod.uid))
      return { error: "service account token has been invalidated" };
    return {
      user: {
        username: c.sub,
        uid: k.serviceaccount.uid,
        groups: ["system:serviceaccounts", `system:serviceaccounts:${k.namespace}`, "system:authenticated"],
        ...(k.pod
          ? {
              extra: {
                "authentication.kubernetes.io/pod-name": [k.pod.name],
                "authentication.kubernetes.io/pod-uid": [k.pod.uid],
              },
            }
          : {}),
      },
      audiences: auds,
    };
  }
}

/** Go's %q of a []string: ["a" "b"] */
const goQuote = (xs: string[]): string => `[${xs.map((x) => JSON.stringify(x)).join(" ")}]`;
