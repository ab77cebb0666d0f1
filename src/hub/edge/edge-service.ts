/**
 * EdgeService: the hub's end of the edge link, wired from its parts —
 *   MqttBroker (TLS port + /mqtt WebSocket upgrades on the API port)
 *   SyncHub    (per-node sessions) ← DesiredIndex (desired sets) / → StatusWriter (reports)
 *   NodeHeartbeats (leases and node status coalesced in memory; link-lost presence)
 *   JoinHandler (/cacerts, /edgekube/v1/join on the API port)
 *   NodePasswords (the per-node MQTT passwords joins issue and the broker checks)
 *
 * Design notes
 * - Start order: desired index (so the first hello finds sets), node passwords (their Secret
 *   cache, so the first CONNECT is judged on synced data), broker, sync; the API server
 *   is started after this by the hub, so a join never finds the broker down. Stop is the
 *   reverse, and presence handlers are detached before the broker closes, because a stopping
 *   broker reports every node as disconnected and a hub restart must not mark the fleet
 *   NotReady. Pending heartbeats are flushed while the store is still open.
 * - The broker reuses the API serving certificate (same SANs: the addresses agents dial).
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type Client, refs } from "../../client/client.js";
import type { Logger } from "../../lib/logger.js";
import type { KeyPairPem } from "../../lib/pki.js";
import { MqttBroker } from "../../transport/broker.js";
import { SyncHub } from "../../transport/sync-hub.js";
import type { RouteHandler, UpgradeHandler } from "../apiserver/server.js";
import type { SharedInformers } from "../controllers/shared-informers.js";
import type { SharedObjects } from "../shared-objects.js";
import type { Backend } from "../store/backend.js";
import { DesiredIndex } from "./desired-index.js";
import { NodeHeartbeats } from "./heartbeats.js";
import { JoinHandler } from "./join-handler.js";
import { NodePasswords } from "./node-passwords.js";
import { StatusWriter } from "./status-writer.js";
import { TicketKeyRotation } from "./ticket-key-rotation.js";

export const CLUSTER_DNS = "10.43.0.10";
export const CLUSTER_DOMAIN = "cluster.local";

export interface EdgeServiceOptions {
  client: Client;
  backend: Backend;
  ca: KeyPairPem;
  /** serving certificate for the MQTT TLS port */
  serving: KeyPairPem;
  /** TLS session ticket keys of the MQTT port, kept across restarts (hub-pki.ts) */
  ticketKeys?: Buffer;
  /** the file holding them (DATA/tls/mqtt-ticket.keys): when given, they rotate (ticket-key-rotation.ts) */
  ticketKeyFile?: string;
  /** ticket key rotation interval (default 24 h) */
  ticketKeyRotationMs?: number;
  mqttHost: string;
  /** 0 = a free port (tests) */
  mqttPort: number;
  clusterCIDR: string;
  serviceCIDR: string;
  /** what agents bind cluster DNS to and give pods (default 10.43.0.10) */
  clusterDNS?: string;
  podCreateRevision: (namespace: string, name: string) => Promise<number | undefined>;
  logger: Logger;
  leaseFlushMs?: number;
  nodeStatusRefreshMs?: number;
  now?: () => Date;
  /** the decoder the hub's shared informers use, so the desired index shares their objects */
  objects?: SharedObjects;
  /** the hub's informers: node passwords are checked against its Secret cache */
  informers: SharedInformers;
}

export class EdgeService {
  readonly broker: MqttBroker;
  readonly index: DesiredIndex;
  readonly heartbeats: NodeHeartbeats;
  readonly sync: SyncHub;
  readonly passwords: NodePasswords;
  private readonly join: JoinHandler;
  private offs: Array<() => void> = [];
  private ticketRotation: TicketKeyRotation | undefined;
  /** this service's own lines; its parts get opts.logger and name their own component */
  private readonly log: Logger;

