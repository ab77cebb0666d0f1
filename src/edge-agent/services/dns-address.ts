/**
 * The cluster DNS address (10.43.0.10) on every node: a dedicated dummy interface
 * `edgekube-dns` carrying ADDRESS/32 in the agent's network namespace.
 *
 * Design notes
 * - Each agent answers DNS itself (no DNS pods, nothing crosses the overlay), so the address
 *   must be local on every node. A /32 on a dummy link makes it local without any route or ARP
 *   side effect: pods reach it through their default route to cni0 (the node), the kernel
 *   delivers it to the socket bound there, and the reply goes back the same way.
 * - Not on `lo`: a /32 there would be indistinguishable from addresses an administrator put
 *   there, and reset must remove exactly what we added. Not on cni0: that bridge exists only
 *   once the overlay has a podCIDR, and DNS must work for host-network pods before that.
 * - In production the agent runs in the host namespace, so the link is the host's; in the dev
 *   cluster and tests each node is a network namespace and the link lives there.
 * - ensure() is idempotent (an agent restart keeps the link; DNS keeps answering across it
 *   only for as long as the socket is closed, i.e. the restart itself); remove() is for
 *   `edge-agent reset` and tolerates a missing link.
 */
import { CommandError, type Exec } from "../../cni/exec.js";

export const DNS_LINK = "edgekube-dns";

export async function ensureDnsAddress(exec: Exec, address: string, link = DNS_LINK): Promise<void> {
  try {
    await exec("ip", ["link", "add", link, "type", "dummy"]);
  } catch (err) {
    if (!(err instanceof CommandError && /File exists/i.test(err.stderr))) {
      throw new Error(
        `cannot create the dummy interface ${link} for the cluster DNS address ${address}: ${(err as Error).message}; ` +
          "the agent needs CAP_NET_ADMIN (run it as root) and the dummy kernel module (modprobe dummy)",
        { cause: err },
      );
    }
  }
  await exec("ip", ["addr", "replace", `${address}/32`, "dev", link]);
  await exec("ip", ["link", "set", link, "up"]);
}

/** Deletes the link (and with it the address); true when it existed. */
export async function removeDnsAddress(exec: Exec, link = DNS_LINK): Promise<boolean> {
  try {
    await exec("ip", ["link", "del", link]);
    return true;
  } catch (err) {
    if (err instanceof CommandError && /Cannot find device|does not exist/i.test(err.stderr)) return false;
    throw err;
  }
}

/** Nameservers of a resolv.conf text, without `exclude` (the cluster DNS itself: no loops). */
export function upstreamsFromResolvConf(text: string, exclude: string): { address: string }[] {
  const out: { address: string }[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    const ip = m?.[1];
    if (!ip || ip === exclude || ip.includes(":")) continue;
    if (!out.some((u) => u.address === ip)) out.push({ address: ip });
  }
  return out;
}
