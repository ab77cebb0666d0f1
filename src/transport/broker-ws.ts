/**
 * WebSocketIngress: MQTT over secure WebSocket into the hub's broker. The hub's HTTPS server
 * routes upgrades of `/mqtt` here, for devices behind proxies that only pass HTTPS.
 *
 * Design notes
 * - Authentication is the same as on the MQTT port: the HTTPS server requests client
 *   certificates, and a certificate that does not verify against the cluster CA is refused
 *   with 403 before the upgrade; a verified one (or none: password nodes) goes on to aedes with
 *   the same identity check (peerIdentity, broker-auth.ts).
 * - `ws` is imported on the first upgrade (ws-loader.ts), and the WebSocketServer is made then,
 *   once per broker run: an idle hub keeps neither. An error on the socket while `ws` loads
 *   must not go unhandled (the upgrade has not started yet).
 * - Every WebSocket's maxPayload is the broker's packet limit, so an oversize frame is refused
 *   by `ws` before it is buffered.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import type { WebSocketServer } from "ws";
import type { Logger } from "../lib/logger.js";
import { type CertIdentity, peerIdentity } from "./broker-auth.js";
import { loadWs } from "./ws-loader.js";

export interface WebSocketIngressOptions {
  maxPacketBytes: number;
  log: Logger;
  /** whether the broker is running (upgrades are refused with 503 otherwise) */
  running: () => boolean;
  onRefused: (reason: string) => void;
  /** an upgraded connection, for aedes */
  onStream: (stream: Duplex, cert: CertIdentity | undefined, req: IncomingMessage) => void;
}

export class WebSocketIngress {
  private server: WebSocketServer | undefined;

  constructor(private readonly opts: WebSocketIngressOptions) {}

  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const { log } = this.opts;
    if (!this.opts.running()) {
      socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n");
      return;
    }
    const tls = "getPeerCertificate" in req.socket ? (req.socket as TLSSocket) : undefined;
    const id = tls ? peerIdentity(tls) : undefined;
    if (id === "invalid") {
      this.opts.onRefused("websocket client certificate is not signed by the cluster CA");
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n");
      return;
    }
    const early = (err: Error) => log.debug({ err: err.message }, "websocket closed before upgrade");
    socket.on("error", early);
    void loadWs().then(
      (ws) => {
        socket.off("error", early);
        if (!this.opts.running() || socket.destroyed) {
          socket.destroy();
          return;
        }
        this.server ??= new ws.WebSocketServer({ noServer: true, maxPayload: this.opts.maxPacketBytes });
        this.server.handleUpgrade(req, socket, head, (conn) => {
          this.opts.onStream(ws.createWebSocketStream(conn), id, req);
        });
      },
      (err: unknown) => {
        log.error({ err: (err as Error).message }, "cannot load ws: MQTT over WebSocket unavailable");
        socket.destroy();
      },
    );
  }

  /** Closes the WebSocket server of this run (a later upgrade makes a new one). */
  close(): void {
    this.server?.close();
    this.server = undefined;
  }
}
