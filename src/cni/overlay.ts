/**
 * VxlanOverlay: the node side of the flannel-style VXLAN pod network.
 *
 * Design notes
 * - Layout (DESIGN.md "Overlay", docs/overlay.md): `flannel.1` is a VXLAN device, VNI 1, UDP
 *   8472, bound to the node IP on the underlay device, `nolearning`, MTU underlay−50 (the VXLAN
 *   header overhead); it carries the podCIDR's `.0` as a /32. `cni0` is a bridge with a fixed
 *   MAC and the podCIDR's `.1`; pods hang off it by veth (pod-network.ts).
 * - setupNode() is create-or-repair: an existing flannel.1 whose VNI/port/local/underlay
 *   differ is deleted and recreated (the kernel cannot change them in place), wrong MACs, MTUs
 *   and stray addresses are corrected. Both MACs are derived from the podCIDR (subnet.ts), so a
 *   recreated device keeps the VTEP MAC that the peers and the node annotation already carry.
 * - reconcilePeers() is driven by the peer list alone (flannel: "1 route, 1 ARP entry and 1 FDB
 *   entry per host", or one underlay route per same-segment peer with `directRouting`); it
 *   reads what is there, diffs and changes only what differs (peer-sync.ts). Calls are
 *   serialised, so overlapping node events cannot interleave their writes.
 * - sysctls: ip_forward on; bridge-nf-call-iptables on where br_netfilter exists (without it a
 *   pod reaching a ClusterIP backend on its own bridge gets replies that skip un-DNAT).
 * - Nothing here talks to Kubernetes: inputs are plain data, nodeAnnotations() is what the
 *   agent publishes on its Node so peers can program it.
 */
import type { Logger } from "../lib/logger.js";
import { silentLogger } from "../lib/logger.js";
import { DIRECT_ROUTING_KEY } from "./direct-routing.js";
import type { Exec } from "./exec.js";
import { IpRoute } from "./iproute.js";
import { type PeerReconcileResult, syncPeers } from "./peer-sync.js";
import type { Peer } from "./peers.js";
import {
  gatewayAddress,
  type Ipv4Subnet,
  ipToNumber,
  macFromIp,
  parseSubnet,
  vtepAddress,
} from "./subnet.js";

export const ANNOTATION_BACKEND_DATA = "flannel.alpha.coreos.com/backend-data";
export const ANNOTATION_BACKEND_TYPE = "flannel.alpha.coreos.com/backend-type";
export const ANNOTATION_KUBE_SUBNET_MANAGER = "flannel.alpha.coreos.com/kube-subnet-manager";
export const ANNOTATION_PUBLIC_IP = "flannel.alpha.coreos.com/public-ip";

export const VXLAN_OVERHEAD = 50;

export interface OverlayConfig {
  nodeName: string;
  /** this node's underlay address; VXLAN packets leave from it */
  nodeIP: string;
  /** this node's /24 (node.spec.podCIDR) */
  podCIDR: string;
  /** the whole pod network, 10.42.0.0/16 by default */
  clusterCIDR: string;
  /** pod/overlay MTU; default: the underlay device's MTU − 50 */
  mtu?: number;
  /** underlay device; default: the device that carries nodeIP */
  iface?: string;
  vni?: number;
  port?: number;
  vxlanName?: string;
  bridgeName?: string;
  /**
   * flannel's vxlan DirectRouting: peers on the underlay's own segment that announce it too are
   * routed over the underlay without encapsulation (direct-routing.ts). Default off.
   */
  directRouting?: boolean;
}

export interface NodeSetup {
  vtepMAC: string;
  mtu: number;
  iface: string;
  gateway: string;
  bridgeMAC: string;
}

export type { PeerReconcileResult } from "./peer-sync.js";

export class OverlayError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "OverlayError";
  }
}

