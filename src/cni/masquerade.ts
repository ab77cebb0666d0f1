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
 * - VXLAN outer packets are not connection-tracked (raw-priority `notrack` for UDP to the VXLAN
 *   port, from and to this node's IP). Each direction of a tunnelled flow is a different UDP
 *   tuple (the source port is a hash of the inner flow), so conntrack never sees a reply and
 *   keeps every outer packet in state NEW: each one then paid a conntrack lookup and ran the
 *   service rules' `ct state new` checks (a set lookup and a fib lookup) on both nodes. Measured
 *   with bench/net: the overlay's kernel CPU per byte fell by ≈20% (Cilium untracks its tunnel
 *   port for the same reason). Nothing needs the state: the outer packets are never NATed, and
 *   pods' own UDP to port 8472 elsewhere is still tracked (it is forwarded, not sent from or to
 *   the node IP). Trade-off: a host-network process reaching a ClusterIP on UDP port 8472 would
 *   not be DNATed; the node's own VXLAN socket holds that port anyway.
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
export const IPT_RAW_CHAIN = "EDGEKUBE-NOTRACK";
/** Our iptables chains: table, chain, the built-in chains that jump to it. */
const IPT_CHAINS = [
  ["nat", IPT_NAT_CHAIN, ["POSTROUTING"]],
  ["filter", IPT_FWD_CHAIN, ["FORWARD"]],
  ["raw", IPT_RAW_CHAIN, ["PREROUTING", "OUTPUT"]],
] as const;
const MASQ_MARK = "0x4000";
const COMMENT = "edgekube pod network";

/** The VXLAN outer packets to leave untracked: UDP to `port` from or to this node's IP. */
export interface VxlanNoTrack {
  nodeIP: string;
  port: number;
}

/** The nftables script that (re)creates our table in one transaction. */
export function nftRuleset(clusterCIDR: string, vxlan?: VxlanNoTrack): string {
  const c = parseSubnet(clusterCIDR).cidr;
  const notrack = vxlan
    ? [
        "  chain vxlan-notrack-in {",
        "    type filter hook prerouting priority raw; policy accept;",
        `    ip daddr ${vxlan.nodeIP} udp dport ${vxlan.port} notrack`,
        "  }",
        "  chain vxlan-notrack-out {",
        "    type filter hook output priority raw; policy accept;",
        `    ip saddr ${vxlan.nodeIP} udp dport ${vxlan.port} notrack`,
        "  }",
      ]
    : [];
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
    ...notrack,
    "}",
    "",
  ].join("\n");
}

/** iptables rules of our chains, as argument vectors after `-t TABLE -A CHAIN`. */
export function iptablesRules(
  clusterCIDR: string,
  vxlan?: VxlanNoTrack,
): { nat: string[][]; filter: string[][]; raw: string[][] } {
  const c = parseSubnet(clusterCIDR).cidr;
  const udp = (dir: "-s" | "-d", ip: string, port: number) => [
    dir,
    `${ip}/32`,
    "-p",
    "udp",
    "--dport",
    String(port),
    "-j",
    "CT",
    "--notrack",
  ];
  return {
    raw: vxlan ? [udp("-d", vxlan.nodeIP, vxlan.port), udp("-s", vxlan.nodeIP, vxlan.port)] : [],
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
  private readonly vxlan: VxlanNoTrack | undefined;
  private readonly mode: MasqueradeMode;
  private readonly exec: Exec;
  private readonly log: Logger;

  constructor(
    cfg: { clusterCIDR: string; mode?: MasqueradeMode; vxlan?: VxlanNoTrack },
    deps: { exec: Exec; logger?: Logger },
  ) {
    this.cidr = parseSubnet(cfg.clusterCIDR).cidr;
    this.vxlan = cfg.vxlan;
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
      await this.exec("nft", ["-f", "-"], { input: nftRuleset(this.cidr, this.vxlan) });
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
    const rules = iptablesRules(this.cidr, this.vxlan);
    for (const [table, chain, parents] of IPT_CHAINS) {
      const rs = rules[table];
      if (rs.length === 0) {
        await this.removeIptablesChain(table, chain, parents);
        continue;
      }
      await this.ipt(table, ["-N", chain]).catch((err: unknown) => {
        if (!(err instanceof CommandError && /already exists/i.test(err.stderr))) throw err;
      });
      await this.ipt(table, ["-F", chain]);
      for (const r of rs) await this.ipt(table, ["-A", chain, ...r]);
      const jump = ["-m", "comment", "--comment", COMMENT, "-j", chain];
      for (const parent of parents) {
        const present = await this.ipt(table, ["-C", parent, ...jump]).then(
          () => true,
          () => false,
        );
        if (!present) await this.ipt(table, ["-I", parent, "1", ...jump]);
      }
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
    for (const [table, chain, parents] of IPT_CHAINS) await this.removeIptablesChain(table, chain, parents);
  }

  private async removeIptablesChain(table: string, chain: string, parents: readonly string[]): Promise<void> {
    const jump = ["-m", "comment", "--comment", COMMENT, "-j", chain];
    for (const parent of parents) {
      // A jump may have been added more than once by an older, interrupted install.
      for (let i = 0; i < 16; i++) {
        const gone = await this.ipt(table, ["-D", parent, ...jump]).then(
          () => false,
          () => true,
        );
        if (gone) break;
      }
    }
    await this.ipt(table, ["-F", chain]).catch((err: unknown) => {
      if (!missing(err)) throw err;
    });
    await this.ipt(table, ["-X", chain]).catch((err: unknown) => {
      if (!missing(err)) throw err;
    });
  }
}
