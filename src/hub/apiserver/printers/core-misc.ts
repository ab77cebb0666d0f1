/**
 * Core v1 printers other than pods, events and volumes: namespaces, services, endpoints, nodes,
 * configmaps, secrets, serviceaccounts, resourcequotas (upstream printers.go, v1.32).
 *
 * Design notes:
 * - Server-side printing is always "wide", so the service EXTERNAL-IP is never clipped to
 *   16 characters (kubectl only clips when it prints a Table itself).
 * - Upstream prints the internal, defaulted object. Our stored objects are defaulted too, but a
 *   few defaults (service type ClusterIP, port protocol TCP, clusterIPs from clusterIP, podIPs
 *   from podIP) are repeated here so a sparse object prints the same as a defaulted one.
 */
import type {
  ConfigMap,
  Endpoints,
  Namespace,
  Node,
  ResourceQuota,
  Secret,
  Service,
  ServiceAccount,
} from "kubernetes-types/core/v1";
import { D } from "./descriptions.js";
import { formatLabels, quantity, sortedUnique } from "./format.js";
import { AGE_COLUMN, ageOf, column, NAME_COLUMN, nameOf, printer, wide } from "./printer.js";

export const namespacePrinter = printer<Namespace>(
  [NAME_COLUMN, column("Status", "string", "The status of the namespace"), AGE_COLUMN],
  (ns, now) => [nameOf(ns), ns.status?.phase ?? "", ageOf(ns, now)],
);

function loadBalancerIngress(ingress: readonly { ip?: string; hostname?: string }[] | undefined): string {
  const names: string[] = [];
  for (const i of ingress ?? []) {
    if (i.ip) names.push(i.ip);
    else if (i.hostname) names.push(i.hostname);
  }
  return sortedUnique(names).join(",");
}

function serviceExternalIP(svc: Service): string {
  const externalIPs = svc.spec?.externalIPs ?? [];
  switch (svc.spec?.type ?? "ClusterIP") {
    case "ClusterIP":
    case "NodePort":
      return externalIPs.length > 0 ? externalIPs.join(",") : "<none>";
    case "LoadBalancer": {
      const lb = loadBalancerIngress(svc.status?.loadBalancer?.ingress);
      if (externalIPs.length > 0) return [...(lb ? lb.split(",") : []), ...externalIPs].join(",");
      return lb || "<pending>";
    }
    case "ExternalName":
      return svc.spec?.externalName ?? "";
    default:
      return "<unknown>";
  }
}

function servicePorts(svc: Service): string {
  const pieces = (svc.spec?.ports ?? []).map((p) => {
    const proto = p.protocol ?? "TCP";
    return p.nodePort && p.nodePort > 0 ? `${p.port}:${p.nodePort}/${proto}` : `${p.port}/${proto}`;
  });
  return pieces.length === 0 ? "<none>" : pieces.join(",");
}

export const servicePrinter = printer<Service>(
  [
    NAME_COLUMN,
    column("Type", "string", D.serviceSpecType),
    column("Cluster-IP", "string", D.serviceSpecClusterIP),
    column("External-IP", "string", D.serviceSpecExternalIPs),
    column("Port(s)", "string", D.serviceSpecPorts),
    AGE_COLUMN,
    wide("Selector", "string", D.serviceSpecSelector),
  ],
  (svc, now) => [
    nameOf(svc),
    svc.spec?.type ?? "ClusterIP",
    svc.spec?.clusterIPs?.[0] || svc.spec?.clusterIP || "<none>",
    serviceExternalIP(svc),
    servicePorts(svc),
    ageOf(svc, now),
    formatLabels(svc.spec?.selector),
  ],
);

/** formatEndpoints(ep, nil): up to 3 "ip:port" (or bare IPs for port-less subsets) then "+ N more...". */
export function formatEndpoints(ep: Endpoints): string {
  const subsets = ep.subsets ?? [];
  if (subsets.length === 0) return "<none>";
  const max = 3;
  const list: string[] = [];
  let count = 0;
  for (const ss of subsets) {
    const addrs = ss.addresses ?? [];
    const ports = ss.ports ?? [];
    if (ports.length === 0) {
      count += addrs.length;
      for (const a of addrs) if (list.length < max) list.push(a.ip);
      continue;
    }
    for (const p of ports) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length < max) list.push(a.ip.includes(":") ? `[${a.ip}]:${p.port}` : `${a.ip}:${p.port}`);
      }
    }
  }
  const ret = list.join(",");
  return count > max ? `${ret} + ${count - max} more...` : ret;
}

export const endpointsPrinter = printer<Endpoints>(
  [NAME_COLUMN, column("Endpoints", "string", D.endpointsSubsets), AGE_COLUMN],
  (ep, now) => [nameOf(ep), formatEndpoints(ep), ageOf(ep, now)],
);

