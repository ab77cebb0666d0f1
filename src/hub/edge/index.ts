/**
 * The hub's end of the edge link: join endpoints, node registration, per-node desired sets,
 * status intake and heartbeat coalescing (docs/sync-protocol.md).
 */
export {
  BOOTSTRAP_NAMESPACE,
  BOOTSTRAP_PREFIX,
  BOOTSTRAP_TOKEN_TYPE,
  type BootstrapToken,
  bootstrapSecretName,
  bootstrapTokenSecret,
  checkBootstrapToken,
  readBootstrapSecret,
} from "./bootstrap-token.js";
export { DesiredIndex, type DesiredIndexOptions } from "./desired-index.js";
export { podReferences, syncKey } from "./desired-refs.js";
export { CLUSTER_DNS, CLUSTER_DOMAIN, EdgeService, type EdgeServiceOptions } from "./edge-service.js";
export { LEASE_NAMESPACE, LINK_LOST_MESSAGE, NodeHeartbeats } from "./heartbeats.js";
export { JoinHandler } from "./join-handler.js";
export { registerNode } from "./node-registration.js";
export { StatusWriter } from "./status-writer.js";
