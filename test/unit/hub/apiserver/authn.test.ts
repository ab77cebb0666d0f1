/**
 * The authenticator chain: anonymous vs 401, client certificates, the admin token, bootstrap
 * tokens and service-account JWTs (audiences, expiry, bound pods), with upstream's error texts
 * as TokenReview reports them.
 */
import { generateKeyPairSync } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { Authenticator, bearerToken, staticTokens } from "../../../../src/hub/apiserver/auth.js";
import { bootstrapTokenAuthenticator } from "../../../../src/hub/auth/bootstrap-authenticator.js";
import { ServiceAccountTokens, TOKEN_ISSUER } from "../../../../src/hub/auth/service-account-tokens.js";
import { bootstrapTokenSecret } from "../../../../src/hub/edge/bootstrap-token.js";

const NOW = new Date("2026-03-01T12:00:00Z");
const AUDS = [TOKEN_ISSUER];
const ADMIN = "admintoken0123456789";

function keyPem(): string {
  return generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({
    type: "pkcs8",
    format: "pem",
  }) as string;
}

interface FakeCert {
  subject?: { CN?: string; O?: string | string[] };
}

/** a request as the TLS server hands it over: headers plus the socket's peer certificate */
function req(headers: Record<string, string>, cert: FakeCert = {}, authorized = false): IncomingMessage {
  const socket = {
    getPeerCertificate: () => cert,
    authorized,
    authorizationError: authorized ? undefined : "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  };
  return { headers, socket } as unknown as IncomingMessage;
}

function chain(opts: { anonymous?: boolean; secrets?: KubeObject[]; livePod?: boolean } = {}) {
  const sa = new ServiceAccountTokens(keyPem());
  const secrets = new Map((opts.secrets ?? []).map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s]));
  const auth = new Authenticator({
    apiAudiences: AUDS,
    ...(opts.anonymous !== undefined ? { anonymous: opts.anonymous } : {}),
    tokens: [
      staticTokens([{ token: ADMIN, user: { username: "admin", groups: ["system:masters"] } }], AUDS),
      bootstrapTokenAuthenticator(
        (ns, name) => secrets.get(`${ns}/${name}`),
        AUDS,
        () => NOW,
      ),
      (token, audiences) => sa.review(token, audiences, NOW, () => opts.livePod ?? true),
    ],
  });
  return { auth, sa };
}

const issue = (sa: ServiceAccountTokens, extra: Partial<Parameters<ServiceAccountTokens["issue"]>[0]> = {}) =>
  sa.issue({ namespace: "ns1", name: "robot", uid: "sa-uid", expirationSeconds: 3600, now: NOW, ...extra })
    .token;

describe("Authenticator: requests", () => {
  it("makes a request without credentials system:anonymous, or a 401 when anonymous auth is off", () => {
    expect(chain().auth.authenticateRequest(req({}))).toEqual({
      user: { username: "system:anonymous", groups: ["system:unauthenticated"] },
      audiences: [],
    });
    const off = chain({ anonymous: false }).auth.authenticateRequest(req({}));
    expect(off).toEqual({ error: expect.stringContaining("no credentials") });
  });

  it("never lets invalid credentials fall through to anonymous", () => {
    const { auth } = chain();
    expect(auth.authenticateRequest(req({ authorization: "Bearer nope" }))).toEqual({
      error: "invalid bearer token",
    });
    // a client certificate the CA did not sign is a credential too
    const r = auth.authenticateRequest(req({}, { subject: { CN: "mallory" } }, false));
    expect(r).toEqual({ error: expect.stringMatching(/^x509: /) });
    // another scheme, or an empty bearer, is no credential (upstream: anonymous)
    expect(auth.authenticateRequest(req({ authorization: "Basic Zm9vOmJhcg==" }))).toMatchObject({
      user: { username: "system:anonymous" },
    });
    expect(auth.authenticateRequest(req({ authorization: "Bearer " }))).toMatchObject({
      user: { username: "system:anonymous" },
    });
  });

  it("takes a verified client certificate (CN user, O groups) and adds system:authenticated", () => {
    const r = chain().auth.authenticateRequest(req({}, { subject: { CN: "bob", O: ["dev", "ops"] } }, true));
    expect(r).toEqual({
      user: { username: "bob", groups: ["dev", "ops", "system:authenticated"] },
      audiences: [],
    });
  });

  it("accepts the admin token with any case of the Bearer scheme", () => {
    const r = chain().auth.authenticateRequest(req({ authorization: `bearer ${ADMIN}` }));
    expect(r).toEqual({
      user: { username: "admin", groups: ["system:masters", "system:authenticated"] },
      audiences: AUDS,
    });
  });
});

