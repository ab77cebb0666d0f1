/**
 * The hub's token issuer (TokenRequest + NodeRestriction for agents over MQTT) with a real
 * signing key: what a node may get, what it is refused and why, the answer on the node's own
 * token topic, and the bound-pod check of the issued token at verification.
 */
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { tokenVolumeSource } from "../../../../src/hub/apiserver/admission/service-account.js";
import { ServiceAccountTokens, TOKEN_ISSUER } from "../../../../src/hub/auth/service-account-tokens.js";
import { type TokenChannel, TokenIssuer } from "../../../../src/hub/edge/token-issuer.js";
import { silentLogger } from "../../../../src/lib/logger.js";
import type { Envelope } from "../../../../src/transport/envelope.js";
import {
  parseTokenResponse,
  TOKEN_TOPIC,
  type TokenRequest,
  tokenRequestEnvelope,
} from "../../../../src/transport/token-frames.js";

const key = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({
  type: "pkcs8",
  format: "pem",
}) as string;
const tokens = new ServiceAccountTokens(key);
const NOW = new Date("2026-01-01T00:00:00Z");

function pod(extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p1", namespace: "ns1", uid: "uid-1" },
    spec: {
      nodeName: "node-a",
      serviceAccountName: "default",
      containers: [],
      volumes: [
        { name: "kube-api-access-abcde", projected: tokenVolumeSource() },
        {
          name: "vault",
          projected: { sources: [{ serviceAccountToken: { path: "t", audience: "vault" } }] },
        },
      ],
      ...extra,
    },
  };
}

function issuer(p: KubeObject | undefined, sa = true) {
  return new TokenIssuer({
    channel: { send: async () => {}, onEnvelope: () => () => {} },
    tokens,
    getPod: async () => p,
    getServiceAccount: async (ns, name) =>
      sa
        ? ({
            apiVersion: "v1",
            kind: "ServiceAccount",
            metadata: { name, namespace: ns, uid: "sa-uid" },
          } as KubeObject)
        : undefined,
    now: () => NOW,
    logger: silentLogger(),
  });
}

const req = (over: Partial<TokenRequest> = {}): TokenRequest => ({
  namespace: "ns1",
  pod: "p1",
  podUID: "uid-1",
  serviceAccount: "default",
  audience: "",
  expirationSeconds: 3607,
  ...over,
});

function claims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as Record<
    string,
    unknown
  >;
}

describe("TokenIssuer", () => {
  it("issues a pod-bound token for the API audience that verifies as the service account", async () => {
    const r = await issuer(pod()).issue("node-a", req());
    if (!("token" in r)) throw new Error("expected a token");
    expect(r.expirationTimestamp).toBe("2026-01-01T01:00:07Z");
    const c = claims(r.token);
    expect(c.aud).toEqual([TOKEN_ISSUER]);
    expect(c.sub).toBe("system:serviceaccount:ns1:default");
    expect(c["kubernetes.io"]).toMatchObject({
      pod: { name: "p1", uid: "uid-1" },
      serviceaccount: { uid: "sa-uid" },
    });
    const live = vi.fn(() => true);
    expect(tokens.verify(r.token, NOW, live)?.username).toBe("system:serviceaccount:ns1:default");
    expect(live).toHaveBeenCalledWith("ns1", "p1", "uid-1");
    // the pod is gone (or re-created with another uid): the token no longer authenticates
    expect(tokens.verify(r.token, NOW, () => false)).toBeUndefined();
  });

  it("issues for an audience the pod's volumes ask for", async () => {
    const r = await issuer(pod()).issue("node-a", req({ audience: "vault" }));
    expect("token" in r && claims(r.token).aud).toEqual(["vault"]);
  });

  it.each([
    ["a pod of another node", req(), "node-b", /not scheduled on it/],
    ["a stale pod uid", req({ podUID: "old" }), "node-a", /does not match the UID/],
    ["another service account", req({ serviceAccount: "admin" }), "node-a", /runs as "default"/],
    [
      "an audience no volume asks for",
      req({ audience: "other" }),
      "node-a",
      /audience "other" is not requested/,
    ],
    ["a duration under 10 minutes", req({ expirationSeconds: 60 }), "node-a", /out of range/],
  ])("refuses %s", async (_what, r, node, message) => {
    await expect(issuer(pod()).issue(node, r)).rejects.toThrow(message);
  });

  it("refuses a missing pod or service account", async () => {
    await expect(issuer(undefined).issue("node-a", req())).rejects.toThrow(/pods "p1" not found/);
    await expect(issuer(pod(), false).issue("node-a", req())).rejects.toThrow(
      /serviceaccounts "default" not found.*kubectl create serviceaccount/,
    );
  });

  it("answers on the requesting node's token topic, with the refusal's reason", async () => {
    let handler: ((node: string, env: Envelope, stream: string) => void) | undefined;
    const sent: { node: string; env: Envelope; stream: string }[] = [];
    const channel: TokenChannel = {
      send: async (node, env, stream) => {
        sent.push({ node, env, stream });
      },
      onEnvelope: (h) => {
        handler = h;
        return () => {};
      },
    };
    const it2 = new TokenIssuer({
      channel,
      tokens,
      getPod: async () => pod(),
      getServiceAccount: async () => ({ apiVersion: "v1", kind: "ServiceAccount", metadata: { uid: "u" } }),
      logger: silentLogger(),
    });
    await it2.start();
    handler?.("node-a", tokenRequestEnvelope("r1", req()), TOKEN_TOPIC);
    handler?.("node-b", tokenRequestEnvelope("r2", req()), TOKEN_TOPIC);
    handler?.("node-a", tokenRequestEnvelope("r3", req()), "sync"); // other streams are not ours
    await vi.waitFor(() => expect(sent).toHaveLength(2));
    const byId = new Map(sent.map((s) => [parseTokenResponse(s.env).id, s]));
    expect(byId.get("r1")?.node).toBe("node-a");
    expect(byId.get("r1")?.stream).toBe(TOKEN_TOPIC);
    expect(parseTokenResponse(byId.get("r1")!.env).response).toHaveProperty("token");
    expect(parseTokenResponse(byId.get("r2")!.env).response).toEqual({
      error: { code: 403, reason: "Forbidden", message: expect.stringContaining('node "node-b"') },
    });
    it2.stop();
  });
});
