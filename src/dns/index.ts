/**
 * Cluster DNS for edge agents (dns2): service, endpoint, SRV, PTR and ExternalName answers from
 * the agent's cache, everything else forwarded with a cache. See docs/services.md.
 */
export {
  type Answer,
  type AnswerOptions,
  answerQuestion,
  type DnsRecord,
  type RecordType,
} from "./answer.js";
export { ClusterDns, type ClusterDnsConfig, type ClusterDnsDeps } from "./cluster-dns.js";
export {
  buildIndex,
  type ClusterIndex,
  type DnsSource,
  type EndpointLiveness,
  type IndexedEndpoint,
  type IndexedService,
} from "./cluster-index.js";
export {
  type Forwarded,
  Forwarder,
  type ForwarderOptions,
  type Upstream,
  UpstreamError,
  type UpstreamQuery,
  type WireRecord,
} from "./forwarder.js";
export { type ClusterName, dashIp, normalizeName, parseName, reverseName, undashIp } from "./names.js";
