/**
 * Address-pool LoadBalancer addresses on the wire: which node answers ARP for a pool address
 * (MetalLB layer-2 semantics), and putting the address on this node when it is the one.
 *
 * Design notes
 * - In klipper mode the ingress addresses are the nodes' own, which already answer ARP. A pool
 *   address (one that is no Node's address) must be claimed by exactly one node, or no client
 *   on the LAN finds it. Every agent runs the same election over the same cached data, so they
 *   agree without talking to each other or to the hub (it keeps working offline).
 * - Election as MetalLB's speakers do it: candidates are Ready nodes not labelled
 *   `node.kubernetes.io/exclude-from-external-load-balancers`; for externalTrafficPolicy Local
 *   only nodes with a ready endpoint of the service (traffic must not leave the node); services
 *   sharing an address must agree, so their candidate sets are intersected. The winner is the
 *   candidate with the lowest sha256("<node>#<ip>"), which spreads addresses over nodes and
 *   moves only the addresses of a node that leaves.
 * - The claim is the address as /32 on `lo` under the label `lo:edgekube-lb`: Linux answers ARP
 *   on the LAN interface for any local address (arp_ignore 0), and the proxy's rules DNAT it
 *   like any LoadBalancer ingress. The label lets reset and the next agent start find exactly
 *   ours. No gratuitous ARP is sent on failover (no arping here): clients re-ARP when their
 *   entry expires.
 */
import { createHash } from "node:crypto";
import type { Node, Service } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import type { Exec } from "../../cni/exec.js";

export const LB_LO_LABEL = "lo:edgekube-lb";
const EXCLUDE_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers";
const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

function nodeAddresses(nodes: readonly Node[]): Set<string> {
  return new Set(nodes.flatMap((n) => (n.status?.addresses ?? []).map((a) => a.address)));
}

function ready(n: Node): boolean {
  return (n.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

function score(node: string, ip: string): string {
  return createHash("sha256").update(`${node}#${ip}`).digest("hex");
}

/** The pool addresses (ingress IPs that are no Node's address) this node must answer for. */
export function electedAddresses(
  services: readonly Service[],
  slices: readonly EndpointSlice[],
  nodes: readonly Node[],
  nodeName: string,
): string[] {
  const own = nodeAddresses(nodes);
  const eligible = nodes
    .filter((n) => ready(n) && n.metadata?.labels?.[EXCLUDE_LABEL] === undefined)
    .map((n) => n.metadata?.name ?? "");
  // ip → candidate nodes (intersection over the services sharing it)
  const candidates = new Map<string, Set<string>>();
  for (const svc of services) {
    if (svc.spec?.type !== "LoadBalancer") continue;
    let nodesForSvc = new Set(eligible);
    if (svc.spec.externalTrafficPolicy === "Local") {
      const key = svc.metadata?.name;
      const withEndpoints = new Set<string>();
      for (const s of slices) {
        if (
          s.metadata?.namespace !== svc.metadata?.namespace ||
          s.metadata?.labels?.[SERVICE_NAME_LABEL] !== key
        )
          continue;
        for (const ep of s.endpoints ?? [])
          if (ep.conditions?.ready !== false && ep.nodeName) withEndpoints.add(ep.nodeName);
      }
      nodesForSvc = new Set([...nodesForSvc].filter((n) => withEndpoints.has(n)));
    }
    for (const ing of svc.status?.loadBalancer?.ingress ?? []) {
      const ip = ing.ip;
      if (!ip || own.has(ip)) continue;
      const prev = candidates.get(ip);
      candidates.set(ip, prev ? new Set([...prev].filter((n) => nodesForSvc.has(n))) : nodesForSvc);
    }
  }
  const mine: string[] = [];
  for (const [ip, set] of candidates) {
    const winner = [...set].sort((a, b) => score(a, ip).localeCompare(score(b, ip)))[0];
    if (winner === nodeName) mine.push(ip);
  }
  return mine.sort();
}

/** Addresses currently carrying `label` on lo. */
export async function labelledLoAddresses(exec: Exec, label: string): Promise<string[]> {
  const { stdout } = await exec("ip", ["-json", "addr", "show", "dev", "lo"]);
  const links = JSON.parse(stdout || "[]") as { addr_info?: { local?: string; label?: string }[] }[];
  return links
    .flatMap((l) => l.addr_info ?? [])
    .filter((a) => a.label === label && a.local)
    .map((a) => a.local ?? "");
}

/** Makes the set of `lo:edgekube-lb` addresses equal to `want`; returns what changed. */
export async function announce(
  exec: Exec,
  want: readonly string[],
): Promise<{ added: string[]; removed: string[] }> {
  const have = new Set(await labelledLoAddresses(exec, LB_LO_LABEL));
  const wanted = new Set(want);
  const added = want.filter((ip) => !have.has(ip));
  const removed = [...have].filter((ip) => !wanted.has(ip));
  for (const ip of added)
    await exec("ip", ["addr", "replace", `${ip}/32`, "dev", "lo", "label", LB_LO_LABEL]);
  for (const ip of removed) await exec("ip", ["addr", "del", `${ip}/32`, "dev", "lo"]);
  if (added.length > 0) await exec("ip", ["link", "set", "lo", "up"]);
  return { added, removed };
}
