/**
 * One connection attempt of the edge link: from the URL and credentials to an mqtt.js client
 * that has sent CONNECT (CONNACK pending), plus the TLS socket under it. EdgeLink (client.ts)
 * and its LinkSession (link-session.ts) own what happens next.
 *
 * Design notes
 * - Both transports dial TCP themselves, with the short connect timeout of dialer.ts, so a SYN
 *   lost in a black hole fails fast as "unreachable" on either; TLS then runs over that socket,
 *   and mqtt.js gets the resulting stream through its stream-builder constructor. mqtt.js'
 *   connectTimeout therefore covers only what follows TCP (TLS, the WebSocket upgrade,
 *   CONNACK): the part where the hub answered.
 * - mqtts: the stream is the TLS socket.
 * - wss (MQTT over WebSocket on the hub's HTTPS port, path /mqtt, for networks that pass only
 *   HTTPS): `ws` runs the upgrade over our TLS socket (its `createConnection` option hands it
 *   the socket instead of letting it dial), with the "mqtt" subprotocol mqtt.js would offer;
 *   the stream is `ws`'s duplex over the WebSocket. Before, mqtt.js dialed through `ws` itself
 *   and a black hole showed as a 30 s CONNACK timeout, read as "answered" (backoff). `ws` is
 *   imported on the first wss attempt only (ws-loader.ts): mqtts agents never load it. No
 *   permessage-deflate: the hub does not negotiate it, and offering it would load zlib.
 *   A failed upgrade (the hub answered 403 or 503) gets a message naming the URL and a code, so
 *   mqtt.js reports it instead of a bare close.
 * - Either way the TLS socket is ours, so session tickets are captured and offered on both.
 * - The client verifies the hub against the cluster CA (rejectUnauthorized) and offers the TLS
 *   session ticket of the last connection, if any.
 * - mqtt.js' own reconnect is off (reconnectPeriod 0): every attempt is a new client.
 * - CPU per reconnect (a Pi Zero-class core is ≈10× slower than bench/sync's): the TLS socket's
 *   writes of one event-loop turn leave as one record (write-coalescer.ts), mqtt.js gets a
 *   no-op logger, and the last-will envelope is built only once TCP connected.
 */
