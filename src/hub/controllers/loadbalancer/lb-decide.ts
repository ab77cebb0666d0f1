/**
 * LoadBalancer decisions for the hub: which services get which ingress addresses, and which stay
 * pending and why. Pure: the controller feeds it the informers' Services and Nodes.
 *
 * Design notes
 * - Two modes, as DESIGN.md says. Without address pools the klipper-style default (k3s
 *   servicelb): every eligible node answers on the service port at its own address, so the
 *   ingress list is those node addresses. With pools configured, MetalLB-style: one address
 *   from a pool, shared between services only under `metallb.io/allow-shared-ip` rules.
 * - Node pools use k3s's labels (`svccontroller.k3s.cattle.io/enablelb`, `…/lbpool`); our own
 *   `svccontroller.edgekube.io/…` spellings mean the same and are mapped onto them here, so
 *   src/lb stays the single place that interprets them. A k3s label already present wins.
 * - Every LoadBalancer service must be decided in one pass: klipper ports and pool addresses
 *   are shared, so one service's decision depends on the others' (first come, first served).
 * - Services with spec.loadBalancerClass belong to another implementation and are left alone,
 *   as upstream's service controller does.
 */
import type { Node, Service } from "kubernetes-types/core/v1";
import { ipToNumber, parseSubnet } from "../../../cni/subnet.js";
import {
  type AddressPool,
  ENABLE_LB_LABEL,
  klipperAssign,
  LB_POOL_LABEL,
  poolAllocate,
} from "../../../lb/index.js";

export const EDGEKUBE_ENABLE_LB_LABEL = "svccontroller.edgekube.io/enablelb";
export const EDGEKUBE_LB_POOL_LABEL = "svccontroller.edgekube.io/lbpool";

export type LbDecision =
  | { key: string; state: "ready"; ingress: { ip: string }[] }
  | { key: string; state: "pending"; reason: string; message: string };

const ALIASES: readonly [string, string][] = [
  [EDGEKUBE_ENABLE_LB_LABEL, ENABLE_LB_LABEL],
  [EDGEKUBE_LB_POOL_LABEL, LB_POOL_LABEL],
];

/** A copy whose labels carry the k3s spellings of our edgekube labels (when not already set). */
function withK3sLabels<T extends Node | Service>(o: T): T {
  const labels = o.metadata?.labels;
  if (!labels || !ALIASES.some(([ours, k3s]) => labels[ours] !== undefined && labels[k3s] === undefined))
    return o;
  const next = { ...labels };
  for (const [ours, k3s] of ALIASES) {
    const v = labels[ours];
    if (v !== undefined && next[k3s] === undefined) next[k3s] = v;
  }
  return { ...o, metadata: { ...o.metadata, labels: next } };
}

/** True for services this controller decides (type LoadBalancer without a foreign class). */
export function isOurLoadBalancer(s: Service): boolean {
  return s.spec?.type === "LoadBalancer" && !s.spec.loadBalancerClass;
}

/** Decides every LoadBalancer service; pools non-empty selects the address-pool mode. */
export function decideLoadBalancers(
  services: readonly Service[],
  nodes: readonly Node[],
  pools: readonly AddressPool[] = [],
): LbDecision[] {
  const lbs = services.filter(isOurLoadBalancer);
  // every Node update runs a pass; without a LoadBalancer service there is nothing to decide,
  // and walking every Node for nothing made a fleet's reconnect O(N²) (bench/sync profile)
  if (lbs.length === 0) return [];
  if (pools.length > 0) {
    return poolAllocate(pools, lbs).map((d) =>
      d.state === "ready" ? { key: d.key, state: "ready", ingress: [{ ip: d.ip }] } : d,
    );
  }
  return klipperAssign(lbs.map(withK3sLabels), nodes.map(withK3sLabels)).map((d) =>
    d.state === "ready" ? { key: d.key, state: "ready", ingress: d.ingress } : d,
  );
}

/** status.loadBalancer.ingress IPs as a comparable string ("" when none). */
export function ingressText(ingress: readonly { ip?: string; hostname?: string }[] | undefined): string {
  return (ingress ?? [])
    .map((i) => i.ip ?? i.hostname ?? "")
    .sort()
    .join(",");
}

/**
 * Parses `NAME=RANGE[,RANGE…]` (RANGE: a CIDR or "first-last"), the hub's `--lb-pool` flag.
 * Throws with a message naming the bad part and the expected form.
 */
export function parseAddressPool(text: string): AddressPool {
  const eq = text.indexOf("=");
  const name = text.slice(0, eq).trim();
  const form = 'expected NAME=CIDR|FIRST-LAST[,…], e.g. "lan=192.0.2.240/28"';
  if (eq <= 0 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name))
    throw new Error(`address pool "${text}": ${form} (NAME lower-case letters, digits and -)`);
  const addresses = text
    .slice(eq + 1)
    .split(",")
    .map((r) => r.trim())
    .filter(Boolean);
  if (addresses.length === 0) throw new Error(`address pool "${text}": no addresses; ${form}`);
  for (const r of addresses) {
    try {
      const dash = r.indexOf("-");
      if (dash > 0) {
        if (ipToNumber(r.slice(0, dash).trim()) > ipToNumber(r.slice(dash + 1).trim()))
          throw new Error("the first address is above the last");
      } else parseSubnet(r);
    } catch (e) {
      throw new Error(`address pool "${name}": bad range "${r}" (${(e as Error).message}); ${form}`);
    }
  }
  return { name, addresses };
}
