/**
 * MqttBroker: the hub's embedded MQTT broker (aedes) with TLS, node authentication, per-node ACLs,
 * MQTT over secure WebSocket, and an in-process privileged channel for the hub's sync engine.
 *
 * Design notes
 * - Clean sessions only. aedes' default persistence is in memory (lost on restart) and its offline
 *   queues are unbounded, so the hub never relies on broker-queued messages: the sync protocol
 *   resends from the agent's watermark on every connect. A message published while a node is
 *   offline is simply dropped by the broker.
 * - Every inbound connection, TLS or WebSocket, passes through PacketSizeGuard, because aedes
 *   itself buffers packets of any declared size.
 * - The hub does not connect to its own broker over the network: it publishes and subscribes
 *   in-process (aedes.publish / aedes.subscribe bypass the ACL), which is what "privileged" means.
 * - Presence is tracked from client lifecycle events (a node may briefly hold two connections
 *   during a takeover, so we count them), and nodes also publish an online message and a last-will
 *   on their presence topic, which is what an external broker would give us.
 * - The TLS server asks for client certificates but does not require them, so nodes that join with
 *   a per-node password can still connect; a certificate that fails verification is refused.
 * - Listen backlog 4096 (the kernel caps it at net.core.somaxconn), not Node's 511: after a hub
 *   restart a fleet's first reconnect attempts land within about a second (full-jitter backoff,
 *   1 s base), faster than one event loop completes TLS handshakes; SYNs that overflow the
 *   accept queue are dropped and retried only after 1, 3, 7 s, which stretches the storm.
 * - TLS session resumption: agents present the session ticket of their last connection, and
 *   a resumed handshake skips the certificate exchange, the server's signature and the client
 *   chain verification (≈40 % less handshake CPU here), which is what a reconnect storm is
 *   made of. Tickets live TICKET_LIFETIME_S (TLS 1.3's maximum, 7 days; Node's default is
 *   5 min, shorter than the gap between a connect and a hub restart); the hub keeps its ticket
 *   keys across restarts (hub-pki.ts). Client certificates on this port are checked against
 *   the CA in accept() (ClientCertVerifier), resumed sessions too, and a full handshake sends
 *   one ticket, not two: tls-lean-handshake.ts says why (≈14 KB less per connection).
 * - aedes (broker-aedes.ts) and `ws` are imported on the first connection, not at start(): a
 *   hub no node has connected to yet (a fresh install, or the minutes after a restart) kept
 *   ≈2.6 MB of RSS for them (issue 2, docs/hub-memory.md). The listener is up from start(); the
 *   first sockets wait for the import with their bytes buffered in the socket. Until then no
 *   node can be subscribed, so send() resolves at once: the message is dropped exactly as
 *   aedes drops a publish nobody subscribed to.
 */
import { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { createServer, type Server, type TLSSocket } from "node:tls";
import type { Aedes, AedesPublishPacket, Client } from "aedes";
import type { WebSocketServer } from "ws";
import { type Logger, silentLogger } from "../lib/logger.js";
import { createAedes } from "./broker-aedes.js";
import {
  type Authenticator,
  BrokerGuard,
  type CertIdentity,
  type Denial,
  peerIdentity,
} from "./broker-auth.js";
import { decodeEnvelope, type Envelope, encodeEnvelope, MAX_PACKET_BYTES } from "./envelope.js";
import { PacketSizeGuard } from "./packet-guard.js";
import { ClientCertVerifier, SingleTicketIssuer } from "./tls-lean-handshake.js";
import { downTopic, parseTopic, SYNC_STREAM } from "./topics.js";
import { loadWs, type WsModule } from "./ws-loader.js";

/** accept queue for connect storms (see the design notes) */
const LISTEN_BACKLOG = 4096;
/** TLS session ticket lifetime (see the design notes) */
export const TICKET_LIFETIME_S = 7 * 86_400;
export interface MqttBrokerOptions {
  host: string;
  /** 0 picks a free port (see address()) */
  port: number;
  /** cluster CA (verifies client certificates) and the hub's serving certificate */
  tls: { ca: string; cert: string; key: string; ticketKeys?: Buffer };
  /** password authentication for nodes without a client certificate */
  authenticate?: Authenticator;
  logger?: Logger;
  maxPacketBytes?: number;
  /** how long a fresh connection may take to send CONNECT (default 10 s) */
  connectTimeoutMs?: number;
}

export type BrokerEvents = {
  "node-connected": [node: string];
  "node-disconnected": [node: string];
  /** a connection was refused (bad certificate, bad credentials, oversize packet) */
  rejected: [reason: string];
  /** an authenticated node tried a topic outside its ACL */
  denied: [denial: Denial];
};

/** Receives every valid envelope a node sends; `stream` is "presence" for presence messages. */
export type EnvelopeHandler = (node: string, env: Envelope, stream: string) => void;

export class MqttBroker extends EventEmitter<BrokerEvents> {
  private readonly log: Logger;
  private readonly maxPacketBytes: number;
  /** set once the first connection has loaded aedes (see the design notes) */
  private aedes: Aedes | undefined;
  private loading: Promise<Aedes> | undefined;
  private server: Server | undefined;
  private wss: { server: WebSocketServer; ws: WsModule } | undefined;
  private guard: BrokerGuard | undefined;
  private readonly handlers = new Set<EnvelopeHandler>();
  private readonly live = new Map<string, Set<Client>>();
  private stopping: Promise<void> | undefined;
  private readonly handshakes = { full: 0, resumed: 0 };
  /** the current ticket key (a restart of this broker object keeps the rotated one) */
  private ticketKeys: Buffer | undefined;
  /** client certificates on the MQTT port are checked here, not by OpenSSL (tls-lean-handshake.ts) */
  private verifier: ClientCertVerifier | undefined;
  /** one session ticket per accepted handshake, when this Node allows it */
  private tickets: SingleTicketIssuer | undefined;

  constructor(private readonly opts: MqttBrokerOptions) {
    super();
    this.log = (opts.logger ?? silentLogger()).child({ component: "mqtt-broker" });
    this.maxPacketBytes = opts.maxPacketBytes ?? MAX_PACKET_BYTES;
    this.ticketKeys = opts.tls.ticketKeys;
  }

  async start(signal?: AbortSignal): Promise<void> {
    if (this.server) throw new Error("MqttBroker already started: stop() it before starting again");
    this.stopping = undefined;
    this.guard = new BrokerGuard(
      this.log,
      this.opts.authenticate,
      (d) => this.emit("denied", d),
      (r) => this.emit("rejected", r),
    );
    // an empty trust store keeps the CA out of the handshake; certificates are checked in
    // accept() instead, and one ticket per handshake (tls-lean-handshake.ts, issue 4)
    this.verifier = new ClientCertVerifier(this.opts.tls.ca);
    const server = createServer({
      ca: [],
      cert: this.opts.tls.cert,
      key: this.opts.tls.key,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: "TLSv1.2",
      sessionTimeout: TICKET_LIFETIME_S,
      ...(this.ticketKeys ? { ticketKeys: this.ticketKeys } : {}),
    });
    this.server = server;
    this.tickets = undefined;
    if (this.ticketKeys) {
      const issuer = new SingleTicketIssuer(this.ticketKeys);
      if (issuer.install(server)) this.tickets = issuer;
    }
    server.on("secureConnection", (socket) => this.accept(socket));
    server.on("tlsClientError", (err) => this.log.debug({ err: err.message }, "tls handshake failed"));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: this.opts.host, port: this.opts.port, backlog: LISTEN_BACKLOG }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", (err) => this.log.error({ err: err.message }, "mqtt listener error"));
    signal?.addEventListener("abort", () => void this.stop(), { once: true });
    this.log.info({ address: this.address() }, "mqtt broker listening");
  }

  /** Idempotent: closes the listener, disconnects every client, drops the broker's state. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const { server, loading, wss } = this;
    this.server = undefined;
    this.aedes = undefined;
    this.loading = undefined;
    this.wss = undefined;
    const closed = server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
    const aedes = await loading?.catch(() => undefined);
    if (aedes) await new Promise<void>((r) => aedes.close(() => r()));
    wss?.server.close();
    await closed;
    for (const node of this.live.keys()) this.emit("node-disconnected", node);
    this.live.clear();
  }

  /** The bound TLS address (useful with port 0). */
  address(): { host: string; port: number } {
    const a = this.server?.address() as AddressInfo | null | undefined;
    if (!a) throw new Error("MqttBroker is not listening: call start() first");
    return { host: a.address, port: a.port };
  }

  /**
   * Takes over an HTTP upgrade (the hub's HTTPS server routes `/mqtt` here): MQTT over secure
   * WebSocket for devices behind proxies that only pass HTTPS. The HTTPS server should request
   * client certificates (requestCert) for certificate authentication to work on this path.
   */
  handleWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (!this.server) {
      socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n");
      return;
    }
    const tls = "getPeerCertificate" in req.socket ? (req.socket as TLSSocket) : undefined;
    const id = tls ? peerIdentity(tls) : undefined;
    if (id === "invalid") {
      this.refuse("websocket client certificate is not signed by the cluster CA");
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n");
      return;
    }
    // an error while `ws` loads must not go unhandled (the handshake has not started yet)
    const early = (err: Error) => this.log.debug({ err: err.message }, "websocket closed before upgrade");
    socket.on("error", early);
    void loadWs().then(
      (ws) => {
        socket.off("error", early);
        if (!this.server || socket.destroyed) {
          socket.destroy();
          return;
        }
        this.wss ??= {
          server: new ws.WebSocketServer({ noServer: true, maxPayload: this.maxPacketBytes }),
          ws,
        };
        this.wss.server.handleUpgrade(req, socket, head, (conn) => {
          this.attach(ws.createWebSocketStream(conn), id, req);
        });
      },
      (err: unknown) => {
        this.log.error({ err: (err as Error).message }, "cannot load ws: MQTT over WebSocket unavailable");
        socket.destroy();
      },
    );
  }

  /**
   * Replaces the TLS session-ticket key (48 bytes) for connections from now on. Node keeps one
   * key per server, so tickets made under the previous key are refused from now on (full
   * handshake); see src/hub/edge/ticket-key-rotation.ts.
   */
  setTicketKeys(key: Buffer): void {
    if (key.length !== 48) throw new Error(`TLS ticket keys must be 48 bytes (got ${key.length})`);
    this.ticketKeys = key;
    this.server?.setTicketKeys(key);
    this.tickets?.setKey(key);
  }

  /** TLS handshakes completed on the MQTT port since start, full vs resumed from a ticket. */
  tlsHandshakes(): { full: number; resumed: number } {
    return { ...this.handshakes };
  }

  /** Connected nodes right now. */
  connectedNodes(): string[] {
    return [...this.live.keys()];
  }

  /** Publishes an envelope to one node (QoS 1). Resolves once handed to the node's connection. */
  send(node: string, env: Envelope, stream: string = SYNC_STREAM): Promise<void> {
    if (!this.server) return Promise.reject(new Error("MqttBroker is not running: cannot send to a node"));
    const aedes = this.aedes;
    // no connection yet: nobody is subscribed, aedes would drop it too (see the design notes)
    if (!aedes) return Promise.resolve();
    const packet = {
      cmd: "publish" as const,
      topic: downTopic(node, stream),
      payload: encodeEnvelope(env, this.maxPacketBytes),
      qos: 1 as const,
      retain: false,
      dup: false,
    };
    return new Promise((resolve, reject) => aedes.publish(packet, (err) => (err ? reject(err) : resolve())));
  }

  /** Subscribes to every valid envelope from every node; returns the unsubscribe function. */
  onEnvelope(handler: EnvelopeHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Calls `handler` when a node's last connection closes; returns the unsubscribe function. */
  onNodeDisconnected(handler: (node: string) => void): () => void {
    this.on("node-disconnected", handler);
    return () => this.off("node-disconnected", handler);
  }

  private accept(tlsSocket: TLSSocket): void {
    // Nagle + delayed ACKs add ~40 ms per direction to small messages (interactive exec)
    tlsSocket.setNoDelay(true);
    if (tlsSocket.isSessionReused()) this.handshakes.resumed++;
    else this.handshakes.full++;
    // set in start(), before the listener accepts anything
    const id = this.verifier ? this.verifier.verify(tlsSocket) : "invalid";
    // synchronously, before OpenSSL writes this handshake's tickets (tls-lean-handshake.ts)
    this.tickets?.grant(id !== "invalid");
    if (id === "invalid") {
      this.refuse(`client certificate from ${tlsSocket.remoteAddress} is not signed by the cluster CA`);
      tlsSocket.destroy();
      return;
    }
    this.attach(tlsSocket, id);
  }

  private attach(stream: Duplex, cert: CertIdentity | undefined, req?: IncomingMessage): void {
    const aedes = this.aedes;
    if (aedes) {
      this.handOver(aedes, stream, cert, req);
      return;
    }
    // first connection: load aedes; the socket buffers its bytes meanwhile (nothing reads it)
    const early = (err: Error) => this.log.debug({ err: err.message }, "connection closed while aedes loads");
    stream.on("error", early);
    this.broker().then(
      (loaded) => {
        stream.off("error", early);
        if (stream.destroyed) return;
        this.handOver(loaded, stream, cert, req);
      },
      (err: unknown) => {
        this.log.error({ err: (err as Error).message }, "cannot start the MQTT broker (aedes)");
        stream.destroy();
      },
    );
  }

  private handOver(
    aedes: Aedes,
    stream: Duplex,
    cert: CertIdentity | undefined,
    req?: IncomingMessage,
  ): void {
    const guard = this.guard;
    if (!guard || aedes !== this.aedes) {
      stream.destroy();
      return;
    }
    const guarded = new PacketSizeGuard(stream, this.maxPacketBytes, (err) => this.refuse(err.message));
    if (cert) guard.certs.set(guarded, cert);
    aedes.handle(guarded, req);
  }

  /** aedes, imported and created on the first connection; one promise for all that wait. */
  private broker(): Promise<Aedes> {
    const { guard, server } = this;
    if (!server || !guard) return Promise.reject(new Error("MqttBroker is not running"));
    this.loading ??= this.createAedes(guard, server);
    return this.loading;
  }

  private async createAedes(guard: BrokerGuard, server: Server): Promise<Aedes> {
    const aedes = await createAedes({
      guard,
      connectTimeoutMs: this.opts.connectTimeoutMs ?? 10_000,
      log: this.log,
      onClient: (c, up) => this.track(c, up),
      deliver: this.deliver,
    });
    // stopped while loading: doStop() closes it; attach() sees it is not this.aedes
    if (this.server !== server) return aedes;
    this.aedes = aedes;
    this.log.debug("mqtt broker loaded (first connection)");
    return aedes;
  }

  private refuse(reason: string): void {
    this.log.warn({ reason }, "mqtt connection refused");
    this.emit("rejected", reason);
  }

  private track(client: Client, up: boolean): void {
    const node = this.guard?.nodeOf(client);
    if (node === undefined) return;
    let set = this.live.get(node);
    if (up) {
      if (!set) {
        set = new Set();
        this.live.set(node, set);
      }
      set.add(client);
      if (set.size === 1) this.emit("node-connected", node);
    } else if (set?.delete(client) && set.size === 0) {
      this.live.delete(node);
      this.emit("node-disconnected", node);
    }
  }

  private readonly deliver = (packet: AedesPublishPacket, cb: () => void): void => {
    const parsed = parseTopic(packet.topic);
    if (parsed) {
      const stream = parsed.kind === "presence" ? "presence" : parsed.stream;
      let env: Envelope | undefined;
      try {
        env = decodeEnvelope(packet.payload as Buffer);
      } catch (err) {
        this.log.warn(
          { node: parsed.node, topic: packet.topic, err: (err as Error).message },
          "dropped message",
        );
      }
      if (env) for (const h of this.handlers) h(parsed.node, env, stream);
    }
    // released on the next tick, never synchronously: mqemitter starts its next queued message
    // inside this callback, so with a synchronous release a burst (5,000 nodes publishing at
    // once, bench/sync) recursed once per queued message and overflowed the stack, killing the
    // hub (RangeError in qlobber._match)
    process.nextTick(cb);
  };
}
