/**
 * The CA pin of join tokens (sha256 over the CA certificate's DER bytes, as kubeadm and k3s
 * pin it), apart from src/lib/pki.ts so that computing it does not load @peculiar/x509: an
 * agent that runs (not joins) checks the pin at every start, and x509 with its ASN.1 schemas
 * costs ≈13 MiB of RSS it would otherwise never need (issue 5).
 */
import { createHash } from "node:crypto";

const PEM_CERT = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/;

/** `sha256:<hex>` of the first certificate in a PEM text. */
export function caHash(caCertPem: string): string {
  const b64 = PEM_CERT.exec(caCertPem)?.[1]?.replace(/\s+/g, "");
  if (!b64) throw new Error("no PEM certificate found");
  return `sha256:${createHash("sha256").update(Buffer.from(b64, "base64")).digest("hex")}`;
}
