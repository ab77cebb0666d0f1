/**
 * Masquerade: NAT for pod egress that leaves the cluster CIDR, and FORWARD acceptance for it.
 *
 * Design notes
 * - Rules (flannel's, minus what we do not need):
 *     packets carrying kube-proxy's masquerade mark 0x4000 → left to the service rules (src/lb);
 *     cluster → cluster                                   → never NATed (pods see pod IPs);
 *     cluster → anything else but multicast               → MASQUERADE, fully random ports.
 *   Matching on the pod source address is what keeps the VXLAN outer packet (source = node IP)
 *   out of NAT; the service rules must clear the mark before their MASQUERADE for the same reason.
 * - FORWARD: accept traffic from and to the cluster CIDR, because Docker sets the iptables
 *   FORWARD policy to DROP when it enables forwarding itself.
 * - Two backends with the same rules: nftables in its own table `ip edgekube` (replaced
 *   atomically in one `nft -f` transaction), or iptables with dedicated chains EDGEKUBE-POSTRTG
 *   (nat) and EDGEKUBE-FWD (filter) jumped to from POSTROUTING and FORWARD. `auto` picks nftables
 *   unless iptables' FORWARD policy is DROP: an accept in our own nft table cannot overrule a
 *   drop in another table on the same hook, so then the accept must live in that iptables chain.
 * - install() is idempotent (chains are flushed and refilled, jumps added once); remove() deletes
 *   whatever either backend created and is safe when nothing exists.
 */
import type { Logger } from "../lib/logger.js";
import { silentLogger } from "../lib/logger.js";
import { CommandError, type Exec } from "./exec.js";
import { parseSubnet } from "./subnet.js";

export type MasqueradeMode = "auto" | "nftables" | "iptables";
export type MasqueradeBackend = "nftables" | "iptables";

export const NFT_TABLE = "edgekube";
export const IPT_NAT_CHAIN = "EDGEKUBE-POSTRTG";
export const IPT_FWD_CHAIN = "EDGEKUBE-FWD";
const MASQ_MARK = "0x4000";
const COMMENT = "edgekube pod network";

/** The nftables script that (re)creates our table in one transaction. */
export function nftRuleset(clusterCIDR: string): string {
  const c = parseSubnet(clusterCIDR).cidr;
  return [
    `table ip ${NFT_TABLE} {}`,
    `delete table ip ${NFT_TABLE}`,
    `table ip ${NFT_TABLE} {`,
    "  chain postrouting {",
    "    type nat hook postrouting priority srcnat; policy accept;",
    `    meta mark & ${MASQ_MARK} == ${MASQ_MARK} return`,
    `    ip saddr ${c} ip daddr ${c} return`,
    `    ip saddr ${c} ip daddr != 224.0.0.0/4 masquerade fully-random`,
    "  }",
    "  chain forward {",
    "    type filter hook forward priority filter; policy accept;",
    `    ip saddr ${c} accept`,
    `    ip daddr ${c} accept`,
    "  }",
    "}",
    "",
  ].join("\n");
}

/** iptables rules of our two chains, as argument vectors after `-t TABLE -A CHAIN`. */
export function iptablesRules(clusterCIDR: string): { nat: string[][]; filter: string[][] } {
  const c = parseSubnet(clusterCIDR).cidr;
  return {
    nat: [
      ["-m", "mark", "--mark", `${MASQ_MARK}/${MASQ_MARK}`, "-j", "RETURN"],
      ["-s", c, "-d", c, "-j", "RETURN"],
      ["-s", c, "!", "-d", "224.0.0.0/4", "-j", "MASQUERADE", "--random-fully"],
    ],
    filter: [
      ["-s", c, "-j", "ACCEPT"],
      ["-d", c, "-j", "ACCEPT"],
    ],
  };
}

const missing = (err: unknown) =>
  err instanceof CommandError &&
  /No such file or directory|does not exist|No chain\/target\/match|Bad rule|not found/i.test(err.stderr);

export class Masquerade {
  private readonly cidr: string;
  private readonly mode: MasqueradeMode;
  private readonly exec: Exec;
  private readonly log: Logger;

