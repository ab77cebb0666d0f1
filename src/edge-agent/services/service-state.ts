/**
 * The agent's services input: the cached Services, EndpointSlices and this node's Pods, seen
 * through what the agent itself knows about its running pods (LocalPods).
 *
 * Design notes
 * - ServicesCache is the small read-only slice of the agent's cache that the proxy and DNS
 *   need; EdgeAgent provides it in production (fromAgent), tests pass a plain object.
 * - `revision()` counts relevant cache changes plus LocalPods changes, so DNS rebuilds its
 *   index exactly when an answer could change, and never per query.
 */
import type { Node, Pod, Service } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import type { DnsSource } from "../../dns/index.js";
import type { ServiceState } from "../../lb/index.js";
import type { EdgeAgent } from "../agent.js";
import { R } from "../cache/keys.js";
import type { LocalPods } from "./local-pods.js";

export interface ServicesCache {
  services(): Service[];
  endpointSlices(): EndpointSlice[];
  /** pods bound to this node */
  pods(): Pod[];
  /** every Node (address-pool election) */
  nodes(): Node[];
  /** called after a change of any of the above; returns an unsubscribe */
  onChange(cb: () => void): () => void;
}

const RELEVANT = new Set<string>([R.services, R.endpointSlices, R.pods, R.nodes]);

/** The agent's cache as a ServicesCache (changes of other kinds do not wake the proxy). */
export function servicesCacheOf(agent: EdgeAgent): ServicesCache {
  const c = agent.cache;
  return {
    services: () => c.services(),
    endpointSlices: () => c.endpointSlices(),
    pods: () => c.pods(),
    nodes: () => c.nodes(),
    onChange: (cb) =>
      agent.onCacheChange((changes) => {
        if (changes.some((x) => RELEVANT.has(x.resource))) cb();
      }),
  };
}

export interface NodeFacts {
  nodeName: string;
  /** addresses NodePort and klipper LoadBalancer traffic arrives on */
  nodeIPs: readonly string[];
  clusterCIDR: string;
}

function desiredUids(pods: readonly Pod[]): Set<string> {
  const out = new Set<string>();
  for (const p of pods) if (p.metadata?.uid) out.add(p.metadata.uid);
  return out;
}

/** The proxy's input right now (forgets LocalPods entries of pods no longer desired). */
export function serviceStateOf(cache: ServicesCache, local: LocalPods, node: NodeFacts): ServiceState {
  const uids = desiredUids(cache.pods());
  local.retain(uids);
  return {
    services: cache.services(),
    endpointSlices: cache.endpointSlices(),
    nodeName: node.nodeName,
    nodeIPs: node.nodeIPs,
    clusterCIDR: node.clusterCIDR,
    localPodIPs: local.ips(uids),
  };
}

/** Cluster DNS's view of the cache, with a revision that also moves with LocalPods. */
export function dnsSourceOf(cache: ServicesCache, local: LocalPods): DnsSource & { dispose(): void } {
  let rev = 0;
  const off = cache.onChange(() => {
    rev++;
  });
  return {
    services: () => cache.services(),
    endpointSlices: () => cache.endpointSlices(),
    pods: () => cache.pods(),
    revision: () => `${rev}:${local.revision()}`,
    dispose: off,
  };
}
