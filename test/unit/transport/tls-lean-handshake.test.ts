/**
 * ClientCertVerifier's checks (what OpenSSL's verification did for the MQTT port before the
 * CA left its trust store) and SingleTicketIssuer's budget, with real certificates and no TLS.
 */
import { X509Certificate } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { createCA, issueCert } from "../../../src/lib/pki.js";
import {
  ClientCertVerifier,
  SingleTicketIssuer,
  subjectIdentity,
} from "../../../src/transport/tls-lean-handshake.js";

const DAY = 86_400_000;

describe("ClientCertVerifier", () => {
  it("accepts a CA-signed client certificate inside its validity window only", async () => {
    const ca = await createCA("test-ca");
    const now = Date.now();
    const node = await issueCert(ca, {
      commonName: "system:node:a",
      organizations: ["system:nodes"],
      usage: "client",
      days: 1,
      now: new Date(now),
    });
    const cert = new X509Certificate(node.certPem);
    expect(new ClientCertVerifier(ca.certPem, () => now).valid(cert)).toBe(true);
    expect(new ClientCertVerifier(ca.certPem, () => now + 2 * DAY).valid(cert)).toBe(false);
    expect(new ClientCertVerifier(ca.certPem, () => now - DAY).valid(cert)).toBe(false);
  });

  it("refuses another CA's certificate with the same subject, and a server-only certificate", async () => {
    const ca = await createCA("test-ca");
    const other = await createCA("test-ca");
    const subject = {
      commonName: "system:node:a",
      organizations: ["system:nodes"],
      usage: "client" as const,
    };
    const forged = new X509Certificate((await issueCert(other, subject)).certPem);
    const serving = new X509Certificate(
      (await issueCert(ca, { commonName: "hub", usage: "server" })).certPem,
    );
    const both = new X509Certificate((await issueCert(ca, { commonName: "x", usage: "both" })).certPem);
    const v = new ClientCertVerifier(ca.certPem);
    expect(v.valid(forged)).toBe(false);
    expect(v.valid(serving)).toBe(false);
    expect(v.valid(both)).toBe(true);
  });
});

describe("ClientCertVerifier's signature memory", () => {
  it("checks a certificate's signature once, but its validity window on every connection", async () => {
    const ca = await createCA("test-ca");
    let now = Date.now();
    const pem = (
      await issueCert(ca, { commonName: "system:node:m", usage: "client", days: 1, now: new Date(now) })
    ).certPem;
    const v = new ClientCertVerifier(ca.certPem, () => now);
    expect(v.valid(new X509Certificate(pem))).toBe(true);
    // another connection presents the same bytes: a new object, as getPeerX509Certificate gives
    const again = new X509Certificate(pem);
    const verify = vi.spyOn(again, "verify");
    expect(v.valid(again)).toBe(true);
    expect(verify).not.toHaveBeenCalled();
    now += 2 * DAY;
    expect(v.valid(new X509Certificate(pem))).toBe(false);
  });

  it("never remembers a certificate that failed, and stays within its bound", async () => {
    const ca = await createCA("test-ca");
    const other = await createCA("test-ca");
    const v = new ClientCertVerifier(ca.certPem, Date.now, 2);
    const forged = (await issueCert(other, { commonName: "system:node:f", usage: "client" })).certPem;
    expect(v.valid(new X509Certificate(forged))).toBe(false);
    expect(v.valid(new X509Certificate(forged))).toBe(false);
    expect(v.rememberedSignatures).toBe(0);
    for (const n of ["a", "b", "c"]) {
      const pem = (await issueCert(ca, { commonName: `system:node:${n}`, usage: "client" })).certPem;
      expect(v.valid(new X509Certificate(pem))).toBe(true);
    }
    expect(v.rememberedSignatures).toBe(2);
  });
});

describe("subjectIdentity", () => {
  it("reads CN and every O from X509Certificate.subject", () => {
    expect(subjectIdentity("CN=system:node:a\nO=system:nodes\nO=extra")).toEqual({
      commonName: "system:node:a",
      organizations: ["system:nodes", "extra"],
    });
    expect(subjectIdentity("O=only")).toEqual({ commonName: "", organizations: ["only"] });
  });
});

describe("SingleTicketIssuer", () => {
  const key = Buffer.alloc(48, 1);
  const name = key.subarray(0, 16);

  it("makes one ticket per granted handshake and none for a refused one", () => {
    const t = new SingleTicketIssuer(key);
    const iv = Buffer.alloc(16);
    t.grant(true);
    expect(t.ticketKey(name, iv, true)[0]).toBe(1);
    expect(t.ticketKey(name, iv, true)[0]).toBe(0);
    t.grant(false);
    expect(t.ticketKey(name, iv, true)[0]).toBe(0);
    expect(t.stats).toEqual({ issued: 1, skipped: 2 });
  });

  it("decrypts tickets of the current key only, and takes a rotated key", () => {
    const t = new SingleTicketIssuer(key);
    const iv = Buffer.alloc(16);
    expect(t.ticketKey(name, iv, false)[0]).toBe(1);
    t.setKey(Buffer.alloc(48, 2));
    expect(t.ticketKey(name, iv, false)[0]).toBe(0);
    expect(() => t.setKey(Buffer.alloc(32))).toThrow(/48 bytes/);
  });
});
