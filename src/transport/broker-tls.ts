/**
 * BrokerListener: the MQTT port's TLS listener. It owns the socket side of a connection up to
 * the point where a node's identity is known, then hands the stream to the broker (broker.ts);
 * what happens after (aedes, ACLs, presence) is not its business.
 *
 * Design notes
 * - The TLS server asks for client certificates but does not require them, so nodes that join
 *   with a per-node password can still connect; a certificate that fails verification is
 *   refused here (the connection is destroyed and the broker told why), never downgraded.
 * - Listen backlog 4096 (the kernel caps it at net.core.somaxconn), not Node's 511: after a hub
 *   restart a fleet's first reconnect attempts land within about a second (full-jitter backoff,
 *   1 s base), faster than one event loop completes TLS handshakes; SYNs that overflow the
 *   accept queue are dropped and retried only after 1, 3, 7 s, which stretches the storm.
 * - TLS session resumption: agents present the session ticket of their last connection, and
 *   a resumed handshake skips the certificate exchange, the server's signature and the client
 *   chain verification (≈40 % less handshake CPU here), which is what a reconnect storm is
 *   made of. Tickets live TICKET_LIFETIME_S (TLS 1.3's maximum, 7 days; Node's default is
 *   5 min, shorter than the gap between a connect and a hub restart); the hub keeps its ticket
 *   keys across restarts (hub-pki.ts).
 * - Client certificates are checked against the CA in accept() (ClientCertVerifier), resumed
 *   sessions too, with an empty trust store in the TLS context; a full handshake sends one
 *   ticket, not two, and a refused one none: tls-lean-handshake.ts says why (≈14 KB less per
 *   connection). The peer certificate is read once per connection. It is not cached by
 *   fingerprint: on a fresh socket a fingerprint costs more than the read it would save (≈200
 *   vs ≈80 µs for the first call per socket here), and the first call is what a storm pays.
 * - At most MAX_HANDSHAKES TLS handshakes run at once (handshake-gate.ts): a TCP server with
 *   pauseOnConnect accepts, and the gate hands sockets to the (not listening) TLS server in
 *   arrival order as earlier handshakes finish, so a fleet's first connect completes in order
 *   instead of all handshakes crawling together past the agents' CONNACK timeout.
 *   handshakeTimeout (HANDSHAKE_TIMEOUT_MS) bounds how long a stalled peer holds a slot.
 */
import { type AddressInfo, createServer as createTcpServer, type Server as TcpServer } from "node:net";
import type { Duplex } from "node:stream";
import { createServer, type Server, type TLSSocket } from "node:tls";
import type { Logger } from "../lib/logger.js";
import type { CertIdentity } from "./broker-auth.js";
import { HandshakeGate } from "./handshake-gate.js";
import { ClientCertVerifier, SingleTicketIssuer } from "./tls-lean-handshake.js";

/** accept queue for connect storms (see the design notes) */
const LISTEN_BACKLOG = 4096;
/** TLS session ticket lifetime (see the design notes) */
export const TICKET_LIFETIME_S = 7 * 86_400;
/** TLS handshakes in flight at once (see the design notes) */
export const MAX_HANDSHAKES = 32;
/** a handshake not finished by then is dropped, freeing its slot (Node's default is 120 s) */
const HANDSHAKE_TIMEOUT_MS = 20_000;

export interface BrokerListenerOptions {
  host: string;
  /** 0 picks a free port (see address()) */
  port: number;
  /** cluster CA (verifies client certificates) and the hub's serving certificate */
  tls: { ca: string; cert: string; key: string; ticketKeys?: Buffer };
  log: Logger;
  /** a connection whose certificate (if any) verified; cert is undefined without one */
  onConnection: (stream: Duplex, cert: CertIdentity | undefined) => void;
  /** a connection was refused here (certificate not signed by the cluster CA, or expired) */
  onRefused: (reason: string) => void;
  /** TLS handshakes in flight at once (default MAX_HANDSHAKES) */
  maxHandshakes?: number;
}

const remoteKey = (s: { remoteAddress?: string | undefined; remotePort?: number | undefined }) =>
  `${s.remoteAddress}:${s.remotePort}`;

export class BrokerListener {
  /** accepts TCP; the TLS server below gets sockets from the gate, it does not listen itself */
  private server: TcpServer | undefined;
  private tls: Server | undefined;
  private gate: HandshakeGate | undefined;
  private readonly handshakes = { full: 0, resumed: 0 };
  /** the current ticket key (a restart of this listener keeps the rotated one) */
  private ticketKeys: Buffer | undefined;
  /** client certificates are checked here, not by OpenSSL (tls-lean-handshake.ts) */
  private readonly verifier: ClientCertVerifier;
  /** one session ticket per accepted handshake, when this Node allows it */
  private tickets: SingleTicketIssuer | undefined;