  constructor(cfg: { clusterCIDR: string; mode?: MasqueradeMode }, deps: { exec: Exec; logger?: Logger }) {
    this.cidr = parseSubnet(cfg.clusterCIDR).cidr;
    this.mode = cfg.mode ?? "auto";
    this.exec = deps.exec;
    this.log = (deps.logger ?? silentLogger()).child({ component: "cni-masquerade" });
  }

  /** Which backend `auto` resolves to on this host. */
  async chooseBackend(): Promise<MasqueradeBackend> {
    if (this.mode !== "auto") return this.mode;
    const policy = await this.exec("iptables", ["-w", "-S", "FORWARD"]).then(
      (r) => r.stdout,
      () => "",
    );
    if (/^-P FORWARD DROP/m.test(policy)) return "iptables";
    const nft = await this.exec("nft", ["list", "tables"]).then(
      () => true,
      () => false,
    );
    return nft ? "nftables" : "iptables";
  }

  /** Installs (or refreshes) the rules; removes the other backend's leftovers. */
  async install(): Promise<MasqueradeBackend> {
    const backend = await this.chooseBackend();
    if (backend === "nftables") {
      await this.removeIptables();
      await this.exec("nft", ["-f", "-"], { input: nftRuleset(this.cidr) });
    } else {
      await this.removeNft();
      await this.installIptables();
    }
    this.log.info({ backend, clusterCIDR: this.cidr }, "pod egress masquerade installed");
    return backend;
  }

  /** Removes everything either backend created. */
  async remove(): Promise<void> {
    await this.removeNft();
    await this.removeIptables();
  }

  private ipt(table: string, args: string[]): Promise<unknown> {
    return this.exec("iptables", ["-w", "-t", table, ...args]);
  }

  private async installIptables(): Promise<void> {
    const rules = iptablesRules(this.cidr);
    for (const [table, chain, parent, rs] of [
      ["nat", IPT_NAT_CHAIN, "POSTROUTING", rules.nat],
      ["filter", IPT_FWD_CHAIN, "FORWARD", rules.filter],
    ] as const) {
      await this.ipt(table, ["-N", chain]).catch((err: unknown) => {
        if (!(err instanceof CommandError && /already exists/i.test(err.stderr))) throw err;
      });
      await this.ipt(table, ["-F", chain]);
      for (const r of rs) await this.ipt(table, ["-A", chain, ...r]);
      const jump = ["-m", "comment", "--comment", COMMENT, "-j", chain];
      const present = await this.ipt(table, ["-C", parent, ...jump]).then(
        () => true,
        () => false,
      );
      if (!present) await this.ipt(table, ["-I", parent, "1", ...jump]);
    }
  }

  private async removeNft(): Promise<void> {
    const hasNft = await this.exec("nft", ["--version"]).then(
      () => true,
      () => false,
    );
    if (!hasNft) return;
    await this.exec("nft", ["delete", "table", "ip", NFT_TABLE]).catch((err: unknown) => {
      if (!missing(err)) throw err;
    });
  }

  private async removeIptables(): Promise<void> {
    const hasIpt = await this.exec("iptables", ["--version"]).then(
      () => true,
      () => false,
    );
    if (!hasIpt) return;
    for (const [table, chain, parent] of [
      ["nat", IPT_NAT_CHAIN, "POSTROUTING"],
      ["filter", IPT_FWD_CHAIN, "FORWARD"],
    ] as const) {
      const jump = ["-m", "comment", "--comment", COMMENT, "-j", chain];
      // A jump may have been added more than once by an older, interrupted install.
      for (let i = 0; i < 16; i++) {
        const gone = await this.ipt(table, ["-D", parent, ...jump]).then(
          () => false,
          () => true,
        );
        if (gone) break;
      }
      await this.ipt(table, ["-F", chain]).catch((err: unknown) => {
        if (!missing(err)) throw err;
      });
      await this.ipt(table, ["-X", chain]).catch((err: unknown) => {
        if (!missing(err)) throw err;
      });
    }
  }
}
