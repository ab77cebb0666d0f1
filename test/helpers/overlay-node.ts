/**
 * A pod-network node inside a NetnsLab: a namespace host on the lab's underlay with the VXLAN
 * overlay set up, host-local IPAM and the pod wiring, as the agent's network assembles them.
 * Shared by the overlay and direct-routing tests; each adds what it tests on top.
 */
import { join } from "node:path";
import type { Exec } from "../../src/cni/exec.js";
import type { FlowSteering } from "../../src/cni/flow-steering.js";
import { HostLocalIpam } from "../../src/cni/ipam.js";
import { IpRoute } from "../../src/cni/iproute.js";
import { VxlanOverlay } from "../../src/cni/overlay.js";
import { PodNetwork } from "../../src/cni/pod-network.js";
import type { NetnsLab } from "./netns-lab.js";

export interface OverlayNode {
  name: string;
  ns: string;
  ip: string;
  exec: Exec;
  ipr: IpRoute;
  overlay: VxlanOverlay;
  ipam: HostLocalIpam;
  pods: PodNetwork;
}

export interface OverlayNodeOptions {
  clusterCIDR: string;
  /** host name prefix in the lab (unique per test file) */
  prefix: string;
  directRouting?: boolean;
  /** RPS on pod veths (the agent's default) */
  steering?: (exec: Exec) => FlowSteering;
}

/** Node `i`: node name `node<i>`, pod CIDR 10.42.<i>.0/24, underlay address i + 1. */
export async function addOverlayNode(lab: NetnsLab, i: number, o: OverlayNodeOptions): Promise<OverlayNode> {
  const { ns, ip } = await lab.addHost(`${o.prefix}${i}`, i + 1);
  const exec = lab.exec(ns);
  const podCIDR = `10.42.${i}.0/24`;
  const overlay = new VxlanOverlay(
    {
      nodeName: `node${i}`,
      nodeIP: ip,
      podCIDR,
      clusterCIDR: o.clusterCIDR,
      ...(o.directRouting !== undefined ? { directRouting: o.directRouting } : {}),
    },
    { exec },
  );
  const setup = await overlay.setupNode();
  const ipam = new HostLocalIpam({ dbPath: join(await lab.tempDir(), "ipam.db"), podCIDR });
  const pods = new PodNetwork({
    exec,
    ipam,
    mtu: setup.mtu,
    ...(o.steering ? { steering: o.steering(exec) } : {}),
  });
  return { name: `node${i}`, ns, ip, exec, ipr: new IpRoute(exec), overlay, ipam, pods };
}