  constructor(private readonly opts: BrokerListenerOptions) {
    this.ticketKeys = opts.tls.ticketKeys;
    this.verifier = new ClientCertVerifier(opts.tls.ca);
  }

  async start(): Promise<void> {
    if (this.server) throw new Error("the MQTT listener is already started: stop() it first");
    const { tls, log } = this.opts;
    // an empty trust store keeps the CA out of the handshake's flight; certificates are
    // checked in accept() instead (tls-lean-handshake.ts)
    const tlsServer = createServer({
      ca: [],
      cert: tls.cert,
      key: tls.key,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: "TLSv1.2",
      sessionTimeout: TICKET_LIFETIME_S,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      ...(this.ticketKeys ? { ticketKeys: this.ticketKeys } : {}),
    });
    this.tls = tlsServer;
    this.tickets = undefined;
    if (this.ticketKeys) {
      const issuer = new SingleTicketIssuer(this.ticketKeys);
      if (issuer.install(tlsServer)) this.tickets = issuer;
    }
    // handshakes in flight, by the peer's address: their gate slot is released when they end
    const inFlight = new Map<string, () => void>();
    const ended = (socket: TLSSocket) => {
      const key = remoteKey(socket);
      inFlight.get(key)?.();
      inFlight.delete(key);
    };
    const gate = new HandshakeGate(this.opts.maxHandshakes ?? MAX_HANDSHAKES, (socket, release) => {
      const key = remoteKey(socket);
      inFlight.set(key, release);
      socket.once("close", () => {
        if (inFlight.get(key) === release) inFlight.delete(key);
      });
      tlsServer.emit("connection", socket);
    });
    this.gate = gate;
    tlsServer.on("secureConnection", (socket: TLSSocket) => {
      ended(socket);
      this.accept(socket);
    });
    tlsServer.on("tlsClientError", (err, socket) => {
      ended(socket);
      log.debug({ err: err.message }, "tls handshake failed");
    });
    const server = createTcpServer({ pauseOnConnect: true }, (socket) => {
      // a reset before its turn must not become an uncaught error
      socket.on("error", () => socket.destroy());
      gate.offer(socket);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: this.opts.host, port: this.opts.port, backlog: LISTEN_BACKLOG }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", (err) => log.error({ err: err.message }, "mqtt listener error"));
  }

  /** Stops accepting; resolves once every connection it accepted has closed. */
  stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.tls = undefined;
    this.gate?.close();
    this.gate = undefined;
    return server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
  }

  /** The bound TLS address (useful with port 0). */
  address(): { host: string; port: number } {
    const a = this.server?.address() as AddressInfo | null | undefined;
    if (!a) throw new Error("MqttBroker is not listening: call start() first");
    return { host: a.address, port: a.port };
  }

  /** Replaces the session-ticket key (48 bytes) for connections from now on. */
  setTicketKeys(key: Buffer): void {
    if (key.length !== 48) throw new Error(`TLS ticket keys must be 48 bytes (got ${key.length})`);
    this.ticketKeys = key;
    this.tls?.setTicketKeys(key);
    this.tickets?.setKey(key);
  }

  /** the handshake gate's figures: running, waiting, started and skipped since start */
  handshakeGate(): { inFlight: number; waiting: number; admitted: number; skipped: number } {
    return this.gate?.stats() ?? { inFlight: 0, waiting: 0, admitted: 0, skipped: 0 };
  }

  /** TLS handshakes completed since start, full vs resumed from a ticket. */
  tlsHandshakes(): { full: number; resumed: number } {
    return { ...this.handshakes };
  }

  private accept(socket: TLSSocket): void {
    // Nagle + delayed ACKs add ~40 ms per direction to small messages (interactive exec)
    socket.setNoDelay(true);
    if (socket.isSessionReused()) this.handshakes.resumed++;
    else this.handshakes.full++;
    const id = this.verifier.verify(socket);
    // synchronously, before OpenSSL writes this handshake's tickets (tls-lean-handshake.ts)
    this.tickets?.grant(id !== "invalid");
    if (id === "invalid") {
      this.opts.onRefused(`client certificate from ${socket.remoteAddress} is not signed by the cluster CA`);
      socket.destroy();
      return;
    }
    this.opts.onConnection(socket, id);
  }
}
