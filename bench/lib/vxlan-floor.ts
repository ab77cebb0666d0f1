/**
 * The bare flannel VXLAN datapath, built with `ip` alone: bench/net's control experiment.
 *
 * Design notes
 * - bench/net compares the overlay's throughput with the underlay's on the dev cluster. On these
 *   machines the underlay is a veth pair at memory speed, so one flow is bound by CPU, and the
 *   overlay's path (pod veth, cni0, IP forward, flannel.1 encapsulation, eth0, and the same
 *   backwards on the far node) does roughly twice the kernel work per segment. Whether what is
 *   left between the ratio and its target is edgekube's or the kernel's is answered by the same
 *   datapath without edgekube: the same devices, MTUs, routes, neighbour and FDB entries as
 *   DESIGN.md (and ../shared/recipes/netns-cluster.sh) describe, no agent, no Docker, no service
 *   or masquerade rules (so no conntrack either: the cheapest form of the path). Its ratio,
 *   measured in the same run, is the floor the dev cluster's is read against, the way bench/api
 *   reads creates against a bare HTTPS echo and bench/sync reads reconnects against bare TLS.
 * - Namespaces come from NetnsLab (random names, its own 198.51.100.x/28 slice, deleted by name
 *   at cleanup); the pod subnets 10.42.250.0/24 and 10.42.251.0/24 exist only inside them.
 */
import { NetnsLab } from "../../test/helpers/netns-lab.js";

export interface BarePath {
  /** namespace paths (/run/netns/…) of the two nodes and of one "pod" on each */
  node1: string;
  node2: string;
  pod1: string;
  pod2: string;
  node2Ip: string;
  pod2Ip: string;
  cleanup(): Promise<void>;
}

const MTU = 1450;

/** Two nodes on a bridge "LAN" with flannel.1 and cni0 each, and one pod namespace per node. */
export async function bareVxlanPath(): Promise<BarePath> {
  const lab = new NetnsLab();
  try {
    const nodes = [await lab.addHost("n1", 1), await lab.addHost("n2", 2)];
    const vtep = (i: number) => `0a:58:0a:2a:fa:${(10 + i).toString(16)}`;
    const subnet = (i: number) => `10.42.${250 + i}`;
    const pods: string[] = [];
    for (const [i, n] of nodes.entries()) {
      const ip = (args: string[]) => lab.exec(n.ns)("ip", args);
      await lab.exec(n.ns)("sysctl", ["-qw", "net.ipv4.ip_forward=1"]);
      await ip(
        ["link", "add", "flannel.1", "address", vtep(i), "type", "vxlan", "id", "1"].concat([
          "local",
          n.ip,
          "dev",
          "eth0",
          "dstport",
          "8472",
          "nolearning",
        ]),
      );
      await ip(["link", "set", "flannel.1", "mtu", String(MTU), "up"]);
      await ip(["addr", "add", `${subnet(i)}.0/32`, "dev", "flannel.1"]);
      await ip(["link", "add", "cni0", "type", "bridge"]);
      await ip(["link", "set", "cni0", "mtu", String(MTU), "up"]);
      await ip(["addr", "add", `${subnet(i)}.1/24`, "dev", "cni0"]);
      const pod = await lab.addNamespace(`p${i + 1}`);
      await ip([
        "link",
        "add",
        "vpod",
        "mtu",
        String(MTU),
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        pod,
      ]);
      await ip(["link", "set", "vpod", "master", "cni0", "up"]);
      const pip = (args: string[]) => lab.exec(pod)("ip", args);
      await pip(["addr", "add", `${subnet(i)}.2/24`, "dev", "eth0"]);
      await pip(["link", "set", "eth0", "mtu", String(MTU), "up"]);
      await pip(["route", "add", "default", "via", `${subnet(i)}.1`]);
      pods.push(pod);
    }
    for (const [i, n] of nodes.entries()) {
      const j = 1 - i;
      const peer = nodes[j];
      if (!peer) throw new Error("two nodes expected");
      const ip = (args: string[]) => lab.exec(n.ns)("ip", args);
      await ip(["route", "add", `${subnet(j)}.0/24`, "via", `${subnet(j)}.0`, "dev", "flannel.1", "onlink"]);
      await ip(["neigh", "add", `${subnet(j)}.0`, "lladdr", vtep(j), "dev", "flannel.1", "nud", "permanent"]);
      await lab.exec(n.ns)("bridge", ["fdb", "append", vtep(j), "dev", "flannel.1", "dst", peer.ip]);
    }
    const [n1, n2] = nodes;
    const [p1, p2] = pods;
    if (!n1 || !n2 || !p1 || !p2) throw new Error("two nodes and two pods expected");
    return {
      node1: lab.path(n1.ns),
      node2: lab.path(n2.ns),
      pod1: lab.path(p1),
      pod2: lab.path(p2),
      node2Ip: n2.ip,
      pod2Ip: `${subnet(1)}.2`,
      cleanup: () => lab.cleanup(),
    };
  } catch (err) {
    await lab.cleanup();
    throw err;
  }
}
