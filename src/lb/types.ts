/**
 * Inputs and outputs of the service proxy (src/lb).
 *
 * Design notes
 * - The input is plain data the agent already holds in its cache: Services and EndpointSlices in
 *   their Kubernetes JSON shapes, plus facts about this node. Nothing here talks to the hub, so the
 *   proxy works the same online, offline and right after an offline reboot.
 * - The planner turns the input into a backend-neutral plan (one entry per service port); the
 *   nftables renderer turns each entry into chains, rules and map elements. Keeping the plan
 *   neutral is what lets an iptables backend be added without touching the policy logic.
 */
import type { Service } from "kubernetes-types/core/v1";
import type { Endpoint, EndpointSlice } from "kubernetes-types/discovery/v1";

export type { Endpoint, EndpointSlice, Service };

export interface ServiceState {
  services: readonly Service[];
  endpointSlices: readonly EndpointSlice[];
  /** this node's name, compared with EndpointSlice `endpoints[].nodeName` */
  nodeName: string;
  /** this node's addresses (InternalIP/ExternalIP): NodePort and klipper-style LoadBalancer targets */
  nodeIPs: readonly string[];
  /** pod network, e.g. 10.42.0.0/16: traffic from outside it to a ClusterIP is masqueraded */
  clusterCIDR: string;
  /**
   * IPs of pods actually running on this node (from the runtime). When given, an endpoint that
   * claims this node but whose IP is not here is stale (an EndpointSlice cached before an offline
   * reboot) and is not used; an endpoint whose IP is here counts as local whatever its nodeName.
   */
  localPodIPs?: ReadonlySet<string>;
}

export type L4Protocol = "tcp" | "udp" | "sctp";

/** One backend of one service port, after readiness filtering and port resolution. */
export interface EndpointTarget {
  ip: string;
  port: number;
  local: boolean;
  /** nft chain that DNATs to this endpoint */
  chain: string;
  /** nft set of client addresses stuck to this endpoint (sessionAffinity ClientIP only) */
  affinitySet?: string;
}

/** Everything the proxy does for one port of one Service. */
export interface ServicePortPlan {
  /** "namespace/name/protocol/portName" (portName "p<port>" when the port has no name) */
  id: string;
  namespace: string;
  name: string;
  protocol: L4Protocol;
  clusterIP: string;
  port: number;
  nodePort?: number;
  /** LoadBalancer ingress IPs (status.loadBalancer.ingress) and spec.externalIPs */
  externalIPs: string[];
  /** endpoints for cluster-wide balancing (ready, else serving+terminating as kube-proxy does) */
  clusterEndpoints: EndpointTarget[];
  /** the subset on this node */
  localEndpoints: EndpointTarget[];
  internalPolicyLocal: boolean;
  externalPolicyLocal: boolean;
  /** sessionAffinity ClientIP timeout, when set */
  affinityTimeoutSeconds?: number;
  chains: {
    /** balances over clusterEndpoints */
    cluster: string;
    /** balances over localEndpoints (only when a traffic policy is Local) */
    local?: string;
    /** entry for NodePort / LoadBalancer / external IP traffic */
    external?: string;
  };
}

export interface LbPlan {
  clusterCIDR: string;
  ports: ServicePortPlan[];
  /** problems with individual services, which are skipped rather than failing the whole plan */
  warnings: string[];
}
