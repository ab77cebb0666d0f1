/**
 * The agent's pod network (AgentNetwork) on a real namespace node: the overlay is built from the
 * cached Nodes alone, follows every Node change (peers added, moved, removed), is rebuilt by a
 * restarted agent with no hub at all, and the IPAM (a real SQLite file) is reconciled against the
 * sandboxes that still run — at start and on request.
 *
 * The cache is plain data here (the Node list and its change callback are AgentNetwork's inputs);
 * everything below it — iproute2, the kernel, SQLite — is real.
 */
import { join } from "node:path";
import type { Node } from "kubernetes-types/core/v1";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/api/object.js";
import { HostLocalIpam } from "../../src/cni/ipam.js";
import { IpRoute } from "../../src/cni/iproute.js";
import { hostVethName } from "../../src/cni/pod-network.js";
import { AgentNetwork } from "../../src/edge-agent/network/agent-network.js";
import { NetnsLab } from "../helpers/netns-lab.js";
import { hasRoot, need } from "../helpers/prereq.js";

const CLUSTER = "10.42.0.0/16";
const SELF_CIDR = "10.42.1.0/24";

function peerNode(name: string, cidr: string, mac: string, ip: string): Node {
  return {
    metadata: {
      name,
      annotations: {
        "flannel.alpha.coreos.com/backend-data": JSON.stringify({ VNI: 1, VtepMAC: mac }),
        "flannel.alpha.coreos.com/public-ip": ip,
      },
    },
    spec: { podCIDR: cidr },
  };
}

const pod = (uid: string): KubeObject => ({ metadata: { name: uid, namespace: "default", uid } });

