/**
 * Planner: ServiceState → LbPlan, the desired proxy behaviour for every service port.
 *
 * Design notes
 * - Pure and deterministic: the same input gives the same plan (ports and endpoints sorted,
 *   chain names derived from a hash of the service port id), so the applier can diff two plans
 *   per service port and touch only what changed.
 * - Skipped (no rules): headless services (clusterIP None), ExternalName, services without a
 *   ClusterIP yet, non-IPv4 ClusterIPs. A broken service (bad port) becomes a warning and is
 *   skipped, never an exception: one bad object must not take every other service down.
 * - Traffic policies, as kube-proxy applies them:
 *     internal (ClusterIP) traffic → internalTrafficPolicy Local ? local endpoints : all;
 *     external (NodePort, LoadBalancer, externalIPs) → externalTrafficPolicy Local ? local
 *       endpoints without SNAT (client IP preserved) : all endpoints with SNAT.
 * - LoadBalancer addresses come from status.loadBalancer.ingress: the hub decides which nodes
 *   serve a klipper-style service (a port collision leaves it pending, see klipper.ts) and which
 *   pool address a service holds (address-pool.ts); the agent programs what the status says.
 * - Chain names follow kube-proxy: a base32 hash prefix (unique, stable) plus the readable id,
 *   e.g. `svc-4ZJ2T3KQ-default/web/tcp/http`.
 */
import { createHash } from "node:crypto";
import type { Service, ServicePort } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import { selectEndpoints, slicesByService } from "./endpoints.js";
import type { EndpointTarget, L4Protocol, LbPlan, ServicePortPlan, ServiceState } from "./types.js";

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
/** default sessionAffinityConfig.clientIP.timeoutSeconds (3 hours) */
export const DEFAULT_AFFINITY_TIMEOUT = 10800;

export function isIPv4(s: string | undefined): s is string {
  const m = s ? IPV4.exec(s) : null;
  return !!m && m.slice(1).every((o) => Number(o) <= 255);
}

const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/** 8 base32 characters of sha256(text): short, stable and collision-safe enough for chain names. */
export function shortHash(text: string): string {
  const h = createHash("sha256").update(text).digest();
  let bits = 0;
  let acc = 0;
  let out = "";
  for (const byte of h) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 8) {
      out += B32[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= 8) break;
  }
  return out;
}

function protocolOf(p: ServicePort): L4Protocol | undefined {
  const proto = (p.protocol ?? "TCP").toLowerCase();
  return proto === "tcp" || proto === "udp" || proto === "sctp" ? proto : undefined;
}

function externalAddresses(svc: Service): string[] {
  const ips = new Set<string>();
  if (svc.spec?.type === "LoadBalancer") {
    for (const ing of svc.status?.loadBalancer?.ingress ?? []) if (isIPv4(ing.ip)) ips.add(ing.ip);
  }
  for (const ip of svc.spec?.externalIPs ?? []) if (isIPv4(ip)) ips.add(ip);
  return [...ips].sort();
}

function targets(id: string, eps: { ip: string; port: number; local: boolean }[], affinity: boolean) {
  return eps.map((e): EndpointTarget => {
    const suffix = `${id}__${e.ip}/${e.port}`;
    const h = shortHash(suffix);
    return {
      ip: e.ip,
      port: e.port,
      local: e.local,
      chain: `ep-${h}-${suffix}`,
      ...(affinity ? { affinitySet: `aff-${h}-${suffix}` } : {}),
    };
  });
}

