/**
 * The hub's configuration, as src/cmd/edge-hub.ts builds it from flags (and tests build it
 * directly). Defaults live where each value is used; absent means "the default".
 */
import type { AddressPool } from "../lb/index.js";
import type { Logger } from "../lib/logger.js";
import type { ObjectStore } from "./apiserver/object-store.js";
import type { ResourceRegistry } from "./apiserver/registry.js";
import type { RouterExtensions } from "./apiserver/router.js";
import type { ExtraApi, ResourceUpgradeHandler } from "./apiserver/server.js";
import type { PresetJoinToken } from "./edge/preset-token.js";

export interface HubConfig {
  dataDir: string;
  bindAddress: string;
  httpsPort: number;
  /** address written into admin.kubeconfig (defaults to 127.0.0.1 or the bind address) */
  advertiseAddress?: string;
  tlsSans: string[];
  serviceCIDR: string;
  clusterCIDR: string;
  nodePortRange: [number, number];
  /** watch bookmarks for clients that allow them (default 60 s) */
  bookmarkIntervalMs?: number;
  /** store compaction and checkpoint period (default 30 s) */
  compactionIntervalMs?: number;
  /** MQTT over TLS for edge agents (default 8883; 0 = a free port, for tests) */
  mqttPort?: number;
  /** address the MQTT listener binds (default: bindAddress) */
  mqttBindAddress?: string;
  /** how often coalesced node leases are written to the store (default 15 s) */
  leaseFlushIntervalMs?: number;
  /** how often an unchanged node status is rewritten (default 5 min) */
  nodeStatusRefreshMs?: number;
  logger: Logger;
  /**
   * requests without credentials act as system:anonymous (group system:unauthenticated), as
   * upstream's --anonymous-auth (default true); false = they get 401
   */
  anonymousAuth?: boolean;
  /** lease age after which a node turns Ready=Unknown (default 40 s) */
  nodeMonitorGracePeriodSeconds?: number;
  /** opt-in: delete pods of unreachable nodes after this many seconds (default: never) */
  podEvictionTimeoutSeconds?: number;
  /**
   * Extra API endpoints built once the store exists: pod streams (log/exec/attach/portforward,
   * src/hub/streams) and metrics.k8s.io (src/hub/metrics).
   */
  apiExtensions?: (ctx: { store: ObjectStore; registry: ResourceRegistry }) => ApiExtensions;
  /**
   * LoadBalancer address pools (MetalLB semantics, `metallb.io/allow-shared-ip` sharing); when
   * absent or empty, LoadBalancer services get the addresses of the nodes serving them (klipper)
   */
  loadBalancerPools?: AddressPool[];
  /**
   * `--join-token-file`: the bootstrap token it names is made valid at every start (null = the
   * file holds none: earlier preset tokens are deleted); absent = preset tokens are left alone
   */
  presetJoinToken?: PresetJoinToken | null;
}

export interface ApiExtensions {
  subresources?: RouterExtensions["subresources"];
  onResourceUpgrade?: ResourceUpgradeHandler;
  extraApis?: ExtraApi[];
}
