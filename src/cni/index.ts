/**
 * The pod network (flannel-style VXLAN overlay, bridge, veth wiring, host-local IPAM,
 * masquerade). Inputs are plain typed data; see docs/overlay.md.
 */
export { CommandError, type Exec, type ExecOptions, type ExecResult, hostExec, netnsExec } from "./exec.js";
export { FlowSteering, type FlowSteeringDeps, inFreshSysfs, rpsMask } from "./flow-steering.js";
export { HostLocalIpam, IpamExhaustedError, type Lease } from "./ipam.js";
export {
  type Addr,
  type FdbEntry,
  IpRoute,
  isNotFound,
  type Link,
  type Neigh,
  type Route,
  VxlanUnsupportedError,
} from "./iproute.js";
export {
  IPT_FWD_CHAIN,
  IPT_NAT_CHAIN,
  Masquerade,
  type MasqueradeBackend,
  type MasqueradeMode,
  NFT_TABLE,
} from "./masquerade.js";
export {
  ANNOTATION_BACKEND_DATA,
  ANNOTATION_BACKEND_TYPE,
  ANNOTATION_KUBE_SUBNET_MANAGER,
  ANNOTATION_PUBLIC_IP,
  type NodeSetup,
  type OverlayConfig,
  OverlayError,
  type PeerReconcileResult,
  VxlanOverlay,
} from "./overlay.js";
export { desiredEntries, type Peer, type PeerPlan, planPeers, type RejectedPeer } from "./peers.js";
export {
  hostVethName,
  isOurHostVeth,
  PodNetwork,
  type PodNetworkDeps,
  type WiredPod,
  type WirePodRequest,
} from "./pod-network.js";
export { type ResetOptions, type ResetReport, resetOverlay } from "./reset.js";
export { macFromIp, parseSubnet, SubnetError } from "./subnet.js";
