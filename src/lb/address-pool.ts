/**
 * Address-pool LoadBalancer allocation with MetalLB's semantics, a pure helper for the hub.
 *
 * Design notes
 * - Pools are lists of CIDRs or "first-last" ranges. A service may ask for a pool
 *   (`metallb.io/address-pool`) or an address (`metallb.io/loadBalancerIPs`, or the deprecated
 *   spec.loadBalancerIP); otherwise it gets the lowest free address of the first auto-assign pool.
 * - Sharing (`metallb.io/allow-shared-ip: KEY`), as MetalLB checks it: two services may hold the
 *   same address only if both carry the same key, no protocol/port is used by both, and their
 *   externalTrafficPolicy is compatible: both Cluster, or both Local with the same pod selector
 *   (Local traffic must land on the node that answers ARP, which has to host both backends).
 * - Stability: services that already hold an address (status.loadBalancer.ingress) are decided
 *   first and keep it if it is still valid, so a new service never steals an address; the rest go
 *   in creation order. A service that cannot be served is pending with a message saying why and
 *   what to change.
 */
import type { Service } from "kubernetes-types/core/v1";
import { ipToNumber, numberToIp, parseSubnet } from "../cni/subnet.js";

export const SHARED_IP_ANNOTATION = "metallb.io/allow-shared-ip";
export const POOL_ANNOTATION = "metallb.io/address-pool";
export const IPS_ANNOTATION = "metallb.io/loadBalancerIPs";

export interface AddressPool {
  name: string;
  /** "192.0.2.0/28" or "192.0.2.10-192.0.2.20" */
  addresses: string[];
  /** default true: used for services that do not name a pool */
  autoAssign?: boolean;
}

export type PoolDecision =
  | { key: string; state: "ready"; ip: string; pool: string }
  | { key: string; state: "pending"; reason: string; message: string };

function expand(range: string): [number, number] {
  const dash = range.indexOf("-");
  if (dash > 0) return [ipToNumber(range.slice(0, dash).trim()), ipToNumber(range.slice(dash + 1).trim())];
  const s = parseSubnet(range);
  return [s.network, s.network + s.size - 1];
}

function inPool(pool: AddressPool, n: number): boolean {
  return pool.addresses.some((r) => {
    const [a, b] = expand(r);
    return n >= a && n <= b;
  });
}

const keyOf = (s: Service) => `${s.metadata?.namespace ?? "default"}/${s.metadata?.name ?? ""}`;
const ports = (s: Service) => new Set((s.spec?.ports ?? []).map((p) => `${p.protocol ?? "TCP"}/${p.port}`));
const selectorText = (s: Service) =>
  JSON.stringify(Object.entries(s.spec?.selector ?? {}).sort(([a], [b]) => a.localeCompare(b)));

/** Why `a` and `b` cannot share an address, or undefined when they can. */
export function sharingConflict(a: Service, b: Service): string | undefined {
  const ka = a.metadata?.annotations?.[SHARED_IP_ANNOTATION];
  const kb = b.metadata?.annotations?.[SHARED_IP_ANNOTATION];
  if (!ka || !kb || ka !== kb) {
    return `${keyOf(a)} and ${keyOf(b)} need the same ${SHARED_IP_ANNOTATION} key to share an address`;
  }
  const pb = ports(b);
  const both = [...ports(a)].filter((p) => pb.has(p));
  if (both.length > 0) return `port ${both.join(", ")} is used by both ${keyOf(a)} and ${keyOf(b)}`;
  const la = a.spec?.externalTrafficPolicy === "Local";
  const lb = b.spec?.externalTrafficPolicy === "Local";
  if (la !== lb) return `${keyOf(a)} and ${keyOf(b)} have different externalTrafficPolicy`;
  if (la && selectorText(a) !== selectorText(b)) {
    return `${keyOf(a)} and ${keyOf(b)} use externalTrafficPolicy Local with different pod selectors`;
  }
  return undefined;
}

