/**
 * One connection attempt of the edge link: from the URL and credentials to an mqtt.js client
 * that has sent CONNECT (CONNACK pending). EdgeLink (client.ts) owns what happens next.
 *
 * Design notes
 * - mqtts: the TCP connect is ours, with its own short timeout (dialer.ts), so a SYN lost in a
 *   black hole fails fast as "unreachable"; TLS then runs over that socket and mqtt.js gets the
 *   TLS stream through its stream-builder constructor. mqtt.js' connectTimeout therefore covers
 *   only TLS + CONNACK: the part where the hub answered.
 * - wss: mqtt.js dials through `ws` (it hands unknown options such as localAddress through to
 *   tls.connect); a black hole there shows as a CONNACK timeout.
 * - The client verifies the hub against the cluster CA (rejectUnauthorized) and offers the TLS
 *   session ticket of the last connection, if any.
 * - mqtt.js' own reconnect is off (reconnectPeriod 0): every attempt is a new client.
 */
import { isIP, type Socket } from "node:net";
import { type SecureContext, connect as tlsConnect } from "node:tls";
import { type IClientOptions, MqttClient, connect as mqttConnect } from "mqtt";
import { type Dialer, dialWithTimeout, netDialer, TCP_CONNECT_TIMEOUT_MS } from "./dialer.js";
import { encodeEnvelope, envelope } from "./envelope.js";
import { presenceTopic } from "./topics.js";

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
  /** mqtts: the TCP connect alone (default 3.5 s, dialer.ts) */
  tcpConnectTimeoutMs?: number;
  /** TLS handshake through CONNACK (default 30 s, see client.ts's design notes) */
  connectTimeoutMs?: number;
  /** mqtts: how TCP connections are made (default node:net; bench/sync models partitions) */
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

/**
 * Starts one attempt. Resolves once CONNECT is on its way (mqtts: after the TCP connect);
 * rejects when the TCP connect fails or times out, or when `cancel` aborts it.
 */
export async function openMqttClient(p: ConnectParams, cancel: AbortSignal): Promise<MqttClient> {
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
  };
  const tls = {
    rejectUnauthorized: true,
    ...(p.secureContext
      ? { secureContext: p.secureContext }
      : { ca: p.ca, ...(p.cert && p.key ? { cert: p.cert, key: p.key } : {}) }),
    ...(p.session ? { session: p.session } : {}),
  };
  const url = new URL(p.url);
  if (url.protocol !== "mqtts:") {
    return mqttConnect(p.url, {
      ...options,
      ...tls,
      ...(p.localAddress ? ({ localAddress: p.localAddress } as IClientOptions) : {}),
    });
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const target = {
    host,
    port: url.port ? Number(url.port) : 8883,
    ...(p.localAddress ? { localAddress: p.localAddress } : {}),
  };
  const tcp: Socket = await dialWithTimeout(
    p.dial ?? netDialer,
    target,
    p.tcpConnectTimeoutMs ?? TCP_CONNECT_TIMEOUT_MS,
    cancel,
  );
  // Nagle + delayed ACKs add ~40 ms per direction to small messages (interactive exec)
  tcp.setNoDelay(true);
  const stream = tlsConnect({ socket: tcp, ...(isIP(host) === 0 ? { servername: host } : {}), ...tls });
  return new MqttClient(() => stream, options);
}
