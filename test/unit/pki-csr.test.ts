import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  CsrError,
  certIdentity,
  createCA,
  createCSR,
  readCSR,
  signCSR,
  signVerifiedCSR,
  verifyCSR,
} from "../../src/lib/pki.js";

describe("pki: certificate requests", () => {
  it("signs a request verified once (the join path), with the CA it is given each time", async () => {
    const [caA, caB] = [await createCA("ca-a"), await createCA("ca-b")];
    const { csrPem, keyPem } = await createCSR("system:node:pi-2", ["system:nodes"]);
    const verified = await verifyCSR(csrPem);
    expect(verified).toMatchObject({ commonName: "system:node:pi-2", organizations: ["system:nodes"] });
    // the CA is parsed once per KeyPairPem object: alternating CAs must not mix them up
    for (const ca of [caA, caB, caA, caB]) {
      const cert = new X509Certificate(await signVerifiedCSR(ca, verified, { usage: "client" }));
      expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
      expect(cert.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
      const pub = createPublicKey(createPrivateKey(keyPem)).export({ format: "der", type: "spki" });
      expect(cert.publicKey.export({ format: "der", type: "spki" }).equals(pub)).toBe(true);
    }
  });

  it("signs a CSR for the requester's own key, keeping its subject, chained to the CA", async () => {
    const ca = await createCA("edgekube-ca");
    const { csrPem, keyPem } = await createCSR("system:node:pi-1", ["system:nodes"]);
    expect(csrPem).toContain("BEGIN CERTIFICATE REQUEST");
    expect(await readCSR(csrPem)).toEqual({
      commonName: "system:node:pi-1",
      organizations: ["system:nodes"],
    });
    const certPem = await signCSR(ca, csrPem, { usage: "client", days: 365 });
    const cert = new X509Certificate(certPem);
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(certIdentity(certPem)).toEqual({
      commonName: "system:node:pi-1",
      organizations: ["system:nodes"],
    });
    // the certificate carries the public half of the key the device kept
    const pub = createPublicKey(createPrivateKey(keyPem)).export({ format: "der", type: "spki" });
    expect(cert.publicKey.export({ format: "der", type: "spki" }).equals(pub)).toBe(true);
    expect(cert.keyUsage).toContain("1.3.6.1.5.5.7.3.2"); // clientAuth
    expect(cert.keyUsage).not.toContain("1.3.6.1.5.5.7.3.1"); // not serverAuth
    const days = (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(364);
    expect(days).toBeLessThan(366);
  });

  it("refuses a CSR whose signature was tampered with, and text that is no CSR", async () => {
    const ca = await createCA("edgekube-ca");
    const { csrPem } = await createCSR("system:node:a", ["system:nodes"]);
    const body = csrPem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
    const der = Buffer.from(body, "base64");
    const last = der.length - 1;
    der[last] = (der[last] ?? 0) ^ 0x01; // flip one bit of the signature
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
    await expect(signCSR(ca, tampered, { usage: "client" })).rejects.toBeInstanceOf(CsrError);
    await expect(signCSR(ca, "hello", { usage: "client" })).rejects.toThrow(/not a PEM PKCS#10 request/);
  });
});
