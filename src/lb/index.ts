/**
 * Service proxy for edge agents (ClusterIP, NodePort, LoadBalancer on nftables) and the pure
 * LoadBalancer allocation helpers the hub uses. See docs/services.md.
 */
export {
  type AddressPool,
  IPS_ANNOTATION,
  POOL_ANNOTATION,
  type PoolDecision,
  poolAllocate,
  SHARED_IP_ANNOTATION,
  sharingConflict,
} from "./address-pool.js";
export {
  type EndpointSelection,
  isReady,
  isServing,
  isTerminating,
  SERVICE_NAME_LABEL,
  selectEndpoints,
  slicesByService,
} from "./endpoints.js";
export {
  type HealthCheckReply,
  type HealthCheckTarget,
  healthCheckReply,
  healthCheckTargets,
} from "./health-check.js";
export { ServiceHealthServer, type ServiceHealthServerOptions } from "./health-server.js";
export {
  ENABLE_LB_LABEL,
  eligibleNodes,
  type KlipperDecision,
  klipperAssign,
  klipperIngress,
  LB_POOL_LABEL,
  type LbIngress,
} from "./klipper.js";
export {
  LbApplyError,
  LbUnavailableError,
  NftProxier,
  type NftProxierDeps,
  type SyncResult,
} from "./nft-proxier.js";
export {
  diffScript,
  fullScript,
  LB_TABLE,
  MASQ_MARK,
  type NftElement,
  type NftServiceRules,
  nftServiceRules,
  nftSkeleton,
  renderAll,
} from "./nft-rules.js";
export { DEFAULT_AFFINITY_TIMEOUT, planServices, shortHash } from "./planner.js";
export type { EndpointTarget, L4Protocol, LbPlan, ServicePortPlan, ServiceState } from "./types.js";
