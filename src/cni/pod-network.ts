/**
 * PodNetwork: CNI ADD/DEL for one node: a veth from a pod's network namespace to cni0.
 *
 * Design notes
 * - What the CNI bridge plugin does, as in recipes/netns-cluster.sh `cni_add`: a veth pair is
 *   created in the node namespace with the overlay MTU on both ends, the pod end is moved into
 *   the pod namespace and renamed (eth0), gets its IPAM address and a default route via cni0's
 *   `.1`; the host end joins cni0 with hairpin on (a pod reaching its own Service address is
 *   sent back out of the port it came from) and comes up last.
 * - The host end's name is derived from the container id (`veth` + 8 hex of its SHA-256), so
 *   unwirePod needs nothing but the id, even after an agent restart, and reset.ts can tell our
 *   veths from anyone else's. The pod end starts under a temporary name (`ekp` + 8 hex) so it
 *   cannot clash with a node interface before it leaves the namespace.
 * - wirePod is retry-safe: when the veth cannot be created because one is left by an earlier,
 *   interrupted attempt (or the pod is re-wired), it is deleted and creation retried once
 *   (deleting one end of a veth destroys the other, wherever it is); the IPAM lease is reused.
 * - Commands go in two `ip -batch` runs (host side, pod side): process spawns dominate the time
 *   to wire a pod on small CPUs.
 * - The pod's interface gets a MAC derived from its address (0a:58:<IPv4>, subnet.ts; what the
 *   CNI bridge plugin did with SetHWAddrByIP). An address handed out again after its pod was
 *   deleted is still mapped to the departed pod's MAC in the ARP tables of cni0 and of the
 *   other pods on the bridge; with a random MAC their traffic to the new pod is dropped until
 *   those entries expire (tens of seconds). Today's plugin sends a gratuitous ARP instead, but
 *   that needs a raw socket in the pod's namespace and races the bridge port coming up (the
 *   kernel's arp_notify announcement is sent before the port forwards). With the MAC following
 *   the address, every existing entry is already right. Unique cluster-wide like the addresses;
 *   pods (.2 and up) never share one with cni0 (.1) or flannel.1 (.0).
 *   A failure part way rolls back the veth and, if this call created it, the lease.
 * - The host end gets receive packet steering over all CPUs (flow-steering.ts): without it one
 *   TCP flow from a pod is processed on two CPUs at once and arrives reordered.
 * - unwirePod is idempotent: unknown ids and a second call are fine.
 */
import { createHash } from "node:crypto";
import type { Logger } from "../lib/logger.js";
import { silentLogger } from "../lib/logger.js";
import { type Exec, netnsExec } from "./exec.js";
import type { FlowSteering } from "./flow-steering.js";
import type { HostLocalIpam } from "./ipam.js";
import { IpRoute } from "./iproute.js";
import { macFromIp } from "./subnet.js";

export interface WirePodRequest {
  /** the pod's network namespace file (/proc/PID/ns/net, /run/netns/NAME) */
  netnsPath: string;
  containerId: string;
  /** interface name inside the pod; default eth0 */
  ifName?: string;
}

export interface WiredPod {
  containerId: string;
  ip: string;
  prefixLength: number;
  gateway: string;
  hostVeth: string;
  ifName: string;
  /** MAC of the pod's interface */
  mac: string;
}

export interface PodNetworkDeps {
  /** runs commands in the node namespace */
  exec: Exec;
  ipam: HostLocalIpam;
  /** overlay MTU (VxlanOverlay.mtu) */
  mtu: number;
  bridgeName?: string;
  /** runs commands inside a pod namespace; default nsenter --net=PATH on the host */
  podExec?: (netnsPath: string) => Exec;
  /** RPS on each host veth (flow-steering.ts); none: the kernel's default (off) */
  steering?: FlowSteering;
  logger?: Logger;
}

const HOST_VETH_RE = /^veth[0-9a-f]{8}$/;

/** Host-side veth name of a container: stable, 12 characters (IFNAMSIZ allows 15). */
export function hostVethName(containerId: string): string {
  return "veth" + createHash("sha256").update(containerId).digest("hex").slice(0, 8);
}

/** True for names hostVethName can produce (reset.ts deletes only those). */
export function isOurHostVeth(name: string): boolean {
  return HOST_VETH_RE.test(name);
}

export class PodNetwork {
  private readonly ipr: IpRoute;
  private readonly bridge: string;
  private readonly log: Logger;
  private readonly podExec: (netnsPath: string) => Exec;

  constructor(private readonly deps: PodNetworkDeps) {
    this.ipr = new IpRoute(deps.exec);
    this.bridge = deps.bridgeName ?? "cni0";
    this.podExec = deps.podExec ?? ((p) => netnsExec(p));
    this.log = (deps.logger ?? silentLogger()).child({ component: "cni-pod" });
  }

