/** Services on an edge agent: the service proxy and cluster DNS fed by the agent's cache. */
export {
  DNS_LINK,
  DNS_LO_LABEL,
  ensureDnsAddress,
  removeDnsAddress,
  upstreamsFromResolvConf,
} from "./dns-address.js";
export { announce, electedAddresses, LB_LO_LABEL, labelledLoAddresses } from "./lb-announce.js";
export { endpointLiveness, LocalPods, type RuntimePodView, runningAtStart } from "./local-pods.js";
export { NodeServices, type NodeServicesOptions, resetNodeServices } from "./node-services.js";
export {
  dnsSourceOf,
  type NodeFacts,
  type ServicesCache,
  serviceStateOf,
  servicesCacheOf,
} from "./service-state.js";
