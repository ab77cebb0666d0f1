/**
 * The two HTTPS calls of a join: `GET /cacerts` (unauthenticated, TLS not verified: we do not
 * know the CA yet) and `POST /edgekube/v1/join` (TLS verified against the CA whose hash the
 * token pinned, authenticated with the token's id.secret).
 *
 * Design notes
 * - Trust on first use, but pinned: the CA text from /cacerts is trusted only after its sha256
 *   matches the token, so skipping verification on the first call gives an attacker nothing.
 *   Unpinned trust (`--insecure-trust-first-ca`, for a short preset token) is the caller's
 *   explicit choice: fetchCA returns the hash for it to show.
 * - The local address of the /cacerts connection is the address this device uses to reach the
 *   hub: the natural default for the node's InternalIP (k3s picks the default-route interface).
 * - Every failure names the hub URL and says what to do; bodies and tokens are never logged.
 */
import type { IncomingMessage } from "node:http";
import { request } from "node:https";
import { CACERTS_PATH, JOIN_PATH, type JoinRequest, type JoinResponse } from "../../api/join.js";
import { isObject } from "../../api/object.js";
import { caHash } from "../../lib/ca-hash.js";

export type { JoinRequest, JoinResponse };

export class JoinError extends Error {
  constructor(
    message: string,
    readonly httpStatus?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "JoinError";
  }
}

export class CAMismatchError extends JoinError {
  constructor(hub: string, got: string, want: string) {
    super(
      `the hub at ${hub} presented CA ${got}, but the join token expects ${want}: the token is for another hub (or a man in the middle); get a token from this hub with "edge-hub token create"`,
    );
    this.name = "CAMismatchError";
  }
}

interface Reply {
  status: number;
  body: string;
  localAddress: string;
}

function call(
  url: URL,
  opts: { method: string; ca?: string; headers?: Record<string, string>; body?: string; timeoutMs: number },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: opts.method,
        headers: opts.headers,
        timeout: opts.timeoutMs,
        // /cacerts is fetched unverified on purpose; the caller checks the pinned hash
        ...(opts.ca ? { ca: opts.ca, rejectUnauthorized: true } : { rejectUnauthorized: false }),
      },
      (res: IncomingMessage) => {
        // read now: once the body ended the socket may already be detached
        const localAddress = res.socket?.localAddress ?? "";
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8"),
            localAddress,
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
    req.on("error", reject);
    req.end(opts.body);
  });
}

function unreachable(hub: string, err: unknown): JoinError {
  const e = err as NodeJS.ErrnoException;
  if (e.code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return new JoinError(
      `the hub at ${hub} has no certificate for this address (${e.message}): join with an address the hub serves, or add it on the hub with "edge-hub server --tls-san ADDRESS"`,
      undefined,
      { cause: err },
    );
  }
  return new JoinError(
    `cannot reach the hub at ${hub} (${e.code ?? e.message}): check the address and port, that "edge-hub server" is running, and that no firewall blocks it`,
    undefined,
    { cause: err },
  );
}

/**
 * Fetches the hub's CA without verifying TLS. The caller must check `hash` against a pin, or
 * (trust on first use, only on the operator's explicit request) show it to the operator.
 */
export async function fetchCA(
  hub: URL,
  timeoutMs = 15_000,
): Promise<{ caPem: string; hash: string; localAddress: string }> {
  let reply: Reply;
  try {
    reply = await call(new URL(CACERTS_PATH, hub), { method: "GET", timeoutMs });
  } catch (err) {
    throw unreachable(hub.origin, err);
  }
  if (reply.status !== 200 || !reply.body.includes("-----BEGIN CERTIFICATE-----")) {
    throw new JoinError(
      `the hub at ${hub.origin} answered GET /cacerts with HTTP ${reply.status} and no CA certificate: is this an edgekube hub of the same version?`,
      reply.status,
    );
  }
  let hash: string;
  try {
    hash = caHash(reply.body);
  } catch (err) {
    throw new JoinError(`the CA from ${hub.origin}/cacerts cannot be parsed: is this an edgekube hub?`, 200, {
      cause: err,
    });
  }
  return { caPem: reply.body, hash, localAddress: reply.localAddress };
}

