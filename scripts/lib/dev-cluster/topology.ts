/**
 * The dev cluster's wires: an isolated LAN and one network namespace per node.
 *
 *   host: <prefix>0 198.51.100.1/24 ──veth──┐
 *                                 <prefix>-lan netns: bridge br0 (+ dead-end gateway .254,
 *   <prefix>-n1: eth0 198.51.100.11 ──veth──┤          forwarding off: nothing leaves the LAN)
 *   <prefix>-n2: eth0 198.51.100.12 ──veth──┘
 *
 * Design notes
 * - The LAN bridge lives in its own namespace, not on the host: the host's Docker sets the
 *   FORWARD policy to DROP and br_netfilter would run bridged VXLAN traffic through it.
 * - Nodes get a default route to a dead-end gateway (recipes/netns-cluster.sh: ClusterIP DNAT
 *   from a node needs *some* route), so a pod's traffic to the outside ends in the LAN
 *   namespace instead of leaving the machine through the host.
 * - Deleting a namespace deletes every link in it (and the veth peer outside), so `down` only
 *   needs the recorded namespace names; the host link is deleted by name as a fallback.
 */
import { execFileSync } from "node:child_process";

function run(file: string, args: string[]): string {
  try {
    return execFileSync(file, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${[file, ...args].join(" ")}: ${(e.stderr ?? "").trim() || e.message}`);
  }
}

export function ip(args: string[]): string {
  return run("ip", args);
}

export function netnsExists(name: string): boolean {
  return ip(["netns", "list"])
    .split("\n")
    .some((l) => l.split(" ")[0] === name);
}

export function linkExists(name: string, netns?: string): boolean {
  try {
    ip([...(netns ? ["-n", netns] : []), "link", "show", "dev", name]);
    return true;
  } catch {
    return false;
  }
}

/** Checks that this kernel can make a VXLAN device (in the throwaway LAN namespace). */
export function checkVxlan(netns: string): void {
  try {
    ip([
      "-n",
      netns,
      "link",
      "add",
      "ekvxcheck",
      "type",
      "vxlan",
      "id",
      "42",
      "dstport",
      "8472",
      "nolearning",
    ]);
    ip(["-n", netns, "link", "del", "ekvxcheck"]);
  } catch (err) {
    throw new Error(
      `this kernel cannot create VXLAN devices (${(err as Error).message}): load the module with "modprobe vxlan" (Debian: linux-image with CONFIG_VXLAN)`,
    );
  }
}

export function createLan(o: {
  lanNetns: string;
  hostLink: string;
  hostIP: string;
  deadEndIP: string;
  prefixLength: number;
}): void {
  ip(["netns", "add", o.lanNetns]);
  ip(["-n", o.lanNetns, "link", "set", "lo", "up"]);
  ip(["-n", o.lanNetns, "link", "add", "br0", "type", "bridge"]);
  ip(["-n", o.lanNetns, "addr", "add", `${o.deadEndIP}/${o.prefixLength}`, "dev", "br0"]);
  ip(["-n", o.lanNetns, "link", "set", "br0", "up"]);
  run("ip", ["netns", "exec", o.lanNetns, "sysctl", "-qw", "net.ipv4.ip_forward=0"]);
  ip(["link", "add", o.hostLink, "type", "veth", "peer", "name", "host", "netns", o.lanNetns]);
  ip(["-n", o.lanNetns, "link", "set", "host", "master", "br0", "up"]);
  ip(["addr", "add", `${o.hostIP}/${o.prefixLength}`, "dev", o.hostLink]);
  ip(["link", "set", o.hostLink, "up"]);
}

export function addNodeNamespace(o: {
  lanNetns: string;
  netns: string;
  lanPort: string;
  ip: string;
  prefixLength: number;
  deadEndIP: string;
}): void {
  ip(["netns", "add", o.netns]);
  ip(["-n", o.netns, "link", "set", "lo", "up"]);
  ip(["-n", o.lanNetns, "link", "add", o.lanPort, "type", "veth", "peer", "name", "eth0", "netns", o.netns]);
  ip(["-n", o.lanNetns, "link", "set", o.lanPort, "master", "br0", "up"]);
  ip(["-n", o.netns, "addr", "add", `${o.ip}/${o.prefixLength}`, "dev", "eth0"]);
  ip(["-n", o.netns, "link", "set", "eth0", "up"]);
  ip(["-n", o.netns, "route", "add", "default", "via", o.deadEndIP]);
  const sysctl = (kv: string) => run("nsenter", [`--net=/run/netns/${o.netns}`, "sysctl", "-qw", kv]);
  sysctl("net.ipv4.conf.all.rp_filter=0");
  sysctl("net.ipv4.conf.default.rp_filter=0");
}

export function deleteNetns(name: string | undefined): void {
  if (name && netnsExists(name)) ip(["netns", "del", name]);
}

/** Deleting the LAN namespace removes the host end too, asynchronously: gone meanwhile is fine. */
export function deleteHostLink(name: string | undefined): void {
  if (!name || !linkExists(name)) return;
  try {
    ip(["link", "del", name]);
  } catch (err) {
    if (linkExists(name)) throw err;
  }
}
