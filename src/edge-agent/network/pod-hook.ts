/**
 * OverlayPodHook: the pod manager's `PodNetwork` hook on the CNI library — CNI ADD/DEL keyed by
 * pod uid.
 *
 * Design notes
 * - The hook is keyed by the pod's uid (the pod manager hands us the pod and its sandbox's netns,
 *   not the sandbox id): the host veth is `hostVethName(uid)` and the IPAM lease belongs to the
 *   uid. A replaced sandbox therefore gets the same address back (its old veth died with its old
 *   namespace), and teardown needs nothing but the uid, even after an agent restart.
 * - setup() is idempotent without disturbing traffic: for an adopted pod (agent restart) whose
 *   namespace already carries its leased address on eth0 and whose host veth hangs on the
 *   bridge, it only returns the address — rewiring would drop the pod's link for a moment.
 * - wiredAddresses() answers, with one `ip link` for all pods, which pods an agent restart
 *   finds wired (leased address, host veth on the bridge): the services are seeded with them
 *   before their first rules sync (see LocalPods).
 * - Until the overlay is up (the hub has not assigned a podCIDR yet, or the node is offline
 *   before its first assignment) setup() rejects with a message saying so; the pod manager
 *   retries with back-off, so pods start as soon as the network can carry them.
 */
import type { KubeObject } from "../../api/object.js";
import { type Exec, netnsExec } from "../../cni/exec.js";
import type { HostLocalIpam } from "../../cni/ipam.js";
import { IpRoute } from "../../cni/iproute.js";
import { type PodNetwork as CniPodNetwork, hostVethName } from "../../cni/pod-network.js";
import type { Logger } from "../../lib/logger.js";
import type { PodNetwork } from "../pods/ports.js";

export interface WiredNetwork {
  pods: CniPodNetwork;
  ipam: HostLocalIpam;
  bridgeName: string;
}

export class NetworkNotReadyError extends Error {
  constructor(why: string) {
    super(
      `the pod network is not ready: ${why}; pods start once it is (nothing to do if the hub is reachable)`,
    );
    this.name = "NetworkNotReadyError";
  }
}

export class OverlayPodHook implements PodNetwork {
  private readonly ipr: IpRoute;

  constructor(
    private readonly d: {
      exec: Exec;
      /** the wired network, or why there is none yet */
      current: () => WiredNetwork | string;
      podExec?: (netnsPath: string) => Exec;
      logger: Logger;
      /** called with the duration of every wiring that changed something (bench, logs) */
      onWired?: (uid: string, ms: number) => void;
    },
  ) {
    this.ipr = new IpRoute(d.exec);
  }

  async setup(pod: KubeObject, netnsPath: string): Promise<{ podIP?: string }> {
    const uid = pod.metadata.uid;
    if (!uid) throw new Error("pod network setup: the pod has no metadata.uid");
    const net = this.d.current();
    if (typeof net === "string") throw new NetworkNotReadyError(net);
    const lease = net.ipam.get(uid);
    if (lease && (await this.alreadyWired(uid, netnsPath, lease.ip, net.bridgeName))) {
      return { podIP: lease.ip };
    }
    const t0 = performance.now();
    const wired = await net.pods.wirePod({ netnsPath, containerId: uid });
    const ms = performance.now() - t0;
    this.d.onWired?.(uid, ms);
    this.d.logger.debug({ podUid: uid, ip: wired.ip, ms: Math.round(ms) }, "pod wired");
    return { podIP: wired.ip };
  }

  /**
   * The leased address of each given pod whose host veth hangs on the bridge now. A veth dies
   * with its pod's network namespace, so a pod listed here kept its wiring across the agent
   * restart (a sandbox Docker restarted after a reboot has a fresh namespace and no veth yet).
   */
  async wiredAddresses(uids: Iterable<string>): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const net = this.d.current();
    if (typeof net === "string") return out;
    const onBridge = new Set(
      (await this.ipr.listLinks()).filter((l) => l.master === net.bridgeName).map((l) => l.ifname),
    );
    for (const uid of uids) {
      const lease = net.ipam.get(uid);
      if (lease && onBridge.has(hostVethName(uid))) out.set(uid, lease.ip);
    }
    return out;
  }

  async teardown(pod: KubeObject): Promise<void> {
    const uid = pod.metadata.uid;
    if (!uid) return;
    const net = this.d.current();
    if (typeof net === "string") {
      // no overlay yet: nothing of ours can exist except a veth from an earlier run
      await this.ipr.deleteLink(hostVethName(uid));
      return;
    }
    await net.pods.unwirePod(uid);
  }

  private async alreadyWired(uid: string, netnsPath: string, ip: string, bridge: string): Promise<boolean> {
    const host = await this.ipr.getLink(hostVethName(uid));
    if (!host || host.master !== bridge) return false;
    try {
      const inPod = new IpRoute((this.d.podExec ?? ((p) => netnsExec(p)))(netnsPath));
      const addrs = await inPod.addrs("eth0");
      return addrs.some((a) => a.family === "inet" && a.local === ip);
    } catch {
      return false;
    }
  }
}
