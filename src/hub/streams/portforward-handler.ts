/**
 * `pods/portforward` over WebSocket (`SPDY/3.1+portforward.k8s.io`): kubectl tunnels a SPDY/3.1
 * session inside binary WebSocket messages; we terminate SPDY here (spdy-transport) and carry
 * each forwarded connection to the pod's node as one stream.
 *
 * Design notes
 * - Per local connection kubectl opens two SPDY streams with the same `requestid`: `error`
 *   (written by us if forwarding fails) and `data` (the bytes). Each gets a SYN_REPLY at once,
 *   as the kubelet does. The data stream opens a `portforward` stream to the agent; a refusal
 *   or an agent-side failure is written to the error stream in upstream's wording
 *   ("error forwarding port N to pod …"), which kubectl prints and survives.
 * - Half-close: kubectl closing its data stream's write side (FIN) ends the agent stream's
 *   input; the agent's end ends the SPDY data stream.
 * - The pod must be Running (upstream kubectl checks too; a direct client gets a 400 here).
 * - SPDY has its own flow control (per-stream windows); spdy-transport applies it, and `pipe`
 *   links it to the stream credit in both directions.
 * - kubectl's SPDY side (moby/spdystream) speaks SPDY/3 and sends SYN_STREAMs without HTTP
 *   pseudo-headers, which spdy-transport needs a small accommodation for (acceptBareSynStreams).
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Pod } from "kubernetes-types/core/v1";
import type { SpdyStream } from "spdy-transport";
import type { WebSocketServer } from "ws";
import { ApiError } from "../../api/errors.js";
import type { Logger } from "../../lib/logger.js";
import { loadWs, type WsModule } from "../../transport/ws-loader.js";
import { writeUpgradeError } from "../apiserver/server.js";
import {
  loadPod,
  openErrorToApi,
  type PodGetter,
  type PodTarget,
  type StreamOpener,
  target,
} from "./pod-target.js";

export const PORTFORWARD_PROTOCOL = "SPDY/3.1+portforward.k8s.io";

export interface PortForwardDeps {
  mux: StreamOpener;
  getPod: PodGetter;
  logger: Logger;
}

type KvCallback = (err: Error | null, headers?: Record<string, string>) => void;
interface ParserInternals {
  _spdyState?: { parser?: { parseKVs?: (body: unknown, cb: KvCallback) => void } };
}

/**
 * spdy-transport was written for HTTP over SPDY and refuses a SYN_STREAM without `:method` and
 * `:path`; kubectl's port-forward streams carry only streamtype/port/requestid. We fill the two
 * pseudo-headers in on this connection's parser (a private field of spdy-transport 3.0.0,
 * pinned by package-lock; the e2e test fails loudly if that changes).
 */
function acceptBareSynStreams(conn: unknown): void {
  const parser = (conn as ParserInternals)._spdyState?.parser;
  const parseKVs = parser?.parseKVs;
  if (!parser || !parseKVs)
    throw new Error("spdy-transport internals changed: port-forward cannot parse kubectl's streams");
  parser.parseKVs = (body, cb) =>
    parseKVs.call(parser, body, (err, headers) => {
      if (!err && headers && headers[":method"] === undefined) {
        headers[":method"] = "POST";
        headers[":path"] = "/";
      }
      cb(err, headers);
    });
}

interface Pair {
  error?: SpdyStream;
  data?: SpdyStream;
}

export class PortForwardUpgrade {
  // `SPDY/3.1+portforward.k8s.io` contains '/', which is not an RFC 7230 token, so `ws` would
  // refuse it as a subprotocol: we take the header out before the handshake and echo it back
  // ourselves (Go's gorilla/websocket, on kubectl's side, accepts it).
  private wss: WebSocketServer | undefined;
  /**
   * spdy-transport and what it pulls in (hpack, readable-stream 2, wbuf …) load on the first
   * port-forward, not with every hub, and so does `ws` (transport/ws-loader.ts). A CommonJS
   * package: Node's ESM loader cannot see its named exports, so take the default.
   */
  private spdy: typeof import("spdy-transport")["default"] | undefined;
  private ws: WsModule | undefined;

  constructor(private readonly deps: PortForwardDeps) {}

