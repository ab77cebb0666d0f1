/**
 * Join tokens: `K10<sha256 of the CA cert DER, 64 hex>::<id>.<secret>`, id = 6 and secret = 16
 * characters of [a-z0-9] (upstream's bootstrap token format, with k3s' CA pin in front).
 *
 * Design notes
 * - The CA pin lets a device that knows nothing but the token trust the hub: it downloads the CA
 *   over unverified TLS, hashes it, and refuses anything that does not match (a token for another
 *   hub, or a man in the middle). Only then does it send the secret half.
 * - Shared by both roles (the hub's `token create` and the agent's `join`), so it lives in lib.
 */
import { randomInt } from "node:crypto";

export const TOKEN_ID_RE = /^[a-z0-9]{6}$/;
export const TOKEN_SECRET_RE = /^[a-z0-9]{16}$/;
const JOIN_TOKEN_RE = /^K10([0-9a-f]{64})::([a-z0-9]{6})\.([a-z0-9]{16})$/;
const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

export interface JoinToken {
  /** lower-case hex sha256 of the CA certificate's DER bytes */
  caHash: string;
  id: string;
  secret: string;
}

export class JoinTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JoinTokenError";
  }
}

function randomChars(n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

/** A fresh random id and secret (crypto-strength). */
export function generateTokenParts(): { id: string; secret: string } {
  return { id: randomChars(6), secret: randomChars(16) };
}

/** `caHash` may be "sha256:<hex>" (what pki.caHash returns) or bare hex. */
export function formatJoinToken(caHash: string, id: string, secret: string): string {
  const hex = caHash.replace(/^sha256:/, "");
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new JoinTokenError(`"${caHash}" is not a sha256 hex digest`);
  if (!TOKEN_ID_RE.test(id) || !TOKEN_SECRET_RE.test(secret)) {
    throw new JoinTokenError("a token id is 6 and a token secret 16 characters of a-z and 0-9");
  }
  return `K10${hex}::${id}.${secret}`;
}

export function parseJoinToken(token: string): JoinToken {
  const m = JOIN_TOKEN_RE.exec(token.trim());
  if (!m) {
    throw new JoinTokenError(
      'the join token is malformed (expected K10<64 hex>::<6 chars>.<16 chars>): copy it again from "edge-hub token create"',
    );
  }
  return { caHash: m[1]!, id: m[2]!, secret: m[3]! };
}

/** "<id>.<secret>" from a bearer credential, undefined when it has another shape. */
export function parseBearerToken(value: string): { id: string; secret: string } | undefined {
  const m = /^([a-z0-9]{6})\.([a-z0-9]{16})$/.exec(value.trim());
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

/** `sha256:<64 hex>` (as `edge-hub token ca-hash` prints it) → lower-case hex. */
export function parseCaHash(text: string): string {
  const m = /^sha256:([0-9a-fA-F]{64})$/.exec(text.trim());
  if (!m) {
    throw new JoinTokenError(
      `--ca-hash "${text}" is not "sha256:<64 hex digits>": copy it from "edge-hub token ca-hash" on the hub`,
    );
  }
  return m[1]!.toLowerCase();
}
