import { createHash, X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { caHash } from "../../../src/lib/ca-hash.js";
import { createCA } from "../../../src/lib/pki.js";

describe("caHash", () => {
  it("is sha256 over the certificate's DER bytes, with or without surrounding text", async () => {
    const ca = await createCA("edgekube-ca");
    const der = new X509Certificate(ca.certPem).raw;
    const want = `sha256:${createHash("sha256").update(der).digest("hex")}`;
    expect(caHash(ca.certPem)).toBe(want);
    expect(caHash(`subject=CN=edgekube-ca\r\n${ca.certPem.replace(/\n/g, "\r\n")}\n`)).toBe(want);
  });

  it("pins the first certificate of a bundle", async () => {
    const [a, b] = [await createCA("a"), await createCA("b")];
    expect(caHash(a.certPem + b.certPem)).toBe(caHash(a.certPem));
    expect(caHash(a.certPem)).not.toBe(caHash(b.certPem));
  });

  it("refuses text without a certificate", () => {
    expect(() => caHash("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")).toThrow(
      /no PEM certificate found/,
    );
  });
});
