/**
 * peerIdentity on resumed TLS sessions: OpenSSL does not re-verify the certificate a session
 * ticket carries, so an expired node certificate must be refused by our own check.
 */
import type { TLSSocket } from "node:tls";
import { describe, expect, it } from "vitest";
import { peerIdentity } from "../../../src/transport/broker-auth.js";

function socket(validTo: Date, authorized = true): TLSSocket {
  const cert = { subject: { CN: "system:node:edge-1", O: "system:nodes" }, valid_to: validTo.toUTCString() };
  return { authorized, getPeerCertificate: () => cert } as unknown as TLSSocket;
}

describe("peerIdentity", () => {
  it("accepts a verified, unexpired certificate", () => {
    expect(peerIdentity(socket(new Date(Date.now() + 86_400_000)))).toEqual({
      commonName: "system:node:edge-1",
      organizations: ["system:nodes"],
    });
  });

  it("refuses a certificate that expired since the session was made (resumption skips verification)", () => {
    expect(peerIdentity(socket(new Date(Date.now() - 60_000)))).toBe("invalid");
  });

  it("refuses a certificate that failed verification", () => {
    expect(peerIdentity(socket(new Date(Date.now() + 86_400_000), false))).toBe("invalid");
  });
});