/** Fetches the hub's CA without verifying TLS and checks it against the token's pin. */
export async function fetchPinnedCA(
  hub: URL,
  wantHash: string,
  timeoutMs = 15_000,
): Promise<{ caPem: string; localAddress: string }> {
  const { caPem, hash, localAddress } = await fetchCA(hub, timeoutMs);
  if (hash !== wantHash) throw new CAMismatchError(hub.origin, hash, wantHash);
  return { caPem, localAddress };
}

/** POSTs the join request over TLS verified against `caPem`. */
export async function requestJoin(
  hub: URL,
  caPem: string,
  bearer: string,
  body: JoinRequest,
  timeoutMs = 30_000,
): Promise<JoinResponse> {
  let reply: Reply;
  try {
    reply = await call(new URL(JOIN_PATH, hub), {
      method: "POST",
      ca: caPem,
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        authorization: `Bearer ${bearer}`,
      },
      body: JSON.stringify(body),
      timeoutMs,
    });
  } catch (err) {
    throw unreachable(hub.origin, err);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(reply.body);
  } catch {
    parsed = undefined;
  }
  if (reply.status !== 200) {
    const msg =
      isObject(parsed) && typeof parsed.message === "string" ? parsed.message : reply.body.slice(0, 200);
    const hint = refusalHint(reply.status, msg, body.csr === undefined ? "password" : "certificate");
    throw new JoinError(
      `the hub at ${hub.origin} refused the join (HTTP ${reply.status}): ${msg}${hint}`,
      reply.status,
    );
  }
  return checkJoinResponse(hub.origin, parsed, body.csr ? "certificate" : "password");
}

/**
 * What to do about a refused join, appended to the hub's message. A hub from before per-node
 * passwords requires a CSR: it answers a password request with 422 naming the `csr` field.
 */
export function refusalHint(status: number, message: string, asked: "password" | "certificate"): string {
  if (status === 401) return `; create a new token on the hub with "edge-hub token create"`;
  if (status === 404) return "; the hub does not offer joins: upgrade the hub";
  if (status === 422 && asked === "password" && /\bcsr\b/.test(message)) {
    return "; this hub predates per-node passwords: join with --client-cert, or upgrade the hub";
  }
  return "";
}

function checkJoinResponse(hub: string, v: unknown, wanted: "password" | "certificate"): JoinResponse {
  const bad = (field: string) =>
    new JoinError(
      `the join answer from ${hub} has no valid "${field}": the hub and agent versions disagree; upgrade the older one`,
      200,
    );
  if (!isObject(v)) throw bad("body");
  const str = (field: string): string => {
    const x = v[field];
    if (typeof x !== "string" || x === "") throw bad(field);
    return x;
  };
  const mqtt = v.mqtt;
  if (!isObject(mqtt) || typeof mqtt.url !== "string" || typeof mqtt.wsUrl !== "string") throw bad("mqtt");
  // exactly one credential, the one asked for (a CSR in the request asks for a certificate)
  const credential =
    wanted === "certificate" ? { clientCert: str("clientCert") } : { password: str("password") };
  const out: JoinResponse = {
    nodeName: str("nodeName"),
    ...credential,
    ca: str("ca"),
    mqtt: { url: mqtt.url, wsUrl: mqtt.wsUrl },
    clusterCIDR: str("clusterCIDR"),
    serviceCIDR: str("serviceCIDR"),
    clusterDNS: str("clusterDNS"),
    clusterDomain: str("clusterDomain"),
  };
  if (typeof v.podCIDR === "string" && v.podCIDR !== "") out.podCIDR = v.podCIDR;
  return out;
}