function planPort(
  svc: Service,
  sp: ServicePort,
  slices: readonly EndpointSlice[],
  state: ServiceState,
): ServicePortPlan | string {
  const namespace = svc.metadata?.namespace ?? "default";
  const name = svc.metadata?.name ?? "";
  const protocol = protocolOf(sp);
  if (!protocol) return `${namespace}/${name}: port ${sp.port} has unsupported protocol ${sp.protocol}`;
  if (!Number.isInteger(sp.port) || sp.port < 1 || sp.port > 65535) {
    return `${namespace}/${name}: port ${sp.port} is outside 1–65535`;
  }
  const portName = sp.name ?? "";
  const id = `${namespace}/${name}/${protocol}/${portName || `p${sp.port}`}`;
  const spec = svc.spec ?? {};
  const affinity = spec.sessionAffinity === "ClientIP";
  const sel = selectEndpoints(slices, {
    portName,
    protocol,
    nodeName: state.nodeName,
    ...(state.localPodIPs ? { localPodIPs: state.localPodIPs } : {}),
  });
  const all = targets(id, sel.cluster, affinity);
  // A local endpoint keeps the chain (and affinity set) it has in the cluster list.
  const byKey = new Map(all.map((t) => [`${t.ip}/${t.port}`, t]));
  const local = targets(id, sel.local, affinity).map((t) => byKey.get(`${t.ip}/${t.port}`) ?? t);
  const isNodePortType = spec.type === "NodePort" || spec.type === "LoadBalancer";
  const nodePort = isNodePortType && sp.nodePort && sp.nodePort > 0 ? sp.nodePort : undefined;
  const externalIPs = externalAddresses(svc);
  const hasExternal = nodePort !== undefined || externalIPs.length > 0;
  const internalPolicyLocal = spec.internalTrafficPolicy === "Local";
  const externalPolicyLocal = hasExternal && spec.externalTrafficPolicy === "Local";
  const h = shortHash(id);
  return {
    id,
    namespace,
    name,
    protocol,
    clusterIP: spec.clusterIP ?? "",
    port: sp.port,
    ...(nodePort !== undefined ? { nodePort } : {}),
    externalIPs,
    clusterEndpoints: all,
    localEndpoints: local,
    internalPolicyLocal,
    externalPolicyLocal,
    ...(affinity
      ? {
          affinityTimeoutSeconds:
            spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT,
        }
      : {}),
    chains: {
      cluster: `svc-${h}-${id}`,
      ...(internalPolicyLocal || externalPolicyLocal ? { local: `local-${h}-${id}` } : {}),
      ...(hasExternal ? { external: `ext-${h}-${id}` } : {}),
    },
  };
}

/** Computes the desired proxy plan; never throws on a bad Service (it becomes a warning). */
export function planServices(state: ServiceState): LbPlan {
  const slices = slicesByService(state.endpointSlices);
  const ports: ServicePortPlan[] = [];
  const warnings: string[] = [];
  const claimed = new Map<string, string>();
  const services = [...state.services].sort((a, b) =>
    `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(
      `${b.metadata?.namespace}/${b.metadata?.name}`,
    ),
  );
  for (const svc of services) {
    const spec = svc.spec;
    if (!spec || spec.type === "ExternalName") continue;
    if (!isIPv4(spec.clusterIP)) continue; // headless ("None"), not yet allocated, or IPv6
    const key = `${svc.metadata?.namespace ?? "default"}/${svc.metadata?.name ?? ""}`;
    for (const sp of spec.ports ?? []) {
      const p = planPort(svc, sp, slices.get(key) ?? [], state);
      if (typeof p === "string") {
        warnings.push(p);
        continue;
      }
      // Two services claiming the same address and port would make one nft transaction fail.
      const vip = `${p.clusterIP}/${p.protocol}/${p.port}`;
      const owner = claimed.get(vip);
      if (owner) {
        warnings.push(`${p.id}: ${vip} is already used by ${owner}; skipped`);
        continue;
      }
      claimed.set(vip, p.id);
      if (p.nodePort !== undefined) {
        const np = `nodePort/${p.protocol}/${p.nodePort}`;
        const npOwner = claimed.get(np);
        if (npOwner) {
          warnings.push(`${p.id}: ${np} is already used by ${npOwner}; node port not programmed`);
          delete p.nodePort;
        } else claimed.set(np, p.id);
      }
      p.externalIPs = p.externalIPs.filter((ip) => {
        const ext = `${ip}/${p.protocol}/${p.port}`;
        const extOwner = claimed.get(ext);
        if (extOwner) warnings.push(`${p.id}: ${ext} is already used by ${extOwner}; not programmed`);
        else claimed.set(ext, p.id);
        return !extOwner;
      });
      ports.push(p);
    }
  }
  return { clusterCIDR: state.clusterCIDR, ports, warnings };
}
