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
 * - Streams come in verified from BrokerListener (the TLS port: broker-tls.ts) and
 *   WebSocketIngress (/mqtt upgrades: broker-ws.ts); this class hands them to aedes.
 * - aedes (broker-aedes.ts) and `ws` are imported on the first connection, not at start()
 *   (≈2.6 MB of RSS a hub no node has connected to yet does not need: docs/hub-memory.md); the
 *   first sockets wait with their bytes buffered. Until then no node can be subscribed, so
 *   send() resolves at once: dropped exactly as aedes drops a publish nobody subscribed to.
 */
import { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Aedes, AedesPublishPacket, Client } from "aedes";
import { type Logger, silentLogger } from "../lib/logger.js";
import { createAedes } from "./broker-aedes.js";
import { type Authenticator, BrokerGuard, type CertIdentity, type Denial } from "./broker-auth.js";
import { BrokerListener } from "./broker-tls.js";
import { WebSocketIngress } from "./broker-ws.js";
import { decodeEnvelope, type Envelope, encodeEnvelope, MAX_PACKET_BYTES } from "./envelope.js";
import { PacketSizeGuard } from "./packet-guard.js";
import { downTopic, parseTopic, SYNC_STREAM } from "./topics.js";

export { TICKET_LIFETIME_S } from "./broker-tls.js";

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
  private readonly listener: BrokerListener;
  /** the listener this run started (undefined = not running); a stop() clears it at once */
  private running: BrokerListener | undefined;
  private readonly ws: WebSocketIngress;
  private guard: BrokerGuard | undefined;
  private readonly handlers = new Set<EnvelopeHandler>();
  private readonly live = new Map<string, Set<Client>>();
  private stopping: Promise<void> | undefined;

  constructor(private readonly opts: MqttBrokerOptions) {
    super();
    this.log = (opts.logger ?? silentLogger()).child({ component: "mqtt-broker" });
    this.maxPacketBytes = opts.maxPacketBytes ?? MAX_PACKET_BYTES;
    this.listener = new BrokerListener({
      host: opts.host,
      port: opts.port,
      tls: opts.tls,
      log: this.log,
      onConnection: (stream, cert) => this.attach(stream, cert),
      onRefused: (reason) => this.refuse(reason),
    });
    this.ws = new WebSocketIngress({
      maxPacketBytes: this.maxPacketBytes,
      log: this.log,
      running: () => this.running !== undefined,
      onRefused: (reason) => this.refuse(reason),
      onStream: (stream, cert, req) => this.attach(stream, cert, req),
    });
  }

  async start(signal?: AbortSignal): Promise<void> {
    if (this.running) throw new Error("MqttBroker already started: stop() it before starting again");
    this.stopping = undefined;
    this.guard = new BrokerGuard(
      this.log,
      this.opts.authenticate,
      (d) => this.emit("denied", d),
      (r) => this.emit("rejected", r),
    );
    await this.listener.start();
    this.running = this.listener;
    signal?.addEventListener("abort", () => void this.stop(), { once: true });
    this.log.info({ address: this.address() }, "mqtt broker listening");
  }

  /** Idempotent: closes the listener, disconnects every client, drops the broker's state. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const { running, loading } = this;
    this.running = undefined;
    this.aedes = undefined;
    this.loading = undefined;
    const closed = running ? running.stop() : Promise.resolve();
    const aedes = await loading?.catch(() => undefined);
    if (aedes) await new Promise<void>((r) => aedes.close(() => r()));
    this.ws.close();
    await closed;
    for (const node of this.live.keys()) this.emit("node-disconnected", node);
    this.live.clear();
  }

  /** The bound TLS address (useful with port 0). */
  address(): { host: string; port: number } {
    return this.listener.address();
  }

  /** Takes over an HTTP upgrade of `/mqtt` (broker-ws.ts); the HTTPS server should requestCert. */
  handleWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.ws.handle(req, socket, head);
  }

  /**
   * Replaces the TLS session-ticket key (48 bytes) for connections from now on. Node keeps one
   * key per server, so tickets made under the previous key are refused from now on (full
   * handshake); see src/hub/edge/ticket-key-rotation.ts.
   */
  setTicketKeys(key: Buffer): void {
    this.listener.setTicketKeys(key);
  }

  /** TLS handshakes completed on the MQTT port since start, full vs resumed from a ticket. */
  tlsHandshakes(): { full: number; resumed: number } {
    return this.listener.tlsHandshakes();
  }

  /** Connected nodes right now. */
  connectedNodes(): string[] {
    return [...this.live.keys()];
  }

  /**
   * Closes every live connection of `node` (its credentials were revoked); the node's next
   * CONNECT is authenticated afresh. Returns how many connections were closed.
   */
  disconnect(node: string): number {
    const clients = [...(this.live.get(node) ?? [])];
    for (const c of clients) c.close();
    if (clients.length > 0)
      this.log.info({ node, connections: clients.length }, "node disconnected by the hub");
    return clients.length;
  }

  /** Publishes an envelope to one node (QoS 1). Resolves once handed to the node's connection. */
  send(node: string, env: Envelope, stream: string = SYNC_STREAM): Promise<void> {
    if (!this.running) return Promise.reject(new Error("MqttBroker is not running: cannot send to a node"));
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
    const { guard, running } = this;
    if (!running || !guard) return Promise.reject(new Error("MqttBroker is not running"));
    this.loading ??= this.createAedes(guard, running);
    return this.loading;
  }

  private async createAedes(guard: BrokerGuard, running: BrokerListener): Promise<Aedes> {
    const aedes = await createAedes({
      guard,
      connectTimeoutMs: this.opts.connectTimeoutMs ?? 10_000,
      log: this.log,
      onClient: (c, up) => this.track(c, up),
      deliver: this.deliver,
    });
    // stopped while loading: doStop() closes it; attach() sees it is not this.aedes
    if (this.running !== running) return aedes;
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
