/**
 * Direct routing: flannel's vxlan `DirectRouting` — a peer on this node's own L2 segment gets a
 * plain route over the underlay instead of VXLAN; peers behind a router keep VXLAN.
 *
 *   VXLAN peer:   10.42.2.0/24 via 10.42.2.0 dev flannel.1 onlink   (+ neigh, + fdb)
 *   direct peer:  10.42.2.0/24 via 198.51.100.12 dev eth0           (nothing on flannel.1)
 *
 * Design notes
 * - Why: on a LAN of devices the encapsulation is pure cost — 50 bytes a packet and a second
 *   pass through the stack on both ends (docs/overlay.md measures the datapath). Flannel and
 *   k3s keep it off by default because clouds' virtual networks drop packets whose source is
 *   not the instance's own address; an edge fleet on one switch does not have that problem, but
 *   the choice stays the operator's (`edge-agent --flannel-direct-routing`).
 * - "On this segment" is flannel's test (`ip.DirectRouting`: the kernel's route to the peer's
 *   public IP has no gateway), taken here from one read of the main table: the longest prefix
 *   that holds the address must be a gateway-less route out of the underlay interface.
 * - Both ends must agree, or the two directions take different paths and strict reverse-path
 *   filtering drops the raw side. So a node announces the mode in its backend-data annotation
 *   (`"DirectRouting": true`, an extra key flannel's own parser ignores) and a peer is routed
 *   directly only when both have it on. A mixed fleet stays on VXLAN between mixed pairs.
 * - Ownership: every route via a gateway whose destination lies inside the cluster CIDR, on any
 *   device but the overlay's own (flannel.1, cni0), is ours: nothing else routes pod subnets to
 *   a host. Any such route that is not wanted is stale — all of them after the option is turned
 *   off, and those left on an old device after the underlay interface changed. reset.ts removes
 *   the same set.
 * - Pure functions over iproute2's JSON; peer-sync.ts applies the plan.
 */
import type { Route } from "./iproute.js";
import type { RouteEntry } from "./peers.js";
import { contains, type Ipv4Subnet, ipToNumber, parseSubnet, SubnetError, subnetWithin } from "./subnet.js";

/** The key a node sets in flannel.alpha.coreos.com/backend-data when it routes peers directly. */
export const DIRECT_ROUTING_KEY = "DirectRouting";

function routeSubnet(dst: string): Ipv4Subnet | undefined {
  if (dst === "default") return parseSubnet("0.0.0.0/0");
  try {
    return parseSubnet(dst.includes("/") ? dst : `${dst}/32`);
  } catch (err) {
    if (err instanceof SubnetError) return undefined;
    throw err;
  }
}

interface ParsedRoute {
  route: Route;
  subnet: Ipv4Subnet;
}

/** Each route's destination parsed once; unparseable ones (not IPv4 CIDRs) are left out. */
function parseRoutes(routes: readonly Route[]): ParsedRoute[] {
  const out: ParsedRoute[] = [];
  for (const route of routes) {
    const subnet = routeSubnet(route.dst);
    if (subnet) out.push({ route, subnet });
  }
  return out;
}

function longestMatch(routes: readonly ParsedRoute[], ip: string): Route | undefined {
  ipToNumber(ip);
  let best: Route | undefined;
  let bestLen = -1;
  for (const { route, subnet } of routes) {
    if (subnet.prefixLength <= bestLen || !contains(subnet, ip)) continue;
    best = route;
    bestLen = subnet.prefixLength;
  }
  return best;
}

/** The route the kernel would pick for `ip` from these (longest prefix; first of equals). */
export function bestRoute(routes: readonly Route[], ip: string): Route | undefined {
  return longestMatch(parseRoutes(routes), ip);
}

/**
 * A test for "reached over `iface` without a gateway" (a neighbour on the same segment) over one
 * routing table: the table is parsed once, however many peers are asked about — the main table
 * holds a route per VXLAN peer, so parsing it per peer would grow with the square of the fleet.
 */
export function onLinkTester(routes: readonly Route[], iface: string): (ip: string) => boolean {
  const parsed = parseRoutes(routes);
  return (ip) => {
    const r = longestMatch(parsed, ip);
    return r !== undefined && r.gateway === undefined && r.dev === iface;
  };
}

/** True when `ip` is reached over `iface` without a gateway: a neighbour on the same segment. */
export function onLink(routes: readonly Route[], iface: string, ip: string): boolean {
  return onLinkTester(routes, iface)(ip);
}

/**
 * Direct routes this overlay owns (design notes): pod subnets of the cluster via a gateway, on
 * any device but the overlay's own.
 */
export function ownedDirectRoutes(
  routes: readonly Route[],
  clusterCIDR: Ipv4Subnet,
  overlayDevices: readonly string[],
): Route[] {
  return routes.filter((r) => {
    if (r.gateway === undefined || r.dev === undefined || overlayDevices.includes(r.dev)) return false;
    const s = routeSubnet(r.dst);
    return s !== undefined && s.prefixLength > 0 && subnetWithin(s, clusterCIDR);
  });
}

export interface DirectRoutePlan {
  /** routes to delete (destination and the device they are on) */
  del: Array<{ dst: string; dev: string }>;
  /** routes to (re)write on the underlay interface */
  add: RouteEntry[];
}

/**
 * What to change so that the owned routes are exactly `desired`, on `iface`. A wanted
 * destination that sits on another device or via another gateway is rewritten (`route replace`
 * of the same destination takes its place).
 */
export function planDirectRoutes(
  desired: readonly RouteEntry[],
  owned: readonly Route[],
  iface: string,
): DirectRoutePlan {
  const key = (dst: string) => (dst.includes("/") ? dst : `${dst}/32`);
  const want = new Map(desired.map((r) => [key(r.dst), r]));
  const plan: DirectRoutePlan = { del: [], add: [] };
  const ok = new Set<string>();
  for (const r of owned) {
    const w = want.get(key(r.dst));
    if (w && r.dev === iface && r.gateway === w.gateway) ok.add(key(r.dst));
    else if (!w) plan.del.push({ dst: r.dst, dev: r.dev ?? iface });
  }
  for (const [dst, r] of want) if (!ok.has(dst)) plan.add.push(r);
  return plan;
}
