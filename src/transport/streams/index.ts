/**
 * Multiplexed byte streams over the edge link (docs/streams.md): the hub opens streams with
 * StreamMux, the agent serves them with StreamServer; MuxStream is the Duplex both ends use.
 */
export * from "./channels.js";
export {
  parseFrame,
  RemoteStreamError,
  STREAM_KINDS,
  STREAM_TOPIC,
  type StreamErrorInfo,
  type StreamFrame,
  type StreamKind,
  StreamProtocolError,
} from "./frames.js";
export {
  DEFAULT_CHUNK,
  DEFAULT_WINDOW,
  HUB_WINDOW,
  type HubStreamChannel,
  StreamMux,
  type StreamMuxOptions,
  StreamOpenError,
} from "./hub-mux.js";
export {
  METRICS_FRAME,
  METRICS_STREAM_ID,
  type MetricsReport,
  type PodUsage,
  parseMetricsReport,
  type Usage,
} from "./metrics-report.js";
export { MuxStream, type MuxStreamOptions } from "./mux-stream.js";
export {
  type AgentStreamChannel,
  errorInfo,
  type StreamHandler,
  type StreamRequest,
  StreamRequestError,
  StreamServer,
  type StreamServerOptions,
} from "./stream-server.js";
