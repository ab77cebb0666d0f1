/**
 * A node:https server on 127.0.0.1 (a fresh CA and a leaf for the address, a free port) for
 * tests of HTTPS clients; closed, with its connections, when the calling test ends.
 */
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { onTestFinished } from "vitest";
import { createCA, issueCert } from "../../src/lib/pki.js";

export async function loopbackHttps(
  name: string,
  handle: Parameters<typeof createServer>[1],
): Promise<{ url: string; ca: string }> {
  const ca = await createCA(`${name}-ca`);
  const leaf = await issueCert(ca, { commonName: "127.0.0.1", ipAddresses: ["127.0.0.1"], usage: "server" });
  const s: Server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, handle);
  await new Promise<void>((r) => s.listen({ host: "127.0.0.1", port: 0 }, () => r()));
  onTestFinished(
    () =>
      new Promise<void>((r) => {
        s.closeAllConnections();
        s.close(() => r());
      }),
  );
  return { url: `https://127.0.0.1:${(s.address() as AddressInfo).port}`, ca: ca.certPem };
}