  handle(req: IncomingMessage, socket: Duplex, head: Buffer, namespace: string, name: string): void {
    this.prepare(req, namespace, name).then(
      (t) => {
        delete req.headers["sec-websocket-protocol"];
        const { wss, ws } = this.server();
        wss.handleUpgrade(req, socket, head, (conn) => this.run(ws.createWebSocketStream(conn), t));
      },
      (err: unknown) =>
        writeUpgradeError(socket, err instanceof ApiError ? err : ApiError.internal(String(err))),
    );
  }

  /** The WebSocket server, made once `ws` is loaded (prepare() loads it). */
  private server(): { wss: WebSocketServer; ws: WsModule } {
    const ws = this.ws;
    if (!ws) throw new Error("port-forward: the ws module is not loaded (prepare() loads it)");
    if (!this.wss) {
      this.wss = new ws.WebSocketServer({ noServer: true, perMessageDeflate: false });
      this.wss.on("headers", (headers) => headers.push(`Sec-WebSocket-Protocol: ${PORTFORWARD_PROTOCOL}`));
    }
    return { wss: this.wss, ws };
  }

  private async prepare(req: IncomingMessage, namespace: string, name: string): Promise<PodTarget> {
    const protocols = (req.headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim());
    if (
      (req.headers.upgrade ?? "").toLowerCase() !== "websocket" ||
      !protocols.includes(PORTFORWARD_PROTOCOL)
    ) {
      throw ApiError.badRequest(
        `port-forward needs a WebSocket upgrade with protocol ${PORTFORWARD_PROTOCOL}: use kubectl 1.30 or newer`,
      );
    }
    this.spdy ??= (await import("spdy-transport")).default;
    this.ws ??= await loadWs();
    const pod: Pod = await loadPod(this.deps.getPod, namespace, name);
    const phase = pod.status?.phase ?? "Unknown";
    if (phase !== "Running") {
      throw ApiError.badRequest(
        `pod ${name} is not running (phase ${phase}): port-forward needs a Running pod`,
      );
    }
    return target(pod, pod.spec?.containers?.[0]?.name ?? "");
  }

  private run(tunnel: Duplex, t: PodTarget): void {
    const log = this.deps.logger;
    const conn = this.spdy!.connection.create(tunnel, { protocol: "spdy", isServer: true, maxStreams: 256 });
    acceptBareSynStreams(conn);
    // kubectl's spdystream speaks SPDY/3 (no session-level flow control), not 3.1
    conn.start(3);
    const pairs = new Map<string, Pair>();
    const active = new Set<Duplex>();
    conn.on("error", (err: Error) => log.debug({ err: err.message }, "port-forward spdy error"));
    tunnel.on("error", () => {});
    tunnel.once("close", () => {
      for (const s of active) s.destroy();
      conn.destroyStreams();
    });
    conn.on("stream", (s: SpdyStream) => {
      s.on("error", () => {});
      const type = s.headers["streamtype"];
      const requestId = s.headers["requestid"] ?? "";
      const port = Number(s.headers["port"]);
      s.respond(200, {});
      if ((type !== "error" && type !== "data") || !Number.isInteger(port) || port < 1 || port > 65535) {
        s.end();
        return;
      }
      const pair = pairs.get(requestId) ?? {};
      pairs.set(requestId, pair);
      if (type === "error") {
        pair.error = s;
        // kubectl never writes on the error stream; drain it so SPDY windows stay open
        s.resume();
        return;
      }
      pair.data = s;
      void this.forward(t, port, s, () => pairs.get(requestId)?.error, active).finally(() => {
        pair.error?.end();
        pairs.delete(requestId);
      });
    });
  }

  private async forward(
    t: PodTarget,
    port: number,
    data: SpdyStream,
    errorStream: () => SpdyStream | undefined,
    active: Set<Duplex>,
  ): Promise<void> {
    const report = (msg: string) => {
      const e = errorStream();
      if (e && !e.writableEnded) e.write(msg);
    };
    let stream: Duplex;
    try {
      stream = await this.deps.mux.open(t.node, "portforward", { podUid: t.podUid, pod: t.pod, port });
    } catch (err) {
      report(`error forwarding port ${port} to pod ${t.podUid}: ${openErrorToApi(err).message}`);
      data.end();
      return;
    }
    active.add(stream);
    data.pipe(stream);
    stream.pipe(data);
    await new Promise<void>((resolve) => {
      stream.once("error", (err) => {
        report(err.message);
        data.end();
        resolve();
      });
      stream.once("close", resolve);
      data.once("close", () => {
        if (!stream.readableEnded) stream.destroy();
        resolve();
      });
    });
    active.delete(stream);
  }
}
