/**
 * Peer planning: from the list of other nodes to the exact neighbour state flannel.1 must hold.
 *
 * Design notes (flannel vxlan backend semantics)
 * - Per peer exactly three entries, all on flannel.1 and all static:
 *     route  <peer podCIDR> via <peer .0> dev flannel.1 onlink
 *     neigh  <peer .0> lladdr <peer VTEP MAC> dev flannel.1 nud permanent   (ARP)
 *     fdb    <peer VTEP MAC> dst <peer public IP> dev flannel.1 self permanent
 *   The kernel therefore never has to learn or miss anything (nolearning, no l2/l3miss).
 * - Pure functions: `desiredEntries` validates peers (bad data from one node must not break the
 *   overlay for the rest: it is rejected with a reason), `planPeers` diffs desired against what
 *   iproute2 reports. Everything on flannel.1 belongs to this overlay, so anything not desired
 *   is stale and removed; entries that already match are left alone, which makes a second
 *   reconcile a no-op.
 */
import type { FdbEntry, Neigh, Route } from "./iproute.js";
import {
  type Ipv4Subnet,
  ipToNumber,
  normalizeMac,
  parseSubnet,
  SubnetError,
  subnetWithin,
  vtepAddress,
} from "./subnet.js";

export interface Peer {
  /** node name (for logs and rejection reasons) */
  name: string;
  /** underlay address VXLAN packets are sent to (flannel.alpha.coreos.com/public-ip) */
  publicIP: string;
  /** the peer's node.spec.podCIDR */
  podCIDR: string;
  /** the peer's flannel.1 MAC (VtepMAC in flannel.alpha.coreos.com/backend-data) */
  vtepMAC: string;
  /** the peer routes its same-segment peers directly ("DirectRouting" in backend-data) */
  directRouting?: boolean;
}

export interface RouteEntry {
  dst: string;
  gateway: string;
}
export interface NeighEntry {
  dst: string;
  lladdr: string;
}
export interface FdbTarget {
  mac: string;
  dst: string;
}

export interface PeerEntries {
  routes: RouteEntry[];
  neighs: NeighEntry[];
  fdb: FdbTarget[];
  /** peers routed over the underlay instead (direct-routing.ts): podCIDR via the public IP */
  direct: RouteEntry[];
}

export interface RejectedPeer {
  name: string;
  reason: string;
}

export interface PeerPlan {
  delRoutes: string[];
  delNeighs: string[];
  delFdb: Array<{ mac: string; dst?: string }>;
  addFdb: FdbTarget[];
  addNeighs: NeighEntry[];
  addRoutes: RouteEntry[];
}

export function planSize(p: PeerPlan): number {
  return (
    p.delRoutes.length +
    p.delNeighs.length +
    p.delFdb.length +
    p.addFdb.length +
    p.addNeighs.length +
    p.addRoutes.length
  );
}

/**
 * The entries flannel.1 must hold for `peers`, plus the peers that were skipped and why.
 * Peers for which `direct` says yes get an underlay route in `direct` instead of the three.
 */