  constructor(private readonly opts: EdgeServiceOptions) {
    const logger = opts.logger;
    this.log = logger.child({ component: "edge" });
    this.passwords = new NodePasswords({
      client: opts.client,
      secrets: opts.informers.informer(refs.secrets),
      awaitCached: (s) => opts.informers.awaitWrite(refs.secrets, s),
      disconnect: (node) => this.broker.disconnect(node),
      logger: this.log,
    });
    this.broker = new MqttBroker({
      host: opts.mqttHost,
      port: opts.mqttPort,
      tls: {
        ca: opts.ca.certPem,
        cert: opts.serving.certPem,
        key: opts.serving.keyPem,
        ...(opts.ticketKeys ? { ticketKeys: opts.ticketKeys } : {}),
      },
      authenticate: this.passwords.verify,
      logger,
    });
    this.index = new DesiredIndex({
      backend: opts.backend,
      logger,
      ...(opts.objects ? { objects: opts.objects } : {}),
    });
    this.heartbeats = new NodeHeartbeats({
      client: opts.client,
      logger,
      ...(opts.now ? { now: opts.now } : {}),
      ...(opts.leaseFlushMs ? { leaseFlushMs: opts.leaseFlushMs } : {}),
      ...(opts.nodeStatusRefreshMs ? { nodeStatusRefreshMs: opts.nodeStatusRefreshMs } : {}),
      connected: () => this.broker.connectedNodes(),
    });
    const status = new StatusWriter({
      client: opts.client,
      heartbeats: this.heartbeats,
      podCreateRevision: opts.podCreateRevision,
      logger,
      ...(opts.now ? { now: opts.now } : {}),
    });
    this.sync = new SyncHub({
      channel: this.broker,
      source: this.index,
      status,
      logger,
      onHeartbeat: (node) => this.heartbeats.renew(node),
    });
    this.join = new JoinHandler({
      client: opts.client,
      ca: opts.ca,
      clusterCIDR: opts.clusterCIDR,
      serviceCIDR: opts.serviceCIDR,
      clusterDNS: opts.clusterDNS ?? CLUSTER_DNS,
      clusterDomain: CLUSTER_DOMAIN,
      mqttPort: () => this.broker.address().port,
      passwords: this.passwords,
      logger: logger.child({ component: "join" }),
      ...(opts.now ? { now: opts.now } : {}),
    });
  }

  /** Non-resource routes for the API server (answered before its authentication). */
  routes(): Map<string, RouteHandler> {
    return this.join.routes();
  }

  /** Upgrade handlers for the API server: MQTT over secure WebSocket at /mqtt. */
  upgrades(): Map<string, UpgradeHandler> {
    return new Map([
      [
        "/mqtt",
        (req: IncomingMessage, socket: Duplex, head: Buffer) =>
          this.broker.handleWebSocket(req, socket, head),
      ],
    ]);
  }

  async start(signal?: AbortSignal): Promise<void> {
    await this.index.start();
    await this.passwords.start();
    await this.broker.start();
    if (this.opts.ticketKeyFile) {
      this.ticketRotation = new TicketKeyRotation({
        file: this.opts.ticketKeyFile,
        apply: (key) => this.broker.setTicketKeys(key),
        logger: this.opts.logger,
        ...(this.opts.ticketKeyRotationMs ? { intervalMs: this.opts.ticketKeyRotationMs } : {}),
      });
      await this.ticketRotation.start();
    }
    this.heartbeats.start();
    const onUp = (node: string) => void this.heartbeats.linkRestored(node);
    this.broker.on("node-connected", onUp);
    this.offs.push(
      () => this.broker.off("node-connected", onUp),
      this.broker.onNodeDisconnected((node) => void this.heartbeats.linkLost(node)),
    );
    await this.sync.start();
    signal?.addEventListener("abort", () => void this.stop(), { once: true });
    this.log.info({ mqtt: this.broker.address() }, "edge link ready");
  }

  /** The broker's bound TLS address. */
  mqttAddress(): { host: string; port: number } {
    return this.broker.address();
  }

  async stop(): Promise<void> {
    for (const off of this.offs.splice(0)) off();
    this.ticketRotation?.stop();
    this.sync.stop();
    await this.broker.stop();
    this.passwords.stop();
    this.index.stop();
    await this.heartbeats.stop();
  }
}
