/**
 * resetOverlay: removes from a host everything the overlay created (`edge-agent reset`,
 * uninstall, and tests that must leave nothing behind).
 *
 * Design notes
 * - Removed: the host ends of pod veths we made (enslaved to our bridge *and* named like
 *   hostVethName's output: a veth someone else attached to cni0 is left alone), the cni0 bridge,
 *   the flannel.1 VXLAN device (its routes, ARP and FDB entries go with it), the masquerade
 *   rules of both backends, and, when given, the IPAM lease file.
 * - Every step tolerates "already gone", so reset can be run twice or after a partial setup.
 * - The sysctls (ip_forward, bridge-nf-call-iptables) are left as they are: other software on the
 *   host may rely on them, and turning forwarding off would cut it off.
 */
import { rm } from "node:fs/promises";
import type { Logger } from "../lib/logger.js";
import { silentLogger } from "../lib/logger.js";
import type { Exec } from "./exec.js";
import { IpRoute } from "./iproute.js";
import { Masquerade } from "./masquerade.js";
import { isOurHostVeth } from "./pod-network.js";

export interface ResetOptions {
  exec: Exec;
  vxlanName?: string;
  bridgeName?: string;
  /** delete this IPAM SQLite file (and its -wal/-shm) too */
  ipamDbPath?: string;
  logger?: Logger;
}

export interface ResetReport {
  removedLinks: string[];
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
  for (const name of [bridge, vxlan]) {
    if (await ipr.deleteLink(name)) removedLinks.push(name);
  }
  // The cluster CIDR only shapes the rules; removal deletes our table and chains by name.
  await new Masquerade({ clusterCIDR: "10.42.0.0/16" }, { exec: opts.exec }).remove();
  if (opts.ipamDbPath !== undefined) {
    for (const suffix of ["", "-wal", "-shm"]) await rm(opts.ipamDbPath + suffix, { force: true });
  }
  log.info({ removedLinks }, "overlay reset");
  return { removedLinks };
}
