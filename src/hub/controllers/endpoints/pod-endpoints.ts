/**
 * Which pods back a Service and how: the pure rules the Endpoints and EndpointSlice
 * controllers share (upstream pkg/controller/util/endpoint and endpointslice/util).
 *
 * Design notes
 * - A pod is considered only with a podIP; terminal pods (Succeeded, or Failed under
 *   restartPolicy Never/OnFailure) never come back, so they are dropped; terminating pods are
 *   dropped from Endpoints unless publishNotReadyAddresses, but EndpointSlices keep them
 *   (with terminating=true) so proxies can drain connections.
 * - A named targetPort resolves per pod against its containers' ports (FindPort): a pod whose
 *   containers do not declare that name gets no endpoint for that service port.
 */
import type { KubeObject } from "../../../api/object.js";
import { selectorMatches } from "../../../api/selectors.js";

export interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
  targetPort?: number | string;
  appProtocol?: string;
}

export interface ServiceSpec {
  selector?: Record<string, string>;
  ports?: ServicePort[];
  clusterIP?: string;
  type?: string;
  publishNotReadyAddresses?: boolean;
  ipFamilies?: string[];
}

interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}

interface PodView {
  spec?: {
    nodeName?: string;
    hostname?: string;
    subdomain?: string;
    restartPolicy?: string;
    containers?: { ports?: ContainerPort[] }[];
  };
  status?: {
    phase?: string;
    podIP?: string;
    podIPs?: { ip: string }[];
    conditions?: { type: string; status: string }[];
  };
}

/** The resolved port of one service port on one pod, as Endpoints and slices carry it. */
export interface EndpointPort {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

export function serviceSpec(svc: KubeObject): ServiceSpec {
  return (svc.spec ?? {}) as ServiceSpec;
}

/** Services the controllers manage: a non-empty selector, and not ExternalName. */
export function hasSelector(svc: KubeObject): boolean {
  const spec = serviceSpec(svc);
  return spec.type !== "ExternalName" && spec.selector !== undefined && Object.keys(spec.selector).length > 0;
}

export function selectsPod(svc: KubeObject, pod: KubeObject): boolean {
  if (pod.metadata.namespace !== svc.metadata.namespace) return false;
  return selectorMatches({ matchLabels: serviceSpec(svc).selector ?? {} }, pod.metadata.labels);
}

export function podIsReady(pod: KubeObject): boolean {
  const conds = (pod as PodView).status?.conditions ?? [];
  return conds.some((c) => c.type === "Ready" && c.status === "True");
}

export function podIsTerminating(pod: KubeObject): boolean {
  return pod.metadata.deletionTimestamp !== undefined;
}

/** ShouldPodBeInEndpoints */
export function shouldPodBeInEndpoints(pod: KubeObject, includeTerminating: boolean): boolean {
  const p = pod as PodView;
  if (!p.status?.podIP) return false;
  if (!includeTerminating && podIsTerminating(pod)) return false;
  const phase = p.status.phase;
  switch (p.spec?.restartPolicy) {
    case "Never":
      return phase !== "Failed" && phase !== "Succeeded";
    case "OnFailure":
      return phase !== "Succeeded";
    default:
      return true;
  }
}

/** The pod's IP of a family ("IPv4" | "IPv6"), falling back to status.podIP. */
export function podIPFor(pod: KubeObject, family: "IPv4" | "IPv6"): string | undefined {
  const st = (pod as PodView).status;
  const all = [...(st?.podIPs ?? []).map((x) => x.ip), ...(st?.podIP ? [st.podIP] : [])];
  return all.find((ip) => ip.includes(":") === (family === "IPv6"));
}

/** FindPort: a numeric targetPort as is, a named one from the pod's container ports. */
export function findPort(pod: KubeObject, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === "number") return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = sp.protocol ?? "TCP";
  for (const c of (pod as PodView).spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (p.name === target && (p.protocol ?? "TCP") === protocol) return p.containerPort;
    }
  }
  return undefined;
}

/** The resolved ports of every service port this pod can serve (unresolved ones left out). */
export function podPorts(svc: KubeObject, pod: KubeObject): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of serviceSpec(svc).ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    out.push({
      name: sp.name ?? "",
      port,
      protocol: sp.protocol ?? "TCP",
      ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}),
    });
  }
  return out;
}

export function targetRef(pod: KubeObject): Record<string, string> {
  return {
    kind: "Pod",
    namespace: pod.metadata.namespace ?? "",
    name: pod.metadata.name ?? "",
    uid: pod.metadata.uid ?? "",
  };
}

/** hostname is published only when the pod's subdomain names this service (headless DNS). */
export function podHostname(svc: KubeObject, pod: KubeObject): string | undefined {
  const spec = (pod as PodView).spec;
  if (
    spec?.hostname &&
    spec.subdomain === svc.metadata.name &&
    svc.metadata.namespace === pod.metadata.namespace
  )
    return spec.hostname;
  return undefined;
}

export function podNodeName(pod: KubeObject): string | undefined {
  return (pod as PodView).spec?.nodeName || undefined;
}

export function portsKey(ports: readonly EndpointPort[]): string {
  return JSON.stringify(
    [...ports]
      .map((p) => [p.name, p.port, p.protocol, p.appProtocol ?? ""])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0])) || Number(a[1]) - Number(b[1])),
  );
}

/** IPs sort numerically per octet so lists read naturally and stay stable. */
export function compareIPs(a: string, b: string): number {
  const pa = a.split(/[.:]/).map((x) => Number.parseInt(x, a.includes(":") ? 16 : 10) || 0);
  const pb = b.split(/[.:]/).map((x) => Number.parseInt(x, b.includes(":") ? 16 : 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