describe("Authenticator: tokens (TokenReview)", () => {
  it("reviews a service-account JWT: user, uid, groups, audiences; pod-bound ones carry extra", () => {
    const { auth, sa } = chain();
    expect(auth.authenticateToken(issue(sa))).toEqual({
      user: {
        username: "system:serviceaccount:ns1:robot",
        uid: "sa-uid",
        groups: ["system:serviceaccounts", "system:serviceaccounts:ns1", "system:authenticated"],
      },
      audiences: AUDS,
    });
    const bound = auth.authenticateToken(issue(sa, { pod: { name: "p1", uid: "pod-uid" } }));
    expect(bound).toMatchObject({
      user: {
        extra: {
          "authentication.kubernetes.io/pod-name": ["p1"],
          "authentication.kubernetes.io/pod-uid": ["pod-uid"],
        },
      },
    });
  });

  it("checks audiences both ways, with upstream's text", () => {
    const { auth, sa } = chain();
    const vault = issue(sa, { audiences: ["vault", "other"] });
    expect(auth.authenticateToken(vault, ["vault"])).toMatchObject({ audiences: ["vault"] });
    expect(auth.authenticateToken(vault)).toEqual({
      error: `[invalid bearer token, token audiences ["vault" "other"] is invalid for the target audiences ["${TOKEN_ISSUER}"]]`,
    });
    // the admin token knows no audience: good for the API's only
    expect(auth.authenticateToken(ADMIN, ["vault"])).toEqual({ error: "invalid bearer token" });
    expect(auth.authenticateToken(ADMIN, [TOKEN_ISSUER, "vault"])).toMatchObject({ audiences: AUDS });
  });

  it("refuses expired, foreign-signed and pod-orphaned tokens with upstream's reasons", () => {
    const { auth, sa } = chain({ livePod: false });
    const old = sa.issue({
      namespace: "ns1",
      name: "robot",
      uid: "u",
      expirationSeconds: 600,
      now: new Date(NOW.getTime() - 3_600_000),
    }).token;
    expect(auth.authenticateToken(old)).toEqual({
      error: "[invalid bearer token, service account token has expired]",
    });
    const foreign = issue(new ServiceAccountTokens(keyPem()));
    expect(auth.authenticateToken(foreign)).toEqual({
      error: "[invalid bearer token, go-jose/go-jose: error in cryptographic primitive]",
    });
    const orphan = issue(sa, { pod: { name: "gone", uid: "x" } });
    expect(auth.authenticateToken(orphan)).toEqual({
      error: "[invalid bearer token, service account token has been invalidated]",
    });
  });

  it("authenticates a bootstrap token as system:bootstrap:<id>, unless expired or wrong", () => {
    const good = bootstrapTokenSecret({ id: "abcdef", secret: "0123456789abcdef" });
    (good.data as Record<string, string>)["auth-extra-groups"] = Buffer.from(
      "system:bootstrappers:edge,system:masters",
    ).toString("base64");
    const expired = bootstrapTokenSecret({
      id: "zzzzzz",
      secret: "0123456789abcdef",
      expiration: new Date(NOW.getTime() - 1000),
    });
    const { auth } = chain({ secrets: [good, expired] });
    expect(auth.authenticateToken("abcdef.0123456789abcdef")).toEqual({
      user: {
        username: "system:bootstrap:abcdef",
        // system:masters is not under system:bootstrappers: and is dropped
        groups: ["system:bootstrappers", "system:bootstrappers:edge", "system:authenticated"],
      },
      audiences: AUDS,
    });
    expect(auth.authenticateToken("abcdef.0123456789abcdeX")).toEqual({ error: "invalid bearer token" });
    expect(auth.authenticateToken("zzzzzz.0123456789abcdef")).toEqual({ error: "invalid bearer token" });
    expect(auth.authenticateToken("qqqqqq.0123456789abcdef")).toEqual({ error: "invalid bearer token" });
  });
});

describe("bearerToken", () => {
  it("parses the header as upstream's split on spaces does", () => {
    const split = (h: string | undefined) => {
      const parts = (h ?? "").trim().split(" ");
      if (parts.length < 2 || parts[0]!.toLowerCase() !== "bearer") return undefined;
      return parts[1] === "" ? undefined : parts[1];
    };
    for (const h of [
      undefined,
      "",
      "Bearer abc",
      "bearer abc",
      "BEARER abc",
      "  Bearer abc  ",
      "Bearer  abc",
      "Bearer abc def",
      "Bearer ",
      "Bearer",
      "Basic abc",
      "Bearerx abc",
      "Bear abc",
      "\tBearer abc\n",
    ]) {
      expect(bearerToken(h), JSON.stringify(h)).toBe(split(h));
    }
    expect(bearerToken("Bearer abc def")).toBe("abc");
  });
});
