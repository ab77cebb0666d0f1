/**
 * resetOverlay: removes from a host everything the overlay created (`edge-agent reset`,
 * uninstall, and tests that must leave nothing behind).
 *
 * Design notes
 * - Removed: the host ends of pod veths we made (enslaved to our bridge *and* named like
 *   hostVethName's output: a veth someone else attached to cni0 is left alone), the cni0 bridge,
 *   the flannel.1 VXLAN device (its routes, ARP and FDB entries go with it), direct routes to
 *   peers' pod subnets on the underlay (direct-routing.ts: routes inside the cluster CIDR via a
 *   gateway, on any other device), the masquerade rules of both backends, and, when given, the
 *   IPAM lease file.
 * - Every step tolerates "already gone", so reset can be run twice or after a partial setup.
 * - The sysctls (ip_forward, bridge-nf-call-iptables) are left as they are: other software on the
 *   host may rely on them, and turning forwarding off would cut it off.
 */
import { rm } from "node:fs/promises";
import type { Logger } from "../lib/logger.js";
import { silentLogger } from "../lib/logger.js";
import { ownedDirectRoutes } from "./direct-routing.js";
import type { Exec } from "./exec.js";
import { IpRoute, isNotFound } from "./iproute.js";
import { Masquerade } from "./masquerade.js";
import { isOurHostVeth } from "./pod-network.js";
import { parseSubnet } from "./subnet.js";

export interface ResetOptions {
  exec: Exec;
  vxlanName?: string;
  bridgeName?: string;
  /** the pod network the direct routes lie in (default 10.42.0.0/16) */
  clusterCIDR?: string;
  /** delete this IPAM SQLite file (and its -wal/-shm) too */
  ipamDbPath?: string;
  logger?: Logger;
}

export interface ResetReport {
  removedLinks: string[];
  /** direct routes removed from the underlay */
  removedRoutes: string[];
}

export async function resetOverlay(opts: ResetOptions): Promise<ResetReport> {
  const log = (opts.logger ?? silentLogger()).child({ component: "cni-reset" });
  const ipr = new IpRoute(opts.exec);
  const bridge = opts.bridgeName ?? "cni0";
  const vxlan = opts.vxlanName ?? "flannel.1";
  const removedLinks: string[] = [];

  for (const l of await ipr.listLinks()) {
    if (l.kind === "veth" && l.master === bridge && isOurHostVeth(l.ifname)) {
      if (await ipr.deleteLink(l.ifname)) removedLinks.push(l.ifname);
    }
  }
  const cluster = parseSubnet(opts.clusterCIDR ?? "10.42.0.0/16");
  const removedRoutes: string[] = [];
  for (const r of ownedDirectRoutes(await ipr.routes(), cluster, [vxlan, bridge])) {
    await ipr
      .ip(["route", "del", r.dst, "via", r.gateway ?? "", "dev", r.dev ?? ""])
      .catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    removedRoutes.push(r.dst);
  }
  for (const name of [bridge, vxlan]) {
    if (await ipr.deleteLink(name)) removedLinks.push(name);
  }
  // The cluster CIDR only shapes the rules; removal deletes our table and chains by name.
  await new Masquerade({ clusterCIDR: "10.42.0.0/16" }, { exec: opts.exec }).remove();
  if (opts.ipamDbPath !== undefined) {
    for (const suffix of ["", "-wal", "-shm"]) await rm(opts.ipamDbPath + suffix, { force: true });
  }
  log.info({ removedLinks, removedRoutes }, "overlay reset");
  return { removedLinks, removedRoutes };
}