describe.skipIf(!need(hasRoot()))("AgentNetwork on a namespace node", () => {
  const lab = new NetnsLab();
  let ns = "";
  let nodeIP = "";
  let dataDir = "";
  let ipr: IpRoute;
  let nodes: Node[] = [];
  let live: string[] = [];
  const published: Record<string, string>[] = [];
  const listeners = new Set<() => void>();
  const running: AgentNetwork[] = [];

  function agentNetwork(): AgentNetwork {
    const net = new AgentNetwork({
      nodeName: "self",
      nodeIP,
      clusterCIDR: CLUSTER,
      iface: "eth0",
      dataDir,
      nodes: () => nodes,
      onNodesChange: (cb) => {
        listeners.add(cb);
        return () => listeners.delete(cb);
      },
      publish: (a) => published.push(a),
      liveSandboxes: async () => live,
      exec: lab.exec(ns),
      retryMs: 200,
    });
    running.push(net);
    return net;
  }

  /** What the cache would do on a Node change: replace the list, notify. */
  async function setNodes(net: AgentNetwork, next: Node[]): Promise<void> {
    nodes = next;
    for (const cb of listeners) cb();
    await net.idle();
  }

  async function flannel() {
    const [routes, neighs, fdb] = await Promise.all([
      ipr.routes("flannel.1"),
      ipr.neighs("flannel.1"),
      ipr.fdb("flannel.1"),
    ]);
    return {
      routes: routes.map((r) => `${r.dst} via ${r.gateway} ${r.flags.join(",")}`).sort(),
      neighs: neighs.map((n) => `${n.dst} ${n.lladdr} ${n.state.join(",")}`).sort(),
      fdb: fdb.map((f) => `${f.mac} ${f.dst} ${f.state}`).sort(),
    };
  }

  function leases(): Record<string, string> {
    const i = new HostLocalIpam({ dbPath: join(dataDir, "ipam.db"), podCIDR: SELF_CIDR });
    try {
      return Object.fromEntries(i.leases().map((l) => [l.containerId, l.ip]));
    } finally {
      i.close();
    }
  }

  beforeAll(async () => {
    ({ ns, ip: nodeIP } = await lab.addHost("self", 3));
    ipr = new IpRoute(lab.exec(ns));
    dataDir = await lab.tempDir();
  });

  afterAll(async () => {
    for (const n of running) n.stop();
    await lab.cleanup();
  });

  const peer2 = () => peerNode("node2", "10.42.2.0/24", "0a:58:0a:2a:02:00", lab.underlayIp(4));

  it("at start builds the overlay from the cache and keeps only the leases of running sandboxes", async () => {
    // the previous agent crashed holding two leases; only one of those sandboxes still runs
    const crashed = new HostLocalIpam({ dbPath: join(dataDir, "ipam.db"), podCIDR: SELF_CIDR });
    const liveIp = crashed.allocate("uid-live").ip;
    crashed.allocate("uid-dead");
    crashed.close();
    live = ["uid-live"];
    nodes = [{ metadata: { name: "self" }, spec: { podCIDR: SELF_CIDR } }, peer2()];

    const net = agentNetwork();
    await net.start();
    expect(net.ready).toBe(true);
    expect(leases()).toEqual({ "uid-live": liveIp });

    const vx = await ipr.getLink("flannel.1");
    expect(vx?.vxlan).toEqual({ id: 1, local: nodeIP, link: "eth0", port: 8472, learning: false });
    expect(published).toEqual([
      {
        "flannel.alpha.coreos.com/backend-data": JSON.stringify({ VNI: 1, VtepMAC: vx?.address }),
        "flannel.alpha.coreos.com/backend-type": "vxlan",
        "flannel.alpha.coreos.com/kube-subnet-manager": "true",
        "flannel.alpha.coreos.com/public-ip": nodeIP,
      },
    ]);
    expect(await flannel()).toEqual({
      routes: ["10.42.2.0/24 via 10.42.2.0 onlink"],
      neighs: ["10.42.2.0 0a:58:0a:2a:02:00 PERMANENT"],
      fdb: [`0a:58:0a:2a:02:00 ${lab.underlayIp(4)} permanent`],
    });

    // a new pod never gets the address still held by the running sandbox
    const podNs = await lab.addNamespace("p-new");
    const { podIP } = await net.hook.setup(pod("uid-new"), lab.path(podNs));
    expect(podIP).toMatch(/^10\.42\.1\.\d+$/);
    expect(podIP).not.toBe(liveIp);
    live = ["uid-live", "uid-new"];
  });

  it("follows every Node change: a peer joins, moves, and leaves", async () => {
    const net = running[0]!;
    const peer3 = peerNode("node3", "10.42.3.0/24", "0a:58:0a:2a:03:00", lab.underlayIp(5));
    await setNodes(net, [...nodes, peer3]);
    expect((await flannel()).routes).toEqual([
      "10.42.2.0/24 via 10.42.2.0 onlink",
      "10.42.3.0/24 via 10.42.3.0 onlink",
    ]);
    expect((await flannel()).fdb).toContain(`0a:58:0a:2a:03:00 ${lab.underlayIp(5)} permanent`);

    // node3's underlay address changes: its FDB entry follows, nothing is left pointing at the old one
    const moved = peerNode("node3", "10.42.3.0/24", "0a:58:0a:2a:03:00", lab.underlayIp(6));
    await setNodes(
      net,
      nodes.map((n) => (n.metadata?.name === "node3" ? moved : n)),
    );
    expect((await flannel()).fdb).toEqual([
      `0a:58:0a:2a:02:00 ${lab.underlayIp(4)} permanent`,
      `0a:58:0a:2a:03:00 ${lab.underlayIp(6)} permanent`,
    ]);

    // node3's Node object is deleted: its route, ARP and FDB entries go
    await setNodes(
      net,
      nodes.filter((n) => n.metadata?.name !== "node3"),
    );
    expect(await flannel()).toEqual({
      routes: ["10.42.2.0/24 via 10.42.2.0 onlink"],
      neighs: ["10.42.2.0 0a:58:0a:2a:02:00 PERMANENT"],
      fdb: [`0a:58:0a:2a:02:00 ${lab.underlayIp(4)} permanent`],
    });
  });

  it("releases the address and veth of a pod whose sandbox vanished, keeps the others", async () => {
    const net = running[0]!;
    const podNs = await lab.addNamespace("p-gone");
    const { podIP } = await net.hook.setup(pod("uid-gone"), lab.path(podNs));
    expect(leases()["uid-gone"]).toBe(podIP);
    expect(await ipr.getLink(hostVethName("uid-gone"))).toBeDefined();
    // the sandbox disappeared without a teardown (removed by the orphan sweep, or crashed)
    expect(await net.reconcileLeases()).toEqual(["uid-gone"]);
    expect(leases()["uid-gone"]).toBeUndefined();
    expect(await ipr.getLink(hostVethName("uid-gone"))).toBeUndefined();
    expect(Object.keys(leases()).sort()).toEqual(["uid-live", "uid-new"]);
  });

  it("a restarted agent with no hub rebuilds the overlay from its cache alone", async () => {
    const before = await flannel();
    running[0]!.stop();
    // the kernel state is lost too (a reboot): flannel.1 with every peer entry on it
    await ipr.ip(["link", "del", "flannel.1"]);
    expect(await ipr.getLink("flannel.1")).toBeUndefined();
    // the cache holds the annotations the hub accepted from the first run: nothing to re-send
    const self = nodes.find((n) => n.metadata?.name === "self");
    if (self?.metadata) self.metadata.annotations = { ...published[0] };
    published.length = 0;

    const again = agentNetwork();
    await again.start();
    expect(await flannel()).toEqual(before);
    expect(published).toEqual([]);
    expect(Object.keys(leases()).sort()).toEqual(["uid-live", "uid-new"]);
    // the adopted pod keeps its address without being re-wired
    const veth = await ipr.getLink(hostVethName("uid-new"));
    const { podIP } = await again.hook.setup(pod("uid-new"), lab.path(lab.name("p-new")));
    expect(podIP).toBe(leases()["uid-new"]);
    expect((await ipr.getLink(hostVethName("uid-new")))?.ifindex).toBe(veth?.ifindex);
  });
});
