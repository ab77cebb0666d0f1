/**
 * The edge link: MQTT topics, versioned envelopes, the hub's embedded broker, the agent's client,
 * the agent's status outbox, and the sync protocol on both ends (docs/sync-protocol.md).
 *
 * Hub wiring:   broker = new MqttBroker({...}); await broker.start(signal);
 *               sync = new SyncHub({ channel: broker, source, status }); await sync.start(signal);
 *               https.on("upgrade", (req, sock, head) => req.url === "/mqtt" && broker.handleWebSocket(req, sock, head));
 * Agent wiring: link = new EdgeLink({...}); outbox = new Outbox(file);
 *               agent = new SyncAgent({ node, agentVersion, channel: link, sink: cache, outbox });
 *               await link.start(signal); await agent.start(signal);
 */

export { type BrokerEvents, type EnvelopeHandler, MqttBroker, type MqttBrokerOptions } from "./broker.js";
export {
  type Authenticator,
  type CertIdentity,
  type Denial,
  NODE_CN_PREFIX,
  NODES_GROUP,
  type NodePrincipal,
  nodeFromCert,
} from "./broker-auth.js";
export {
  backoffDelay,
  EdgeLink,
  type EdgeLinkOptions,
  type LinkStatus,
  NotConnectedError,
} from "./client.js";
export {
  type Dialer,
  type DialTarget,
  dialWithTimeout,
  netDialer,
  TCP_CONNECT_TIMEOUT_MS,
  TcpConnectTimeoutError,
} from "./dialer.js";
export {
  type DesiredChange,
  type DesiredObject,
  decodeEnvelope,
  type Envelope,
  type EnvelopeBody,
  EnvelopeError,
  type EnvelopeOf,
  type EnvelopeType,
  encodeEnvelope,
  envelope,
  MAX_PACKET_BYTES,
  PROTOCOL_VERSION,
  type StatusUpdate,
} from "./envelope.js";
export { Outbox, type StatusOutbox } from "./outbox.js";
export { MalformedPacketError, PacketTooLargeError } from "./packet-guard.js";
export {
  classifyFailure,
  type FailureKind,
  PROBE_WIDEN_DEFAULTS,
  ReconnectPolicy,
  type ReconnectPolicyOptions,
} from "./reconnect-policy.js";
export { type AgentChannel, type DesiredSink, SyncAgent, type SyncAgentOptions } from "./sync-agent.js";
export { CHUNK_BUDGET_BYTES } from "./sync-chunk.js";
export {
  type DesiredSource,
  type HubChannel,
  type StatusSink,
  SyncHub,
  type SyncHubOptions,
} from "./sync-hub.js";
export {
  assertNodeName,
  downTopic,
  mayPublish,
  maySubscribe,
  nodeNameProblem,
  parseTopic,
  presenceTopic,
  SYNC_STREAM,
  TOPIC_PREFIX,
  TopicError,
  upTopic,
} from "./topics.js";
