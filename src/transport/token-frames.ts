/**
 * Service account token messages of the edge link: how an agent obtains the bound tokens it
 * projects into `serviceAccountToken` volumes without speaking HTTP to the hub.
 *
 * Design notes
 * - Request/response, as kubelet's token manager calls TokenRequest and KubeEdge's edged asks
 *   the cloud through its message channel: the agent asks for a token when a pod needs one (or
 *   at 80% of the old one's lifetime); the hub checks the pod is bound to that node and answers.
 *   Tokens are not part of the desired set: that set is ordered by store revisions and acked by
 *   watermark, and a token refreshed on a timer has no store revision (it must never be written
 *   to the store, nor to the SD card of the hub).
 * - The messages ride the reserved `stream-*` envelope family on their own topic level
 *   (`.../up/token`, `.../down/token`), so the sync engine never sees them and the per-node
 *   ACL already confines them to the node's own topics. `streamId` carries the request id.
 * - The token is a credential: never log a response body; parse errors name fields, not values.
 */
import { isObject } from "../api/object.js";
import { type Envelope, EnvelopeError, envelope } from "./envelope.js";

/** topic level (`ek/v1/node/<node>/{up,down}/token`) */
export const TOKEN_TOPIC = "token";
export const TOKEN_REQUEST_FRAME = "stream-token-request";
export const TOKEN_RESPONSE_FRAME = "stream-token";

export interface TokenRequest {
  namespace: string;
  pod: string;
  podUID: string;
  serviceAccount: string;
  /** "" = the API server's own audience */
  audience: string;
  expirationSeconds: number;
}

export type TokenResponse =
  | { token: string; expirationTimestamp: string }
  | { error: { code: number; reason: string; message: string } };

function fail(what: string): never {
  throw new EnvelopeError(`invalid token message: ${what}`);
}

function str(o: Record<string, unknown>, field: string, allowEmpty = false): string {
  const v = o[field];
  if (typeof v !== "string" || (!allowEmpty && v.length === 0) || v.length > 1024) {
    fail(`${field} must be a ${allowEmpty ? "" : "non-empty "}string`);
  }
  return v;
}

export function tokenRequestEnvelope(id: string, req: TokenRequest): Envelope {
  return envelope({ type: TOKEN_REQUEST_FRAME, streamId: id, data: req });
}

export function tokenResponseEnvelope(id: string, res: TokenResponse): Envelope {
  return envelope({ type: TOKEN_RESPONSE_FRAME, streamId: id, data: res });
}

/** Validates a request from the network (the hub's side). */
export function parseTokenRequest(env: Envelope): { id: string; request: TokenRequest } {
  const e = env as { streamId?: unknown; data?: unknown };
  if (typeof e.streamId !== "string" || e.streamId.length === 0) fail("streamId must be the request id");
  const d = e.data;
  if (!isObject(d)) fail("data must be an object");
  const exp = d.expirationSeconds;
  if (typeof exp !== "number" || !Number.isSafeInteger(exp) || exp <= 0) {
    fail("expirationSeconds must be a positive integer");
  }
  return {
    id: e.streamId,
    request: {
      namespace: str(d, "namespace"),
      pod: str(d, "pod"),
      podUID: str(d, "podUID"),
      serviceAccount: str(d, "serviceAccount"),
      audience: str(d, "audience", true),
      expirationSeconds: exp,
    },
  };
}

/** Validates a response from the hub (the agent's side). */
export function parseTokenResponse(env: Envelope): { id: string; response: TokenResponse } {
  const e = env as { streamId?: unknown; data?: unknown };
  if (typeof e.streamId !== "string" || e.streamId.length === 0) fail("streamId must be the request id");
  const d = e.data;
  if (!isObject(d)) fail("data must be an object");
  if (isObject(d.error)) {
    const err = d.error;
    const code = typeof err.code === "number" ? err.code : 500;
    return {
      id: e.streamId,
      response: { error: { code, reason: str(err, "reason"), message: str(err, "message") } },
    };
  }
  const token = str(d, "token");
  const exp = str(d, "expirationTimestamp");
  if (Number.isNaN(Date.parse(exp))) fail("expirationTimestamp must be an RFC 3339 time");
  return { id: e.streamId, response: { token, expirationTimestamp: exp } };
}
