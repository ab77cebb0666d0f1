/**
 * Bootstrap-token Secrets: where join tokens live on the hub, in upstream's format, so the same
 * objects work with kubectl and look like kubeadm's:
 *   kube-system/bootstrap-token-<id>, type bootstrap.kubernetes.io/token,
 *   data: token-id, token-secret, expiration (RFC3339, optional), description,
 *         usage-bootstrap-authentication: "true"
 *
 * Design notes
 * - Pure functions: building the Secret (for `edge-hub token create`) and judging a presented
 *   secret against a stored one (for the join handler). I/O stays with the callers.
 * - The secret half is compared in constant time. A token whose expiration has passed is refused
 *   exactly like a wrong one (the caller may then delete it): the response never says which
 *   tokens exist.
 */
import { timingSafeEqual } from "node:crypto";
import type { KubeObject } from "../../api/object.js";
import { metaTime } from "../../api/time.js";

export const BOOTSTRAP_TOKEN_TYPE = "bootstrap.kubernetes.io/token";
export const BOOTSTRAP_NAMESPACE = "kube-system";
export const BOOTSTRAP_PREFIX = "bootstrap-token-";

export interface BootstrapToken {
  id: string;
  secret: string;
  expiration?: Date;
  description?: string;
}

export function bootstrapSecretName(id: string): string {
  return `${BOOTSTRAP_PREFIX}${id}`;
}

function b64(s: string): string {
  return Buffer.from(s, "utf8").toString("base64");
}

function unb64(v: unknown): string | undefined {
  return typeof v === "string" ? Buffer.from(v, "base64").toString("utf8") : undefined;
}

export function bootstrapTokenSecret(t: BootstrapToken): KubeObject {
  const data: Record<string, string> = {
    "token-id": b64(t.id),
    "token-secret": b64(t.secret),
    "usage-bootstrap-authentication": b64("true"),
  };
  if (t.expiration) data.expiration = b64(metaTime(t.expiration));
  if (t.description) data.description = b64(t.description);
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: bootstrapSecretName(t.id), namespace: BOOTSTRAP_NAMESPACE },
    type: BOOTSTRAP_TOKEN_TYPE,
    data,
  };
}

/** The token a Secret holds, or undefined when the Secret is not a well-formed bootstrap token. */
export function readBootstrapSecret(s: KubeObject): BootstrapToken | undefined {
  if (s.type !== BOOTSTRAP_TOKEN_TYPE) return undefined;
  const data = (s.data ?? {}) as Record<string, unknown>;
  const id = unb64(data["token-id"]);
  const secret = unb64(data["token-secret"]);
  if (!id || !secret || s.metadata.name !== bootstrapSecretName(id)) return undefined;
  const exp = unb64(data.expiration);
  const expiration = exp ? new Date(exp) : undefined;
  const description = unb64(data.description);
  return {
    id,
    secret,
    ...(expiration ? { expiration } : {}),
    ...(description ? { description } : {}),
  };
}

export type TokenVerdict = "ok" | "invalid" | "expired";

/** Judges a presented secret against the stored token Secret (undefined = no such token). */
export function checkBootstrapToken(
  stored: KubeObject | undefined,
  presentedSecret: string,
  now: Date,
): TokenVerdict {
  const t = stored ? readBootstrapSecret(stored) : undefined;
  if (!t || !stored) return "invalid";
  const data = (stored.data ?? {}) as Record<string, unknown>;
  if (unb64(data["usage-bootstrap-authentication"]) !== "true") return "invalid";
  const want = Buffer.from(t.secret);
  const got = Buffer.from(presentedSecret);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return "invalid";
  if (t.expiration && (Number.isNaN(t.expiration.getTime()) || t.expiration.getTime() <= now.getTime())) {
    return "expired";
  }
  return "ok";
}
