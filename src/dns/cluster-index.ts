/**
 * ClusterIndex: the agent's cached Services, EndpointSlices and Pods arranged for DNS lookups.
 *
 * Design notes
 * - Built once per source revision (not per query): a query is then a few Map lookups, which is
 *   what keeps one server above 10,000 queries/s on a Pi-class core.
 * - Which endpoints are served: ready ones (all of them when the service sets
 *   publishNotReadyAddresses), and only if `isEndpointLive(ep, slice)` agrees. The agent plugs its
 *   knowledge in there: after an offline reboot its cached EndpointSlices still list pods that are
 *   not running (on this node it asks the runtime; for other nodes it can use node readiness), and
 *   answering with those addresses is the stale-DNS failure other edge distributions show.
 * - Endpoint names: the endpoint's hostname when set (StatefulSet pods), else the dashed IP.
 */
import type { Pod, Service } from "kubernetes-types/core/v1";
import type { Endpoint, EndpointSlice } from "kubernetes-types/discovery/v1";

export interface DnsSource {
  services(): readonly Service[];
  endpointSlices(): readonly EndpointSlice[];
  /** pods known on this agent, for PTR records of pod IPs */
  pods?(): readonly Pod[];
  /** changes whenever the data above changes; without it the index is rebuilt on every query */
  revision?(): number | string;
}

/** Decides whether an endpoint's pod is really running; false hides it from DNS. */
export type EndpointLiveness = (ep: Endpoint, slice: EndpointSlice) => boolean;

export interface IndexedEndpoint {
  ip: string;
  /** hostname label, or the dashed IP */
  host: string;
  hasHostname: boolean;
  /** port name → { port, protocol } from the slice */
  ports: Map<string, { port: number; protocol: string }>;
}

export interface IndexedService {
  service: Service;
  name: string;
  namespace: string;
  headless: boolean;
  endpoints: IndexedEndpoint[];
}

export interface ClusterIndex {
  /** "name.namespace" → service */
  services: Map<string, IndexedService>;
  namespaces: Set<string>;
  /** IP → PTR target (without trailing dot) */
  ptr: Map<string, string>;
}

const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

export function buildIndex(
  source: DnsSource,
  zone: string,
  isEndpointLive: EndpointLiveness = () => true,
): ClusterIndex {
  const services = new Map<string, IndexedService>();
  const namespaces = new Set<string>();
  const ptr = new Map<string, string>();
  for (const pod of source.pods?.() ?? []) {
    const ip = pod.status?.podIP;
    const ns = pod.metadata?.namespace ?? "default";
    if (ip && !pod.spec?.hostNetwork) ptr.set(ip, `${ip.replaceAll(".", "-")}.${ns}.pod.${zone}`);
  }
  for (const svc of source.services()) {
    const name = svc.metadata?.name;
    const namespace = svc.metadata?.namespace ?? "default";
    if (!name) continue;
    namespaces.add(namespace);
    const headless = svc.spec?.clusterIP === "None";
    services.set(`${name}.${namespace}`, { service: svc, name, namespace, headless, endpoints: [] });
    const ip = svc.spec?.clusterIP;
    if (ip && !headless) ptr.set(ip, `${name}.${namespace}.svc.${zone}`);
  }
  for (const slice of source.endpointSlices()) {
    const svcName = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
    const namespace = slice.metadata?.namespace ?? "default";
    const entry = svcName ? services.get(`${svcName}.${namespace}`) : undefined;
    if (!entry || slice.addressType !== "IPv4") continue;
    const publishNotReady = entry.service.spec?.publishNotReadyAddresses === true;
    const ports = new Map<string, { port: number; protocol: string }>();
    for (const p of slice.ports ?? []) {
      if (p.port !== undefined) ports.set(p.name ?? "", { port: p.port, protocol: p.protocol ?? "TCP" });
    }
    for (const ep of slice.endpoints ?? []) {
      const ready = ep.conditions?.ready ?? true;
      if (!ready && !publishNotReady) continue;
      if (!isEndpointLive(ep, slice)) continue;
      for (const ip of ep.addresses) {
        if (entry.endpoints.some((e) => e.ip === ip)) continue;
        const host = ep.hostname ?? ip.replaceAll(".", "-");
        entry.endpoints.push({ ip, host, hasHostname: ep.hostname !== undefined, ports });
        if (entry.headless) ptr.set(ip, `${host}.${entry.name}.${namespace}.svc.${zone}`);
      }
    }
  }
  return { services, namespaces, ptr };
}