function requested(s: Service): string[] {
  const ann = s.metadata?.annotations?.[IPS_ANNOTATION];
  if (ann)
    return ann
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean);
  return s.spec?.loadBalancerIP ? [s.spec.loadBalancerIP] : [];
}

/** Decides an address for every address-pool LoadBalancer service. */
export function poolAllocate(pools: readonly AddressPool[], services: readonly Service[]): PoolDecision[] {
  const lbs = services.filter((s) => s.spec?.type === "LoadBalancer" && !s.spec.loadBalancerClass);
  const current = (s: Service) => s.status?.loadBalancer?.ingress?.[0]?.ip;
  const order = [...lbs].sort(
    (a, b) =>
      Number(!current(a)) - Number(!current(b)) ||
      (a.metadata?.creationTimestamp ?? "").localeCompare(b.metadata?.creationTimestamp ?? "") ||
      keyOf(a).localeCompare(keyOf(b)),
  );
  const holders = new Map<number, Service[]>();
  const out: PoolDecision[] = [];
  const canTake = (svc: Service, n: number): string | undefined => {
    for (const other of holders.get(n) ?? []) {
      const why = sharingConflict(svc, other);
      if (why) return why;
    }
    return undefined;
  };
  const take = (svc: Service, n: number, pool: AddressPool): PoolDecision => {
    holders.set(n, [...(holders.get(n) ?? []), svc]);
    return { key: keyOf(svc), state: "ready", ip: numberToIp(n), pool: pool.name };
  };
  for (const svc of order) {
    const key = keyOf(svc);
    const wantPool = svc.metadata?.annotations?.[POOL_ANNOTATION];
    const candidates = wantPool ? pools.filter((p) => p.name === wantPool) : pools;
    if (wantPool && candidates.length === 0) {
      const names = pools.map((p) => p.name).join(", ") || "none configured";
      out.push({
        key,
        state: "pending",
        reason: "UnknownPool",
        message: `${key} asks for address pool "${wantPool}", which does not exist (pools: ${names})`,
      });
      continue;
    }
    const asked = requested(svc);
    const now = current(svc);
    const wanted = asked.length > 0 ? asked : now ? [now] : [];
    let decided: PoolDecision | undefined;
    let lastWhy = "";
    for (const ip of wanted) {
      const n = ipToNumber(ip);
      const pool = candidates.find((p) => inPool(p, n));
      if (!pool) {
        lastWhy = `${ip} is not in ${wantPool ? `pool "${wantPool}"` : "any address pool"}`;
        continue;
      }
      const why = canTake(svc, n);
      if (why) lastWhy = `${ip} is in use: ${why}`;
      else decided = take(svc, n, pool);
      break;
    }
    if (!decided && asked.length === 0) {
      // Sharing first: a compatible holder of the same key gets packed onto its address.
      for (const [n, list] of holders) {
        const pool = candidates.find((p) => (wantPool || p.autoAssign !== false) && inPool(p, n));
        if (pool && list.length > 0 && !canTake(svc, n)) {
          decided = take(svc, n, pool);
          break;
        }
      }
      for (const pool of candidates) {
        if (decided || (!wantPool && pool.autoAssign === false)) continue;
        for (const r of pool.addresses) {
          const [a, b] = expand(r);
          for (let n = a; n <= b && !decided; n++) if (!holders.has(n)) decided = take(svc, n, pool);
        }
      }
      if (!decided)
        lastWhy = `no free address left in ${wantPool ? `pool "${wantPool}"` : "the address pools"}`;
    }
    out.push(
      decided ?? {
        key,
        state: "pending",
        reason: "AllocationFailed",
        message: `cannot give ${key} an address: ${lastWhy}; free an address, add one to a pool, or set ${SHARED_IP_ANNOTATION}`,
      },
    );
  }
  return out;
}
