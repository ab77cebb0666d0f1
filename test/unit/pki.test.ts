import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { caHash, certIdentity, createCA, issueCert } from "../../src/lib/pki.js";

describe("pki", () => {
  it("issues server certs that chain to the CA with the requested SANs", async () => {
    const ca = await createCA("edgekube-ca");
    const srv = await issueCert(ca, {
      commonName: "edgekube-hub",
      dnsNames: ["localhost", "kubernetes.default.svc"],
      ipAddresses: ["127.0.0.1"],
      usage: "server",
    });
    const caCert = new X509Certificate(ca.certPem);
    const cert = new X509Certificate(srv.certPem);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkHost("kubernetes.default.svc")).toBe("kubernetes.default.svc");
    expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(cert.checkHost("example.org")).toBeUndefined();
    expect(caCert.ca).toBe(true);
    expect(cert.ca).toBe(false);
  });

  it("puts user and groups in the client cert subject, escaping DN syntax", async () => {
    const ca = await createCA("edgekube-ca");
    const c = await issueCert(ca, {
      commonName: "system:node:pi,1",
      organizations: ["system:nodes"],
      usage: "client",
    });
    expect(certIdentity(c.certPem)).toEqual({
      commonName: "system:node:pi,1",
      organizations: ["system:nodes"],
    });
  });

  it("pins the CA with a stable sha256 that differs between CAs", async () => {
    const a = await createCA("a");
    const b = await createCA("a");
    expect(caHash(a.certPem)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(caHash(a.certPem)).toBe(caHash(a.certPem));
    expect(caHash(a.certPem)).not.toBe(caHash(b.certPem));
  });
});
