/**
 * The TLS floor's server: a bare node:tls server in its own process, with the hub MQTT port's
 * TLS settings and nothing behind it, so bench/sync can say how much of a reconnect storm is
 * TLS on one event loop and how much is the hub (bench/lib/tls-floor.ts drives it).
 *
 * Design notes
 * - Same certificate, CA, ticket key and options as broker.ts: requestCert without
 *   rejectUnauthorized, TLS ≥ 1.2, the 7-day ticket lifetime, listen backlog 4096. Tickets made
 *   here are not the hub's (different process, same key) but they are the same size and cost.
 * - On each handshake it writes 4 bytes (the size of a CONNACK) and nothing else: the client
 *   waits for them, and reading them also delivers the TLS 1.3 session ticket, which the server
 *   sends right after the handshake. No certificate is parsed (no getPeerCertificate): that is
 *   the hub's cost, not TLS's.
 * - Its own process (forked, IPC commands) so its CPU is read like the hub's, from /proc.
 */
import { createServer, type TLSSocket } from "node:tls";

export type FloorServerCommand =
  | { cmd: "start"; ca: string; cert: string; key: string; ticketKeys: string }
  | { cmd: "counts" };

export interface FloorServerCounts {
  full: number;
  resumed: number;
  /** connections closed before the handshake finished (tlsClientError) */
  failed: number;
}

const CONNACK_SIZED = Buffer.from([0x20, 0x02, 0x00, 0x00]);
const counts: FloorServerCounts = { full: 0, resumed: 0, failed: 0 };

function start(m: Extract<FloorServerCommand, { cmd: "start" }>): Promise<number> {
  const server = createServer({
    ca: m.ca,
    cert: m.cert,
    key: m.key,
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: "TLSv1.2",
    sessionTimeout: 7 * 86_400,
    ticketKeys: Buffer.from(m.ticketKeys, "hex"),
  });
  server.on("secureConnection", (s: TLSSocket) => {
    s.setNoDelay(true);
    if (s.isSessionReused()) counts.resumed++;
    else counts.full++;
    s.on("error", () => {});
    s.write(CONNACK_SIZED);
    s.resume();
  });
  server.on("tlsClientError", () => {
    counts.failed++;
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0, backlog: 4096 }, () => {
      const a = server.address();
      resolve(typeof a === "object" && a ? a.port : 0);
    });
  });
}

process.on("message", (m: FloorServerCommand) => {
  if (m.cmd === "start") {
    start(m).then(
      (port) => process.send?.({ ok: true, value: port }),
      (err: Error) => process.send?.({ ok: false, error: err.message }),
    );
  } else process.send?.({ ok: true, value: { ...counts } });
});
process.on("disconnect", () => process.exit(0));