import { isIP, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { type SecureContext, type TLSSocket, connect as tlsConnect } from "node:tls";
import { type IClientOptions, MqttClient } from "mqtt";
import { type Dialer, dialWithTimeout, netDialer, TCP_CONNECT_TIMEOUT_MS } from "./dialer.js";
import { encodeEnvelope, envelope } from "./envelope.js";
import { presenceTopic } from "./topics.js";
import { coalesceWrites } from "./write-coalescer.js";
import { loadWs, type WsModule } from "./ws-loader.js";

/**
 * mqtt.js' logger: without one, every client makes its own `debug` instance (matching the
 * DEBUG patterns again) and formats ≈ 30 debug calls per connect; a no-op made client creation
 * 3× cheaper. mqtt.js' own debug output is therefore off (only src/cmd reads the environment);
 * the link logs its own connects, failures and reconnect decisions (client.ts).
 */
const mqttLog: IClientOptions["log"] = () => {};

/** Where and as whom a link connects: shared by EdgeLinkOptions (client.ts) and one attempt. */
export interface LinkEndpoint {
  /** mqtts://host:8883 or wss://host:6443/mqtt */
  url: string;
  node: string;
  /** cluster CA (PEM) the hub's certificate must chain to */
  ca: string;
  /** node client certificate and key (PEM), or username/password */
  cert?: string;
  key?: string;
  username?: string;
  password?: string;
  keepaliveSeconds?: number;
  /** source address to connect from (a device with several uplinks; the sync benchmark uses it) */
  localAddress?: string;
  /** the TCP connect alone (default 3.5 s, dialer.ts) */
  tcpConnectTimeoutMs?: number;
  /** TLS handshake through CONNACK (default 30 s, see client.ts's design notes) */
  connectTimeoutMs?: number;
  /** how TCP connections are made (default node:net; bench/sync models partitions) */
  dial?: Dialer;
  /**
   * A SecureContext made once from ca, cert and key (tls.createSecureContext), used for every
   * attempt instead of them: without it each attempt parses the CA and the key again (≈1 ms of
   * CPU here, more on a Pi), and bench/sync's agents would measure that instead of the hub.
   */
  secureContext?: SecureContext;
}

export interface ConnectParams extends LinkEndpoint {
  /** TLS session ticket to offer */
  session?: Buffer;
}

/** One attempt under way: the mqtt.js client and the TLS socket it runs over. */
export interface OpenedLink {
  client: MqttClient;
  tls: TLSSocket;
  /** how long the TCP connect took (ms): ReconnectPolicy sizes short probe dials from it */
  tcpMs: number;
}

/**
 * Starts one attempt. Resolves once CONNECT is on its way (after the TCP connect); rejects
 * when the TCP connect fails or times out, or when `cancel` aborts it.
 */
export async function openMqttClient(p: ConnectParams, cancel: AbortSignal): Promise<OpenedLink> {
  const url = new URL(p.url);
  const wss = url.protocol === "wss:";
  if (!wss && url.protocol !== "mqtts:") {
    throw new Error(`edge link URL "${p.url}" must start with mqtts:// or wss:// (TLS is required)`);
  }
  // load `ws` before dialing: a dial is not left waiting on a module import
  const ws = wss ? await loadWs() : undefined;
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const target = {
    host,
    port: url.port ? Number(url.port) : wss ? 443 : 8883,
    ...(p.localAddress ? { localAddress: p.localAddress } : {}),
  };
  const dialStart = performance.now();
  const tcp: Socket = await dialWithTimeout(
    p.dial ?? netDialer,
    target,
    p.tcpConnectTimeoutMs ?? TCP_CONNECT_TIMEOUT_MS,
    cancel,
  );
  const tcpMs = performance.now() - dialStart;
  // Nagle + delayed ACKs add ~40 ms per direction to small messages (interactive exec)
  tcp.setNoDelay(true);
  // one TLS record and one send() per event-loop turn, not per packet (write-coalescer.ts)
  const tls = coalesceWrites(
    tlsConnect({
      socket: tcp,
      ...(isIP(host) === 0 ? { servername: host } : {}),
      rejectUnauthorized: true,
      ...(p.secureContext
        ? { secureContext: p.secureContext }
        : { ca: p.ca, ...(p.cert && p.key ? { cert: p.cert, key: p.key } : {}) }),
      ...(p.session ? { session: p.session } : {}),
    }),
  );
  // made once TCP is up: an unanswered probe (every 0.5–2 s of an outage) builds none of it
  const will = encodeEnvelope(envelope({ type: "presence", online: false }));
  const options: IClientOptions = {
    clientId: p.node,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    resubscribe: false,
    // mqtt-packet otherwise pre-builds a 65,536-entry number→Buffer cache on the first write:
    // ≈11 MiB of RSS for a few nanoseconds per packet (issue 5, agent idle RSS < 60 MB).
    // The switch is process-wide (mqtt-packet module state), which is what we want.
    writeCache: false,
    keepalive: p.keepaliveSeconds ?? 30,
    connectTimeout: p.connectTimeoutMs ?? 30_000,
    will: { topic: presenceTopic(p.node), payload: will, qos: 1, retain: false },
    ...(p.username !== undefined ? { username: p.username } : {}),
    ...(p.password !== undefined ? { password: p.password } : {}),
    ...(mqttLog ? { log: mqttLog } : {}),
  };
  const stream = ws ? webSocketOver(ws, tls, url) : tls;
  return { client: new MqttClient(() => stream, options), tls, tcpMs };
}

/** The WebSocket upgrade to `url` over an established TLS socket, as a byte stream. */
function webSocketOver(ws: WsModule, tls: TLSSocket, url: URL): Duplex {
  const socket = new ws.WebSocket(url, ["mqtt"], {
    createConnection: () => tls,
    perMessageDeflate: false,
  });
  // before createWebSocketStream's own listener: the duplex is destroyed with this same error
  socket.once("error", (err: Error & { code?: unknown }) => {
    if (err.code !== undefined) return;
    err.message =
      `MQTT over WebSocket to ${url.href} failed: ${err.message}; check the URL (the hub serves ` +
      "it at wss://HUB:6443/mqtt) and the node's credentials";
    err.code = "EWSUPGRADE";
  });
  const stream = ws.createWebSocketStream(socket);
  // `ws` only ends the readable side on close; mqtt.js waits for the stream's close
  socket.on("close", () => stream.destroy());
  return stream;
}
