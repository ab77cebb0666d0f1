/**
 * The cluster DNS address (10.43.0.10) on every node: ADDRESS/32 on a dedicated dummy
 * interface `edgekube-dns` in the agent's network namespace, or — on kernels without the dummy
 * driver — on `lo` under the address label `lo:edgekube-dns`.
 *
 * Design notes
 * - Each agent answers DNS itself (no DNS pods, nothing crosses the overlay), so the address
 *   must be local on every node. A /32 on a dummy link or lo makes it local without any route
 *   or ARP side effect: pods reach it through their default route to cni0 (the node), the
 *   kernel delivers it to the socket bound there, and the reply goes back the same way.
 * - The dummy link is preferred: it is obviously ours and deleting it removes everything. Some
 *   kernels (this project's test machines among them) ship without the dummy driver; then the
 *   address goes on lo with a label, and reset deletes exactly the addresses carrying that
 *   label, never an address an administrator put on lo. Not cni0: that bridge exists only once
 *   the overlay has a podCIDR, and DNS must answer before that.
 * - In production the agent runs in the host namespace, so this is the host's; in the dev
 *   cluster and tests each node is a network namespace and it lives there.
 * - ensure() is idempotent (an agent restart finds the address in place); remove() is for
 *   `edge-agent reset` and tolerates nothing being there.
 */
import { CommandError, type Exec } from "../../cni/exec.js";

export const DNS_LINK = "edgekube-dns";
/** label of the fallback address on lo (≤ 15 characters, must start with "lo") */
export const DNS_LO_LABEL = "lo:edgekube-dns";

/** Puts `address`/32 in place; resolves with where it went. */
export async function ensureDnsAddress(exec: Exec, address: string): Promise<"dummy" | "lo"> {
  let where: "dummy" | "lo" = "dummy";
  try {
    await exec("ip", ["link", "add", DNS_LINK, "type", "dummy"]);
  } catch (err) {
    const stderr = err instanceof CommandError ? err.stderr : "";
    if (/Unknown device type|not supported/i.test(stderr)) where = "lo";
    else if (!/File exists/i.test(stderr)) {
      throw new Error(
        `cannot create the interface ${DNS_LINK} for the cluster DNS address ${address}: ${(err as Error).message}; ` +
          "the agent needs CAP_NET_ADMIN (run it as root)",
        { cause: err },
      );
    }
  }
  if (where === "lo") {
    await exec("ip", ["addr", "replace", `${address}/32`, "dev", "lo", "label", DNS_LO_LABEL]);
    await exec("ip", ["link", "set", "lo", "up"]);
    return "lo";
  }
  await exec("ip", ["addr", "replace", `${address}/32`, "dev", DNS_LINK]);
  await exec("ip", ["link", "set", DNS_LINK, "up"]);
  return "dummy";
}

/** Deletes the dummy link and our labelled addresses on lo; true when anything was there. */
export async function removeDnsAddress(exec: Exec): Promise<boolean> {
  let removed = false;
  try {
    await exec("ip", ["link", "del", DNS_LINK]);
    removed = true;
  } catch (err) {
    if (!(err instanceof CommandError && /Cannot find device|does not exist/i.test(err.stderr))) throw err;
  }
  const { stdout } = await exec("ip", ["-json", "addr", "show", "dev", "lo"]);
  const links = JSON.parse(stdout || "[]") as {
    addr_info?: { local?: string; prefixlen?: number; label?: string }[];
  }[];
  for (const a of links.flatMap((l) => l.addr_info ?? [])) {
    if (a.label !== DNS_LO_LABEL || !a.local) continue;
    await exec("ip", ["addr", "del", `${a.local}/${a.prefixlen ?? 32}`, "dev", "lo"]);
    removed = true;
  }
  return removed;
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