const NODE_ROLE_PREFIX = "node-role.kubernetes.io/";
const NODE_ROLE_LABEL = "kubernetes.io/role";

/** findNodeRoles: node-role.kubernetes.io/<role> keys plus the legacy kubernetes.io/role value. */
export function nodeRoles(labels: Readonly<Record<string, string>> | undefined): string[] {
  const roles: string[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (k.startsWith(NODE_ROLE_PREFIX)) {
      const role = k.slice(NODE_ROLE_PREFIX.length);
      if (role) roles.push(role);
    } else if (k === NODE_ROLE_LABEL && v !== "") {
      roles.push(v);
    }
  }
  return sortedUnique(roles);
}

function nodeStatus(node: Node): string {
  const ready = (node.status?.conditions ?? []).filter((c) => c.type === "Ready").at(-1);
  const status: string[] = [];
  if (ready) status.push(ready.status === "True" ? "Ready" : "NotReady");
  else status.push("Unknown");
  if (node.spec?.unschedulable) status.push("SchedulingDisabled");
  return status.join(",");
}

function nodeAddress(node: Node, type: string): string {
  return (node.status?.addresses ?? []).find((a) => a.type === type)?.address ?? "<none>";
}

export const nodePrinter = printer<Node>(
  [
    NAME_COLUMN,
    column("Status", "string", "The status of the node"),
    column("Roles", "string", "The roles of the node"),
    AGE_COLUMN,
    column("Version", "string", D.nodeSystemInfoKubeletVersion),
    wide("Internal-IP", "string", D.nodeStatusAddresses),
    wide("External-IP", "string", D.nodeStatusAddresses),
    wide("OS-Image", "string", D.nodeSystemInfoOsImage),
    wide("Kernel-Version", "string", D.nodeSystemInfoKernelVersion),
    wide("Container-Runtime", "string", D.nodeSystemInfoContainerRuntimeVersion),
  ],
  (node, now) => {
    const info = node.status?.nodeInfo;
    const roles = nodeRoles(node.metadata?.labels).join(",");
    return [
      nameOf(node),
      nodeStatus(node),
      roles || "<none>",
      ageOf(node, now),
      info?.kubeletVersion ?? "",
      nodeAddress(node, "InternalIP"),
      nodeAddress(node, "ExternalIP"),
      info?.osImage || "<unknown>",
      info?.kernelVersion || "<unknown>",
      info?.containerRuntimeVersion || "<unknown>",
    ];
  },
);

export const configMapPrinter = printer<ConfigMap>(
  [NAME_COLUMN, column("Data", "string", D.configMapData), AGE_COLUMN],
  (cm, now) => [
    nameOf(cm),
    Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length,
    ageOf(cm, now),
  ],
);

export const secretPrinter = printer<Secret>(
  [NAME_COLUMN, column("Type", "string", D.secretType), column("Data", "string", D.secretData), AGE_COLUMN],
  // The API folds stringData into data on write; count both so an unfolded object still prints right.
  (s, now) => [
    nameOf(s),
    s.type ?? "Opaque",
    new Set([...Object.keys(s.data ?? {}), ...Object.keys(s.stringData ?? {})]).size,
    ageOf(s, now),
  ],
);

export const serviceAccountPrinter = printer<ServiceAccount>(
  [NAME_COLUMN, column("Secrets", "string", D.serviceAccountSecrets), AGE_COLUMN],
  (sa, now) => [nameOf(sa), (sa.secrets ?? []).length, ageOf(sa, now)],
);

/** printResourceQuota: "resource: used/hard" sorted by name; limits.* go to the LIMIT column. */
function quotaColumns(rq: ResourceQuota): [string, string] {
  const hard = rq.status?.hard ?? {};
  const used = rq.status?.used ?? {};
  const request: string[] = [];
  const limit: string[] = [];
  for (const name of Object.keys(hard).sort()) {
    const pieces = name.split(".");
    const target = pieces.length > 1 && pieces[0] === "limits" ? limit : request;
    target.push(`${name}: ${quantity(used[name])}/${quantity(hard[name])}`);
  }
  return [request.join(", "), limit.join(", ")];
}

export const resourceQuotaPrinter = printer<ResourceQuota>(
  [
    NAME_COLUMN,
    column(
      "Request",
      "string",
      "Request represents a minimum amount of cpu/memory that a container may consume.",
    ),
    column(
      "Limit",
      "string",
      "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
    ),
    AGE_COLUMN,
  ],
  (rq, now) => {
    const [request, limit] = quotaColumns(rq);
    return [nameOf(rq), request, limit, ageOf(rq, now)];
  },
);