export function desiredEntries(
  self: { nodeName: string; podCIDR: Ipv4Subnet },
  clusterCIDR: Ipv4Subnet,
  peers: readonly Peer[],
  direct: (peer: Peer) => boolean = () => false,
): { entries: PeerEntries; rejected: RejectedPeer[] } {
  const entries: PeerEntries = { routes: [], neighs: [], fdb: [], direct: [] };
  const rejected: RejectedPeer[] = [];
  const seenCidr = new Map<string, string>([[self.podCIDR.cidr, self.nodeName]]);
  const seenMac = new Map<string, string>();
  // Sorted so that, when two peers claim the same subnet, the same one wins on every node.
  for (const peer of [...peers].sort((a, b) => a.name.localeCompare(b.name))) {
    if (peer.name === self.nodeName) continue;
    let subnet: Ipv4Subnet;
    let mac: string;
    try {
      subnet = parseSubnet(peer.podCIDR);
      mac = normalizeMac(peer.vtepMAC);
      ipToNumber(peer.publicIP);
    } catch (err) {
      if (!(err instanceof SubnetError)) throw err;
      rejected.push({ name: peer.name, reason: err.message });
      continue;
    }
    if (!subnetWithin(subnet, clusterCIDR)) {
      rejected.push({
        name: peer.name,
        reason: `podCIDR ${subnet.cidr} is outside the cluster CIDR ${clusterCIDR.cidr}`,
      });
      continue;
    }
    const owner = seenCidr.get(subnet.cidr);
    if (owner !== undefined) {
      rejected.push({ name: peer.name, reason: `podCIDR ${subnet.cidr} is already used by node ${owner}` });
      continue;
    }
    const macOwner = seenMac.get(mac);
    if (macOwner !== undefined) {
      rejected.push({ name: peer.name, reason: `VTEP MAC ${mac} is already used by node ${macOwner}` });
      continue;
    }
    seenCidr.set(subnet.cidr, peer.name);
    seenMac.set(mac, peer.name);
    if (direct(peer)) {
      entries.direct.push({ dst: subnet.cidr, gateway: peer.publicIP });
      continue;
    }
    const gw = vtepAddress(subnet);
    entries.routes.push({ dst: subnet.cidr, gateway: gw });
    entries.neighs.push({ dst: gw, lladdr: mac });
    entries.fdb.push({ mac, dst: peer.publicIP });
  }
  return { entries, rejected };
}

/** iproute2 prints a /32 route without its prefix. */
function routeKey(dst: string): string {
  return dst.includes("/") ? dst : `${dst}/32`;
}

/** What to delete and what to (re)write so that flannel.1 holds exactly `desired`. */
export function planPeers(
  desired: PeerEntries,
  current: { routes: readonly Route[]; neighs: readonly Neigh[]; fdb: readonly FdbEntry[] },
): PeerPlan {
  const plan: PeerPlan = {
    delRoutes: [],
    delNeighs: [],
    delFdb: [],
    addFdb: [],
    addNeighs: [],
    addRoutes: [],
  };

  const wantRoute = new Map(desired.routes.map((r) => [r.dst, r]));
  const haveRoute = new Map(current.routes.map((r) => [routeKey(r.dst), r]));
  for (const [dst, r] of haveRoute) if (!wantRoute.has(dst)) plan.delRoutes.push(r.dst);
  for (const [dst, want] of wantRoute) {
    const have = haveRoute.get(dst);
    if (!have || have.gateway !== want.gateway || !have.flags.includes("onlink")) plan.addRoutes.push(want);
  }

  const wantNeigh = new Map(desired.neighs.map((n) => [n.dst, n]));
  const haveNeigh = new Map(current.neighs.map((n) => [n.dst, n]));
  for (const dst of haveNeigh.keys()) if (!wantNeigh.has(dst)) plan.delNeighs.push(dst);
  for (const [dst, want] of wantNeigh) {
    const have = haveNeigh.get(dst);
    const ok = have && have.lladdr?.toLowerCase() === want.lladdr && have.state.includes("PERMANENT");
    if (!ok) plan.addNeighs.push(want);
  }

  const fdbKey = (mac: string, dst: string | undefined) => `${mac.toLowerCase()} ${dst ?? ""}`;
  const wantFdb = new Map(desired.fdb.map((f) => [fdbKey(f.mac, f.dst), f]));
  const haveFdb = new Set<string>();
  for (const e of current.fdb) {
    const key = fdbKey(e.mac, e.dst);
    if (!wantFdb.has(key)) {
      const del: { mac: string; dst?: string } = { mac: e.mac };
      if (e.dst !== undefined) del.dst = e.dst;
      plan.delFdb.push(del);
    } else if (e.state === "permanent") {
      haveFdb.add(key);
    }
  }
  for (const [key, want] of wantFdb) if (!haveFdb.has(key)) plan.addFdb.push(want);
  return plan;
}