export class VxlanOverlay {
  readonly podCIDR: Ipv4Subnet;
  readonly clusterCIDR: Ipv4Subnet;
  readonly vxlanName: string;
  readonly bridgeName: string;
  readonly vtepMAC: string;
  readonly bridgeMAC: string;
  private readonly ipr: IpRoute;
  private readonly log: Logger;
  private readonly vni: number;
  readonly port: number;
  private setup: NodeSetup | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly cfg: OverlayConfig,
    deps: { exec: Exec; logger?: Logger },
  ) {
    this.podCIDR = parseSubnet(cfg.podCIDR);
    this.clusterCIDR = parseSubnet(cfg.clusterCIDR);
    ipToNumber(cfg.nodeIP);
    this.vni = cfg.vni ?? 1;
    this.port = cfg.port ?? 8472;
    this.vxlanName = cfg.vxlanName ?? "flannel.1";
    this.bridgeName = cfg.bridgeName ?? "cni0";
    this.vtepMAC = macFromIp(vtepAddress(this.podCIDR));
    this.bridgeMAC = macFromIp(gatewayAddress(this.podCIDR));
    this.ipr = new IpRoute(deps.exec);
    this.log = (deps.logger ?? silentLogger()).child({ component: "cni-overlay", node: cfg.nodeName });
  }

  async start(_signal: AbortSignal): Promise<void> {
    await this.setupNode();
  }

  /** The overlay stays up when the agent stops: pods keep their network. reset.ts tears it down. */
  stop(): void {}

  /** MTU pods must use (known after setupNode). */
  get mtu(): number | undefined {
    return this.setup?.mtu;
  }

  async setupNode(): Promise<NodeSetup> {
    return this.serial(() => this.doSetup());
  }

  async reconcilePeers(peers: readonly Peer[]): Promise<PeerReconcileResult> {
    return this.serial(() => this.doReconcile(peers));
  }

  nodeAnnotations(): Record<string, string> {
    return {
      [ANNOTATION_BACKEND_DATA]: JSON.stringify({
        VNI: this.vni,
        VtepMAC: this.vtepMAC,
        ...(this.cfg.directRouting === true ? { [DIRECT_ROUTING_KEY]: true } : {}),
      }),
      [ANNOTATION_BACKEND_TYPE]: "vxlan",
      [ANNOTATION_KUBE_SUBNET_MANAGER]: "true",
      [ANNOTATION_PUBLIC_IP]: this.cfg.nodeIP,
    };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async underlay(): Promise<{ iface: string; mtu: number }> {
    const links = await this.ipr.allAddrs();
    const carrier = links.find((l) =>
      l.addrs.some((a) => a.family === "inet" && a.local === this.cfg.nodeIP),
    );
    if (this.cfg.iface !== undefined) {
      const named = links.find((l) => l.ifname === this.cfg.iface);
      if (!named)
        throw new OverlayError(`underlay interface ${this.cfg.iface} does not exist: check --iface`);
      if (carrier && carrier.ifname !== named.ifname) {
        throw new OverlayError(
          `node IP ${this.cfg.nodeIP} is on ${carrier.ifname}, not on ${named.ifname}: fix the node IP or --iface`,
        );
      }
      return { iface: named.ifname, mtu: named.mtu };
    }
    if (!carrier) {
      throw new OverlayError(
        `no interface carries the node IP ${this.cfg.nodeIP}: give the node IP of this host, or name the underlay interface`,
      );
    }
    return { iface: carrier.ifname, mtu: carrier.mtu };
  }

  private async doSetup(): Promise<NodeSetup> {
    const { iface, mtu: underlayMtu } = await this.underlay();
    const mtu = this.cfg.mtu ?? underlayMtu - VXLAN_OVERHEAD;
    if (mtu < 576) {
      throw new OverlayError(
        `overlay MTU ${mtu} is too small (underlay ${iface} has MTU ${underlayMtu}): raise it`,
      );
    }
    await this.ipr.sysctl("net.ipv4.ip_forward", "1");
    await this.ensureVxlan(iface, mtu);
    await this.ensureBridge(mtu);
    try {
      await this.ipr.sysctl("net.bridge.bridge-nf-call-iptables", "1");
    } catch (err) {
      this.log.warn(
        { err },
        "br_netfilter is missing (modprobe br_netfilter): same-node ClusterIP traffic may fail",
      );
    }
    const gateway = gatewayAddress(this.podCIDR);
    this.setup = { vtepMAC: this.vtepMAC, mtu, iface, gateway, bridgeMAC: this.bridgeMAC };
    this.log.info({ iface, mtu, vtepMAC: this.vtepMAC, podCIDR: this.podCIDR.cidr }, "overlay ready");
    return this.setup;
  }

  private async ensureVxlan(iface: string, mtu: number): Promise<void> {
    const name = this.vxlanName;
    const cur = await this.ipr.getLink(name);
    const vx = cur?.vxlan;
    const compatible =
      cur?.kind === "vxlan" &&
      vx?.id === this.vni &&
      vx.local === this.cfg.nodeIP &&
      vx.port === this.port &&
      vx.link === iface &&
      vx.learning === false;
    if (cur && !compatible) {
      this.log.warn({ found: cur.vxlan ?? cur.kind }, `recreating ${name}: its settings do not match`);
      await this.ipr.deleteLink(name);
    }
    if (!cur || !compatible) {
      await this.ipr.addVxlan({
        name,
        vni: this.vni,
        local: this.cfg.nodeIP,
        dev: iface,
        port: this.port,
        mac: this.vtepMAC,
      });
    } else if (cur.address !== this.vtepMAC) {
      await this.ipr.ip(["link", "set", "dev", name, "address", this.vtepMAC]);
    }
    await this.ipr.ip(["link", "set", "dev", name, "mtu", String(mtu), "up"]);
    await this.ensureOnlyAddress(name, vtepAddress(this.podCIDR), 32);
  }

  private async ensureBridge(mtu: number): Promise<void> {
    const name = this.bridgeName;
    const cur = await this.ipr.getLink(name);
    if (cur && cur.kind !== "bridge") {
      throw new OverlayError(
        `${name} exists but is a ${cur.kind ?? "non-bridge"} link: delete it (ip link del ${name})`,
      );
    }
    if (!cur) {
      await this.ipr.ip(["link", "add", name, "address", this.bridgeMAC, "type", "bridge"]);
    } else if (cur.address !== this.bridgeMAC) {
      await this.ipr.ip(["link", "set", "dev", name, "address", this.bridgeMAC]);
    }
    await this.ipr.ip(["link", "set", "dev", name, "mtu", String(mtu), "up"]);
    await this.ensureOnlyAddress(name, gatewayAddress(this.podCIDR), this.podCIDR.prefixLength);
  }

  /** Exactly one IPv4 address on `dev`: stale ones (an old podCIDR) would attract traffic. */
  private async ensureOnlyAddress(dev: string, ip: string, prefix: number): Promise<void> {
    const addrs = (await this.ipr.addrs(dev)).filter((a) => a.family === "inet");
    for (const a of addrs) {
      if (a.local !== ip || a.prefixlen !== prefix) {
        await this.ipr.ip(["addr", "del", `${a.local}/${a.prefixlen}`, "dev", dev]);
      }
    }
    if (!addrs.some((a) => a.local === ip && a.prefixlen === prefix)) {
      await this.ipr.ip(["addr", "replace", `${ip}/${prefix}`, "dev", dev]);
    }
  }

  private async doReconcile(peers: readonly Peer[]): Promise<PeerReconcileResult> {
    const dev = this.vxlanName;
    if (!(await this.ipr.getLink(dev))) {
      throw new OverlayError(`${dev} does not exist: set up the node (setupNode) before programming peers`);
    }
    const iface = this.setup?.iface ?? (await this.underlay()).iface;
    return syncPeers(
      this.ipr,
      {
        nodeName: this.cfg.nodeName,
        podCIDR: this.podCIDR,
        clusterCIDR: this.clusterCIDR,
        vxlanName: dev,
        bridgeName: this.bridgeName,
        iface,
        directRouting: this.cfg.directRouting === true,
      },
      peers,
      this.log,
    );
  }
}
