/**
 * CertIdentityCache: a certificate is parsed once per fingerprint, but the TLS verification
 * result and the expiry are checked on every connection (a resumed session is not re-verified).
 */
import type { TLSSocket } from "node:tls";
import { describe, expect, it } from "vitest";
import { CertIdentityCache } from "../../../src/transport/broker-auth.js";

const DAY = 86_400_000;

function socket(
  fingerprint: string | undefined,
  validTo: number,
  authorized = true,
  cn = "system:node:edge-1",
) {
  const parses = { n: 0 };
  const s = {
    authorized,
    getPeerX509Certificate: () => (fingerprint === undefined ? undefined : { fingerprint256: fingerprint }),
    getPeerCertificate: () => {
      parses.n++;
      return { subject: { CN: cn, O: ["system:nodes", "edge"] }, valid_to: new Date(validTo).toUTCString() };
    },
  } as unknown as TLSSocket;
  return { s, parses };
}

describe("CertIdentityCache", () => {
  it("parses a certificate once and answers its identity from the cache after", () => {
    const cache = new CertIdentityCache();
    const a = socket("AA", Date.now() + DAY);
    const b = socket("AA", Date.now() + DAY);
    const id = { commonName: "system:node:edge-1", organizations: ["system:nodes", "edge"] };
    expect(cache.of(a.s)).toEqual(id);
    expect(cache.of(b.s)).toEqual(id);
    expect(a.parses.n + b.parses.n).toBe(1);
  });

  it("keeps certificates apart by fingerprint", () => {
    const cache = new CertIdentityCache();
    cache.of(socket("AA", Date.now() + DAY).s);
    const other = socket("BB", Date.now() + DAY, true, "system:node:edge-2");
    expect(cache.of(other.s)).toMatchObject({ commonName: "system:node:edge-2" });
    expect(other.parses.n).toBe(1);
  });

  it("answers undefined without a client certificate", () => {
    expect(new CertIdentityCache().of(socket(undefined, 0).s)).toBeUndefined();
  });

  it("refuses a cached certificate once it expired (a resumed session skips verification)", () => {
    let now = 1_000_000;
    const cache = new CertIdentityCache(10, () => now);
    const validTo = now + 60_000;
    expect(cache.of(socket("AA", validTo).s)).not.toBe("invalid");
    now = validTo + 1000;
    expect(cache.of(socket("AA", validTo).s)).toBe("invalid");
  });

  it("refuses a connection whose verification failed even when its certificate is cached", () => {
    const cache = new CertIdentityCache();
    cache.of(socket("AA", Date.now() + DAY).s);
    expect(cache.of(socket("AA", Date.now() + DAY, false).s)).toBe("invalid");
  });

  it("holds at most `max` certificates, dropping the oldest", () => {
    const cache = new CertIdentityCache(2);
    for (const f of ["A", "B", "C"]) cache.of(socket(f, Date.now() + DAY).s);
    expect(cache.size).toBe(2);
    const first = socket("A", Date.now() + DAY);
    cache.of(first.s);
    expect(first.parses.n).toBe(1);
    const third = socket("C", Date.now() + DAY);
    cache.of(third.s);
    expect(third.parses.n).toBe(0);
  });
});
