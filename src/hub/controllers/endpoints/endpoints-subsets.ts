/**
 * Desired core/v1 Endpoints for a Service with a selector (upstream endpoints controller
 * syncService + RepackSubsets), as a pure function of the Service and its pods.
 *
 * Design notes
 * - Each pod contributes one address per distinct set of resolved ports; addresses sharing a
 *   port set are packed into one subset (named targetPorts may resolve differently per pod).
 * - Ready pods (or every pod under publishNotReadyAddresses) go to `addresses`, the others to
 *   `notReadyAddresses`; terminating pods are left out unless publishNotReadyAddresses.
 * - Sorting addresses by IP and subsets by their port set makes the output a pure function of
 *   the inputs, so "changes only what differs" is a deep comparison.
 * - More than 1000 addresses are truncated with `endpoints.kubernetes.io/over-capacity:
 *   truncated`, as upstream does (EndpointSlices carry the full set).
 */
import type { KubeObject } from "../../../api/object.js";
import {
  compareIPs,
  type EndpointPort,
  podHostname,
  podIPFor,
  podIsReady,
  podNodeName,
  podPorts,
  portsKey,
  selectsPod,
  serviceSpec,
  shouldPodBeInEndpoints,
  targetRef,
} from "./pod-endpoints.js";

export const MAX_ENDPOINT_ADDRESSES = 1000;
export const OVER_CAPACITY_ANNOTATION = "endpoints.kubernetes.io/over-capacity";
export const HEADLESS_LABEL = "service.kubernetes.io/headless";

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef: Record<string, string>;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

function sortPorts(ports: EndpointPort[]): EndpointPort[] {
  return [...ports].sort((a, b) => a.name.localeCompare(b.name) || a.port - b.port);
}

/** subsets for a service from all pods in its namespace (unselected pods are ignored) */
export function desiredSubsets(svc: KubeObject, pods: readonly KubeObject[]): EndpointSubset[] {
  const spec = serviceSpec(svc);
  const publishNotReady = spec.publishNotReadyAddresses === true;
  const family = spec.ipFamilies?.[0] === "IPv6" ? "IPv6" : "IPv4";
  const hasPorts = (spec.ports ?? []).length > 0;
  const bySet = new Map<
    string,
    { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }
  >();
  for (const pod of pods) {
    if (!selectsPod(svc, pod) || !shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const ip = podIPFor(pod, family);
    if (!ip) continue;
    const ports = sortPorts(podPorts(svc, pod));
    // a service with ports but none resolvable on this pod gets no address for it
    if (hasPorts && ports.length === 0) continue;
    const hostname = podHostname(svc, pod);
    const nodeName = podNodeName(pod);
    const addr: EndpointAddress = {
      ip,
      ...(hostname ? { hostname } : {}),
      ...(nodeName ? { nodeName } : {}),
      targetRef: targetRef(pod),
    };
    const key = portsKey(ports);
    let set = bySet.get(key);
    if (!set) {
      set = { ports, ready: [], notReady: [] };
      bySet.set(key, set);
    }
    if (publishNotReady || podIsReady(pod)) set.ready.push(addr);
    else set.notReady.push(addr);
  }
  const keys = [...bySet.keys()].sort();
  const out: EndpointSubset[] = [];
  for (const k of keys) {
    const s = bySet.get(k)!;
    const byIP = (a: EndpointAddress, b: EndpointAddress) => compareIPs(a.ip, b.ip);
    out.push({
      ...(s.ready.length > 0 ? { addresses: s.ready.sort(byIP) } : {}),
      ...(s.notReady.length > 0 ? { notReadyAddresses: s.notReady.sort(byIP) } : {}),
      ...(s.ports.length > 0 ? { ports: s.ports } : {}),
    });
  }
  return out;
}

/** Cap the total address count, ready addresses first, as upstream's capacity limit does. */
export function truncateSubsets(subsets: EndpointSubset[]): {
  subsets: EndpointSubset[];
  truncated: boolean;
} {
  const total = subsets.reduce(
    (n, s) => n + (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0),
    0,
  );
  if (total <= MAX_ENDPOINT_ADDRESSES) return { subsets, truncated: false };
  let budget = MAX_ENDPOINT_ADDRESSES;
  const ready = subsets.map((s) => {
    const a = (s.addresses ?? []).slice(0, budget);
    budget -= a.length;
    return a;
  });
  const out = subsets.map((s, i) => {
    const nr = (s.notReadyAddresses ?? []).slice(0, budget);
    budget -= nr.length;
    const a = ready[i] ?? [];
    return {
      ...(a.length > 0 ? { addresses: a } : {}),
      ...(nr.length > 0 ? { notReadyAddresses: nr } : {}),
      ...(s.ports ? { ports: s.ports } : {}),
    };
  });
  return { subsets: out.filter((s) => s.addresses || s.notReadyAddresses), truncated: true };
}

/** Labels an Endpoints object carries: the Service's, plus the headless marker. */
export function endpointsLabels(svc: KubeObject): Record<string, string> {
  const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
  if (serviceSpec(svc).clusterIP === "None") labels[HEADLESS_LABEL] = "";
  else delete labels[HEADLESS_LABEL];
  return labels;
}

/** The full desired Endpoints object for a service (name and namespace of the service). */
export function desiredEndpoints(svc: KubeObject, pods: readonly KubeObject[]): KubeObject {
  const { subsets, truncated } = truncateSubsets(desiredSubsets(svc, pods));
  return {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: {
      name: svc.metadata.name,
      namespace: svc.metadata.namespace,
      labels: endpointsLabels(svc),
      ...(truncated ? { annotations: { [OVER_CAPACITY_ANNOTATION]: "truncated" } } : {}),
    },
    ...(subsets.length > 0 ? { subsets } : {}),
  };
}
