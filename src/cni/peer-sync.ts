/**
 * syncPeers: one reconcile of the kernel's peer state — flannel.1's route, neighbour and FDB
 * entries for VXLAN peers, and the underlay routes of directly routed ones — against the peer
 * list.
 *
 * Design notes
 * - Reads first (one `ip route show` of the main table, flannel.1's neighbours and FDB), diffs
 *   with the pure planners (peers.ts, direct-routing.ts), then writes only what differs, so a
 *   second pass is a no-op and an agent restart does not disturb traffic.
 * - Order matters for traffic already flowing:
 *     1. direct routes are written first: `route replace` of the same destination swaps a peer
 *        from flannel.1 to the underlay in one kernel operation;
 *     2. then flannel.1: deletions (a route must not outlive its neighbour), then FDB and ARP,
 *        the route last (flannel's order: nothing is routed before it can be sent). A peer that
 *        moves back to VXLAN is swapped the same way by its route replace;
 *     3. stale direct routes last. A delete names the device, so it never removes the route
 *        that replaced it on the other one; "not found" is expected there and ignored.
 * - Direct routing is decided per peer: both ends announce it and the peer's public IP is on
 *   this node's underlay segment (direct-routing.ts).
 */
import type { Logger } from "../lib/logger.js";
import { type DirectRoutePlan, onLinkTester, ownedDirectRoutes, planDirectRoutes } from "./direct-routing.js";
import { type IpRoute, isNotFound } from "./iproute.js";
import { desiredEntries, type Peer, type PeerPlan, planPeers, planSize, type RejectedPeer } from "./peers.js";
import type { Ipv4Subnet } from "./subnet.js";

export interface PeerSyncTarget {
  nodeName: string;
  podCIDR: Ipv4Subnet;
  clusterCIDR: Ipv4Subnet;
  /** the VXLAN device (flannel.1) */
  vxlanName: string;
  /** the pods' bridge (cni0): its routes are never peers' */
  bridgeName: string;
  /** the underlay device VXLAN packets and direct routes leave through */
  iface: string;
  /** this node routes same-segment peers that also announce it directly */
  directRouting: boolean;
}

export interface PeerReconcileResult {
  /** number of route/neigh/fdb entries written or deleted; 0 when already converged */
  changes: number;
  plan: PeerPlan;
  /** underlay routes of directly routed peers */
  direct: DirectRoutePlan;
  /** names of the peers routed directly after this pass */
  directPeers: string[];
  rejected: RejectedPeer[];
}

export async function syncPeers(
  ipr: IpRoute,
  t: PeerSyncTarget,
  peers: readonly Peer[],
  log: Logger,
): Promise<PeerReconcileResult> {
  const dev = t.vxlanName;
  const [allRoutes, neighs, fdb] = await Promise.all([ipr.routes(), ipr.neighs(dev), ipr.fdb(dev)]);
  const directPeers: string[] = [];
  const onLink = t.directRouting ? onLinkTester(allRoutes, t.iface) : () => false;
  const isDirect = (p: Peer): boolean => {
    const yes = p.directRouting === true && onLink(p.publicIP);
    if (yes) directPeers.push(p.name);
    return yes;
  };
  const { entries, rejected } = desiredEntries(
    { nodeName: t.nodeName, podCIDR: t.podCIDR },
    t.clusterCIDR,
    peers,
    isDirect,
  );
  for (const r of rejected) log.warn({ peer: r.name }, `peer skipped: ${r.reason}`);
  const routes = allRoutes.filter((r) => r.dev === dev);
  const plan = planPeers(entries, { routes, neighs, fdb });
  const owned = ownedDirectRoutes(allRoutes, t.clusterCIDR, [dev, t.bridgeName]);
  const direct = planDirectRoutes(entries.direct, owned, t.iface);

  const ignoreGone = (err: unknown) => {
    if (!isNotFound(err)) throw err;
  };
  for (const r of direct.add) {
    await ipr.ip(["route", "replace", r.dst, "via", r.gateway, "dev", t.iface]);
  }
  for (const dst of plan.delRoutes) await ipr.ip(["route", "del", dst, "dev", dev]).catch(ignoreGone);
  for (const dst of plan.delNeighs) await ipr.ip(["neigh", "del", dst, "dev", dev]).catch(ignoreGone);
  for (const f of plan.delFdb) {
    const args = ["fdb", "del", f.mac, "dev", dev];
    if (f.dst !== undefined) args.push("dst", f.dst);
    await ipr.bridge([...args, "self"]).catch(ignoreGone);
  }
  for (const f of plan.addFdb) {
    await ipr.bridge(["fdb", "replace", f.mac, "dev", dev, "dst", f.dst, "self", "permanent"]);
  }
  for (const n of plan.addNeighs) {
    await ipr.ip(["neigh", "replace", n.dst, "lladdr", n.lladdr, "dev", dev, "nud", "permanent"]);
  }
  for (const r of plan.addRoutes) {
    await ipr.ip(["route", "replace", r.dst, "via", r.gateway, "dev", dev, "onlink"]);
  }
  for (const r of direct.del) await ipr.ip(["route", "del", r.dst, "dev", r.dev]).catch(ignoreGone);

  const changes = planSize(plan) + direct.add.length + direct.del.length;
  if (changes > 0) {
    log.info(
      { changes, peers: entries.routes.length + entries.direct.length, direct: entries.direct.length },
      "peers reconciled",
    );
  }
  return { changes, plan, direct, directPeers, rejected };
}
