/**
 * A WebCrypto `Crypto` for @peculiar/x509 whose ECDSA sign/verify and digests run synchronously
 * on the calling (main) thread through node:crypto, instead of as async jobs on libuv's
 * threadpool. Everything else (key generation, import/export) is Node's own WebCrypto.
 *
 * Design notes
 * - Why (issue 4, hub RSS at 5,000 nodes): Node runs WebCrypto's sign, verify and digest as
 *   threadpool jobs. Each of the four pool threads that mallocs gets its own glibc arena (a 64 MiB
 *   reservation), and what OpenSSL frees there stays resident: a join storm verifies a CSR,
 *   hashes the CA key and signs a certificate per node on those threads, and the hub kept
 *   ≈5–12 MB of arena memory per 1,000 joins (bench/hub-memory "nodes" vs "restarted",
 *   `kernel.mallocArenasMB`) that a restarted hub serving the same fleet does not have.
 *   On the main thread the same allocations reuse the main arena's free lists.
 * - The work is tiny (one P-256 signature ≈ 50 µs, a verify ≈ 100 µs), so running it inline
 *   does not stall the event loop in any way a join would notice; the async API is kept (the
 *   promise is already settled) so callers do not change.
 * - Signatures are in WebCrypto's IEEE P1363 form (r‖s), as x509 expects, not DER.
 * - Algorithms other than ECDSA and SHA-1/256/384/512 fall through to Node's WebCrypto.
 */
import { createHash, KeyObject, sign, verify, webcrypto } from "node:crypto";

type Subtle = webcrypto.SubtleCrypto;
type Algo = Parameters<Subtle["sign"]>[0];
type HashAlgo = Parameters<Subtle["digest"]>[0];
type Bytes = Parameters<Subtle["digest"]>[1];

const HASHES: Record<string, string> = {
  "SHA-1": "sha1",
  "SHA-256": "sha256",
  "SHA-384": "sha384",
  "SHA-512": "sha512",
};

function algoName(a: string | { name: string }): string {
  return (typeof a === "string" ? a : a.name).toUpperCase();
}

/** node:crypto's name for a WebCrypto hash ("SHA-256" or { name: "SHA-256" }), if we map it */
function nodeHash(a: unknown): string | undefined {
  if (typeof a === "string") return HASHES[a.toUpperCase()];
  if (a && typeof a === "object" && "name" in a && typeof a.name === "string") {
    return HASHES[a.name.toUpperCase()];
  }
  return undefined;
}

/** the ECDSA hash of a sign/verify algorithm, when we handle it synchronously */
function ecdsaHash(algorithm: Algo): string | undefined {
  if (typeof algorithm === "string" || algoName(algorithm) !== "ECDSA") return undefined;
  return "hash" in algorithm ? nodeHash(algorithm.hash) : undefined;
}

function view(data: Bytes): Buffer {
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

function toArrayBuffer(b: Buffer): ArrayBuffer {
  const out = new ArrayBuffer(b.byteLength);
  new Uint8Array(out).set(b);
  return out;
}

function settle<T>(f: () => T): Promise<T> {
  try {
    return Promise.resolve(f());
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Node's SubtleCrypto with ECDSA sign/verify and digests done synchronously (see notes). */
export function syncSubtle(base: Subtle = webcrypto.subtle): Subtle {
  // Node's SubtleCrypto methods refuse any `this` but the original: bind every one of them
  const sub: Record<string, unknown> = {};
  const proto = Object.getPrototypeOf(base) as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(proto)) {
    const m = (base as unknown as Record<string, unknown>)[name];
    if (name !== "constructor" && typeof m === "function") sub[name] = m.bind(base);
  }
  const baseSign = base.sign.bind(base);
  const baseVerify = base.verify.bind(base);
  const baseDigest = base.digest.bind(base);
  sub.sign = (algorithm: Algo, key: webcrypto.CryptoKey, data: Bytes): Promise<ArrayBuffer> => {
    const hash = ecdsaHash(algorithm);
    if (!hash || key.type !== "private") return baseSign(algorithm, key, data);
    return settle(() =>
      toArrayBuffer(sign(hash, view(data), { key: KeyObject.from(key), dsaEncoding: "ieee-p1363" })),
    );
  };
  sub.verify = (
    algorithm: Algo,
    key: webcrypto.CryptoKey,
    signature: Bytes,
    data: Bytes,
  ): Promise<boolean> => {
    const hash = ecdsaHash(algorithm);
    if (!hash || key.type !== "public") return baseVerify(algorithm, key, signature, data);
    return settle(() =>
      verify(hash, view(data), { key: KeyObject.from(key), dsaEncoding: "ieee-p1363" }, view(signature)),
    );
  };
  sub.digest = (algorithm: HashAlgo, data: Bytes): Promise<ArrayBuffer> => {
    const hash = nodeHash(algorithm);
    if (!hash) return baseDigest(algorithm, data);
    return settle(() => toArrayBuffer(createHash(hash).update(view(data)).digest()));
  };
  return sub as unknown as Subtle;
}

/** A `Crypto` (as @peculiar/x509's cryptoProvider takes) built on syncSubtle. */
export function syncCrypto(): webcrypto.Crypto {
  return {
    subtle: syncSubtle(webcrypto.subtle),
    getRandomValues: webcrypto.getRandomValues.bind(webcrypto),
    randomUUID: () => webcrypto.randomUUID(),
  } as webcrypto.Crypto;
}
