import { createHash, webcrypto } from "node:crypto";
import { describe, expect, it } from "vitest";
import { syncCrypto, syncSubtle } from "../../../src/lib/sync-subtle.js";

const ECDSA = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;
const data = new TextEncoder().encode("tbsCertificate bytes");

async function p256(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ECDSA, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
}

/** a SubtleCrypto stand-in that records which methods reached it */
class RecordingSubtle {
  calls: string[] = [];
  sign(): Promise<ArrayBuffer> {
    this.calls.push("sign");
    return Promise.resolve(new ArrayBuffer(1));
  }
  verify(): Promise<boolean> {
    this.calls.push("verify");
    return Promise.resolve(false);
  }
  digest(): Promise<ArrayBuffer> {
    this.calls.push("digest");
    return Promise.resolve(new ArrayBuffer(1));
  }
  importKey(): Promise<string> {
    this.calls.push("importKey");
    return Promise.resolve("imported");
  }
}

describe("syncSubtle: ECDSA and digests on the calling thread", () => {
  it("makes P1363 signatures that Node's WebCrypto verifies, and verifies WebCrypto's", async () => {
    const keys = await p256();
    const subtle = syncSubtle();
    const mine = await subtle.sign(SIGN, keys.privateKey, data);
    expect(mine.byteLength).toBe(64); // r‖s, not DER
    expect(await webcrypto.subtle.verify(SIGN, keys.publicKey, mine, data)).toBe(true);
    const theirs = await webcrypto.subtle.sign(SIGN, keys.privateKey, data);
    expect(await subtle.verify(SIGN, keys.publicKey, theirs, data)).toBe(true);
    // a different message or another key does not verify
    expect(await subtle.verify(SIGN, keys.publicKey, theirs, new TextEncoder().encode("x"))).toBe(false);
    expect(await subtle.verify(SIGN, (await p256()).publicKey, mine, data)).toBe(false);
  });

  it("accepts the hash as an object and data as a view into a larger buffer", async () => {
    const keys = await p256();
    const subtle = syncSubtle();
    const big = new Uint8Array(100);
    big.set(data, 10);
    const slice = big.subarray(10, 10 + data.length);
    const sig = await subtle.sign({ name: "ECDSA", hash: { name: "SHA-256" } }, keys.privateKey, slice);
    expect(await webcrypto.subtle.verify(SIGN, keys.publicKey, sig, data)).toBe(true);
  });

  it("digests like node:crypto", async () => {
    const subtle = syncSubtle();
    for (const [web, node] of [
      ["SHA-1", "sha1"],
      ["SHA-256", "sha256"],
      ["SHA-512", "sha512"],
    ] as const) {
      const got = Buffer.from(await subtle.digest(web, data));
      expect(got.equals(createHash(node).update(data).digest())).toBe(true);
    }
  });

  it("does its ECDSA and digest work itself and hands everything else to the base", async () => {
    const keys = await p256();
    const base = new RecordingSubtle();
    const subtle = syncSubtle(base as unknown as webcrypto.SubtleCrypto);
    await subtle.sign(SIGN, keys.privateKey, data);
    await subtle.verify(SIGN, keys.publicKey, new Uint8Array(64), data);
    await subtle.digest("SHA-256", data);
    expect(base.calls).toEqual([]);
    await subtle.sign({ name: "HMAC" }, keys.privateKey, data);
    await subtle.digest("SHA-3-256" as "SHA-256", data);
    expect(await subtle.importKey("raw", data, { name: "HMAC" }, false, [])).toBe("imported");
    expect(base.calls).toEqual(["sign", "digest", "importKey"]);
  });

  it("answers a malformed signature with false and a public signing key with a rejection", async () => {
    const keys = await p256();
    const subtle = syncSubtle();
    const bad = subtle.verify(SIGN, keys.publicKey, new Uint8Array(3), data);
    await expect(bad).resolves.toBe(false);
    const withPublicKey = subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.publicKey, data);
    await expect(withPublicKey).rejects.toThrow();
  });

  it("syncCrypto keeps Node's key generation and randomness", async () => {
    const c = syncCrypto();
    const k = (await c.subtle.generateKey(ECDSA, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
    const sig = await c.subtle.sign(SIGN, k.privateKey, data);
    expect(await webcrypto.subtle.verify(SIGN, k.publicKey, sig, data)).toBe(true);
    const a = c.getRandomValues(new Uint8Array(16));
    expect(a.some((b) => b !== 0)).toBe(true);
  });
});