  async wirePod(req: WirePodRequest): Promise<WiredPod> {
    const ifName = req.ifName ?? "eth0";
    const hostVeth = hostVethName(req.containerId);
    const tmpPeer = "ekp" + hostVeth.slice(4);
    const mtu = String(this.deps.mtu);
    const hadLease = this.deps.ipam.get(req.containerId) !== undefined;
    const lease = this.deps.ipam.allocate(req.containerId);
    const pod = new IpRoute(this.podExec(req.netnsPath));
    try {
      // two `ip -batch` runs (host side, pod side) instead of a dozen ip processes: each spawn
      // forks the whole agent (≈25 ms of its CPU at 100 MB RSS; measured with bench/pods, where
      // wiring was the agent's main cost when 50 pods start), and the pod waits for all of them.
      // The host end joins the bridge before the pod end is configured: nothing flows until
      // the pod's interface is up anyway.
      const host =
        `link add ${hostVeth} mtu ${mtu} type veth peer name ${tmpPeer} mtu ${mtu} address ${macFromIp(lease.ip)}\n` +
        `link set dev ${tmpPeer} netns ${req.netnsPath}\n` +
        `link set dev ${hostVeth} master ${this.bridge}\n` +
        `link set dev ${hostVeth} type bridge_slave hairpin on\n` +
        `link set dev ${hostVeth} up\n`;
      try {
        await this.batch(this.deps.exec, host);
      } catch (err) {
        // a veth left by an earlier, interrupted attempt (or a re-wiring): remove and retry once
        const leftover = (await this.ipr.deleteLink(hostVeth)) || (await this.ipr.deleteLink(tmpPeer));
        if (!leftover) throw await this.explainHostFailure(err);
        await this.batch(this.deps.exec, host).catch(async (e: unknown) => {
          throw await this.explainHostFailure(e);
        });
      }
      // the last command prints the interface (JSON): its MAC without another ip process
      const shown = await this.batch(
        this.podExec(req.netnsPath),
        [
          `link set dev ${tmpPeer} name ${ifName}`,
          `addr replace ${lease.ip}/${lease.prefixLength} dev ${ifName}`,
          "link set dev lo up",
          `link set dev ${ifName} up`,
          `route replace default via ${lease.gateway} dev ${ifName}`,
          `link show dev ${ifName}`,
        ].join("\n"),
        true,
      );
      const shownLink = firstLink(shown);
      const mac = shownLink?.address ?? (await pod.getLink(ifName))?.address ?? "";
      await this.steer(hostVeth, shownLink?.peerIndex);
      this.log.debug({ containerId: req.containerId, ip: lease.ip, hostVeth }, "pod wired");
      return {
        containerId: req.containerId,
        ip: lease.ip,
        prefixLength: lease.prefixLength,
        gateway: lease.gateway,
        hostVeth,
        ifName,
        mac,
      };
    } catch (err) {
      await this.ipr.deleteLink(hostVeth).catch(() => false);
      await this.ipr.deleteLink(tmpPeer).catch(() => false);
      if (!hadLease) this.deps.ipam.release(req.containerId);
      throw new Error(
        `wiring the network of container ${req.containerId} failed: ${err instanceof Error ? err.message : String(err)}`,
        {
          cause: err,
        },
      );
    }
  }

  /** Flow steering on the host end; a failure costs only speed, so it is logged, not thrown. */
  private async steer(hostVeth: string, ifindex: number | undefined): Promise<void> {
    const steering = this.deps.steering;
    if (!steering) return;
    try {
      const how = await steering.steer(hostVeth, ifindex);
      this.log.debug({ hostVeth, how, mask: steering.mask }, "receive packet steering set");
    } catch (err) {
      this.log.warn(
        { hostVeth, err: err instanceof Error ? err.message : String(err) },
        "could not set receive packet steering on the pod's veth: its TCP flows may be reordered (slower), the pod works",
      );
    }
  }

  /**
   * Runs `ip -batch -` with `commands` (one per line) through `exec`; fails on the first error.
   * Resolves with what `show` commands printed (JSON with `json`).
   */
  private async batch(exec: Exec, commands: string, json = false): Promise<string> {
    const input = commands.endsWith("\n") ? commands : `${commands}\n`;
    const { stdout } = await exec("ip", [...(json ? ["-json"] : []), "-batch", "-"], { input });
    return stdout;
  }

  /** A failed host-side batch: name a missing bridge (the usual cause) with its fix. */
  private async explainHostFailure(err: unknown): Promise<unknown> {
    if (await this.ipr.getLink(this.bridge)) return err;
    return new Error(
      `bridge ${this.bridge} does not exist: set up the overlay (setupNode) before wiring pods`,
      { cause: err },
    );
  }

  /** Removes the pod's veth and frees its address. Safe to call twice or for an unknown id. */
  async unwirePod(containerId: string): Promise<{ removedVeth: boolean; releasedIp: boolean }> {
    const removedVeth = await this.ipr.deleteLink(hostVethName(containerId));
    const releasedIp = this.deps.ipam.release(containerId);
    if (removedVeth || releasedIp) this.log.debug({ containerId, removedVeth, releasedIp }, "pod unwired");
    return { removedVeth, releasedIp };
  }
}

/** The MAC address in `ip -json link show` output, if it parses. */
/** MAC and peer ifindex (the host end's, `link_index`) of the first link in `ip -json link show`. */
function firstLink(json: string): { address?: string; peerIndex?: number } | undefined {
  try {
    const links = JSON.parse(json.trim() || "[]") as unknown;
    const first = Array.isArray(links)
      ? (links[0] as { address?: unknown; link_index?: unknown } | undefined)
      : undefined;
    if (!first) return undefined;
    return {
      ...(typeof first.address === "string" ? { address: first.address } : {}),
      ...(typeof first.link_index === "number" ? { peerIndex: first.link_index } : {}),
    };
  } catch {
    return undefined;
  }
}
