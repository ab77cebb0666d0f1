/**
 * The pod network on real kernels: nodes and pods are network namespaces this file creates,
 * the underlay is a bridge in another one. Covers cross-node and same-node pod traffic through
 * flannel.1/cni0, masquerade to the outside, peer add/remove, idempotent reconcile, unwire and
 * reset.
 */
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Exec } from "../../src/cni/exec.js";
import { FlowSteering, inFreshSysfs, rpsMask } from "../../src/cni/flow-steering.js";
import { HostLocalIpam } from "../../src/cni/ipam.js";
import { IpRoute } from "../../src/cni/iproute.js";
import { Masquerade } from "../../src/cni/masquerade.js";
import type { Peer } from "../../src/cni/peers.js";
import { hostVethName, type WiredPod } from "../../src/cni/pod-network.js";
import { resetOverlay } from "../../src/cni/reset.js";
import { macFromIp } from "../../src/cni/subnet.js";
import { NetnsLab } from "../helpers/netns-lab.js";
import { addOverlayNode, type OverlayNode } from "../helpers/overlay-node.js";
import { hasRoot, need } from "../helpers/prereq.js";

interface TestNode extends OverlayNode {
  masq: Masquerade;
}

const CLUSTER = "10.42.0.0/16";

describe.skipIf(!need(hasRoot()))("VXLAN overlay between namespace nodes", () => {
  const lab = new NetnsLab();
  const nodes: TestNode[] = [];
  const pod: Record<string, WiredPod> = {};
  let outsideIp = "";

  async function addNode(i: number): Promise<TestNode> {
    const base = await addOverlayNode(lab, i, {
      clusterCIDR: CLUSTER,
      prefix: "n",
      steering: (exec) => new FlowSteering({ exec, cpus: availableParallelism() }),
    });
    const masq = new Masquerade(
      { clusterCIDR: CLUSTER, vxlan: { nodeIP: base.ip, port: 8472 } },
      { exec: base.exec },
    );
    await masq.install();
    const node = { ...base, masq };
    nodes.push(node);
    return node;
  }

  function peers(list: TestNode[] = nodes): Peer[] {
    return list.map((n) => ({
      name: n.name,
      publicIP: n.ip,
      podCIDR: n.overlay.podCIDR.cidr,
      vtepMAC: n.overlay.vtepMAC,
    }));
  }

  async function addPod(node: TestNode, key: string): Promise<WiredPod> {
    const ns = await lab.addNamespace(key);
    const wired = await node.pods.wirePod({ netnsPath: lab.path(ns), containerId: `ctr-${lab.tag}-${key}` });
    pod[key] = wired;
    await lab.startIpEcho(ns);
    return wired;
  }

  function inPod(key: string): Exec {
    return lab.exec(lab.name(key));
  }

  async function ping(from: Exec, ip: string): Promise<void> {
    await vi.waitFor(() => from("busybox", ["ping", "-c", "1", "-W", "1", ip]), {
      timeout: 10_000,
      interval: 100,
    });
  }

  async function whoAmI(from: Exec, ip: string, timeoutSec = 5): Promise<string> {
    const r = await from("busybox", [
      "timeout",
      String(timeoutSec),
      "wget",
      "-qO-",
      `http://${ip}:8080/cgi-bin/ip`,
    ]);
    // busybox httpd listens on a dual-stack socket: IPv4 clients show as [::ffff:a.b.c.d]
    return r.stdout.trim().replace(/^\[::ffff:(.*)\]$/, "$1");
  }

  async function flannelState(n: TestNode) {
    const [routes, neighs, fdb, link] = await Promise.all([
      n.ipr.routes("flannel.1"),
      n.ipr.neighs("flannel.1"),
      n.ipr.fdb("flannel.1"),
      n.ipr.getLink("flannel.1"),
    ]);
    return { routes, neighs, fdb, ifindex: link?.ifindex, mac: link?.address };
  }

  beforeAll(async () => {
    await addNode(1);
    await addNode(2);
    for (const n of nodes) await n.overlay.reconcilePeers(peers());
    const outside = await lab.addHost("out", 14);
    outsideIp = outside.ip;
    await lab.startIpEcho(outside.ns);
    await addPod(nodes[0]!, "p1a");
    await addPod(nodes[0]!, "p1b");
    await addPod(nodes[1]!, "p2a");
  });

  afterAll(async () => {
    for (const n of nodes) n.ipam.close();
    await lab.cleanup();
  });

  it("creates flannel.1 and cni0 as flannel does and publishes the annotations", async () => {
    const n1 = nodes[0]!;
    const vx = await n1.ipr.getLink("flannel.1");
    expect(vx?.vxlan).toEqual({ id: 1, local: n1.ip, link: "eth0", port: 8472, learning: false });
    expect(vx?.mtu).toBe(1450);
    expect(vx?.address).toBe(n1.overlay.vtepMAC);
    expect(await n1.ipr.addrs("flannel.1")).toContainEqual({
      family: "inet",
      local: "10.42.1.0",
      prefixlen: 32,
    });
    const br = await n1.ipr.getLink("cni0");
    expect(br?.kind).toBe("bridge");
    expect(br?.address).toBe("0a:58:0a:2a:01:01");
    expect(await n1.ipr.addrs("cni0")).toContainEqual({ family: "inet", local: "10.42.1.1", prefixlen: 24 });
    const forward = await n1.exec("sysctl", ["-n", "net.ipv4.ip_forward"]);
    expect(forward.stdout.trim()).toBe("1");
    const ann = n1.overlay.nodeAnnotations();
    expect(JSON.parse(ann["flannel.alpha.coreos.com/backend-data"] ?? "")).toEqual({
      VNI: 1,
      VtepMAC: vx?.address,
    });
    expect(ann["flannel.alpha.coreos.com/public-ip"]).toBe(n1.ip);
    expect(ann["flannel.alpha.coreos.com/backend-type"]).toBe("vxlan");
    expect(ann["flannel.alpha.coreos.com/kube-subnet-manager"]).toBe("true");
  });

  it("programs one route, one permanent neighbour and one FDB entry per peer", async () => {
    const s = await flannelState(nodes[0]!);
    const n2 = nodes[1]!;
    expect(s.routes).toEqual([
      { dst: "10.42.2.0/24", gateway: "10.42.2.0", dev: "flannel.1", flags: ["onlink"] },
    ]);
    expect(s.neighs).toEqual([{ dst: "10.42.2.0", lladdr: n2.overlay.vtepMAC, state: ["PERMANENT"] }]);
    expect(s.fdb).toEqual([{ mac: n2.overlay.vtepMAC, dst: n2.ip, flags: ["self"], state: "permanent" }]);
  });

  it("wires pods with the overlay MTU, hairpin on and a default route via cni0", async () => {
    const p = pod.p1a!;
    expect(p.ip).toBe("10.42.1.2");
    expect(pod.p1b?.ip).toBe("10.42.1.3");
    const podIpr = new IpRoute(inPod("p1a"));
    const eth0 = await podIpr.getLink("eth0");
    expect(eth0?.mtu).toBe(1450);
    expect(await podIpr.routes()).toContainEqual(
      expect.objectContaining({ dst: "default", gateway: "10.42.1.1" }),
    );
    const host = await nodes[0]!.ipr.getLink(hostVethName(`ctr-${lab.tag}-p1a`));
    expect(host).toMatchObject({ master: "cni0", hairpin: true, mtu: 1450 });
  });

  it("steers each pod veth's flows over all CPUs (RPS on the host end)", async () => {
    // read through a fresh sysfs in the node namespace: this process's /sys shows the host's
    const rps = async (node: TestNode, dev: string) =>
      (
        await node.exec("unshare", inFreshSysfs('cat "/sys/class/net/$1/queues/rx-0/rps_cpus"', [dev]))
      ).stdout.trim();
    const want = rpsMask(availableParallelism()) ?? "0";
    for (const [node, key] of [
      [nodes[0]!, "p1a"],
      [nodes[1]!, "p2a"],
    ] as const) {
      expect(parseInt(await rps(node, hostVethName(`ctr-${lab.tag}-${key}`)), 16)).toBe(parseInt(want, 16));
    }
  });

  it("carries ping and TCP between pods on different nodes, unmasqueraded", async () => {
    await ping(inPod("p1a"), pod.p2a!.ip);
    await ping(inPod("p2a"), pod.p1b!.ip);
    expect(await whoAmI(inPod("p1a"), pod.p2a!.ip)).toBe(pod.p1a!.ip);
    expect(await whoAmI(inPod("p2a"), pod.p1a!.ip)).toBe(pod.p2a!.ip);
    // the traffic really went through the VXLAN device
    const stats = await nodes[0]!.ipr.ip(["-json", "-s", "link", "show", "dev", "flannel.1"]);
    expect(JSON.parse(stats)[0].stats64.tx.packets).toBeGreaterThan(0);
  });

  it("leaves the VXLAN outer packets untracked on both nodes, the inner flows tracked", async () => {
    expect(await whoAmI(inPod("p1a"), pod.p2a!.ip)).toBe(pod.p1a!.ip);
    for (const n of nodes.slice(0, 2)) {
      const table = (await n.exec("cat", ["/proc/net/nf_conntrack"])).stdout;
      // each direction of a tunnel is its own UDP tuple: tracked, it stays NEW ([UNREPLIED])
      expect(table).not.toMatch(/dport=8472 /);
      expect(table).toMatch(
        new RegExp(`src=${pod.p1a!.ip.replaceAll(".", "\\.")} dst=${pod.p2a!.ip.replaceAll(".", "\\.")} `),
      );
    }
  });

  it("carries traffic between pods on the same node", async () => {
    await ping(inPod("p1a"), pod.p1b!.ip);
    expect(await whoAmI(inPod("p1b"), pod.p1a!.ip)).toBe(pod.p1b!.ip);
  });

  it("reaches the remote node's cni0 address and the remote node itself", async () => {
    await ping(inPod("p1a"), "10.42.2.1");
    await ping(inPod("p1a"), nodes[1]!.ip);
    await ping(nodes[0]!.exec, pod.p2a!.ip);
  });

  it("masquerades pod egress that leaves the cluster CIDR", async () => {
    // The outside host has no route to 10.42.0.0/16: an answer proves the source was rewritten.
    expect(await whoAmI(inPod("p1a"), outsideIp)).toBe(nodes[0]!.ip);
    expect(await whoAmI(inPod("p2a"), outsideIp)).toBe(nodes[1]!.ip);
  });

  it("masquerades with the iptables backend too, and remove() stops it", async () => {
    const n2 = nodes[1]!;
    await n2.masq.remove();
    await expect(whoAmI(inPod("p2a"), outsideIp, 1)).rejects.toThrow();
    const ipt = new Masquerade(
      { clusterCIDR: CLUSTER, mode: "iptables", vxlan: { nodeIP: n2.ip, port: 8472 } },
      { exec: n2.exec },
    );
    expect(await ipt.install()).toBe("iptables");
    expect(await ipt.install()).toBe("iptables");
    const chain = await n2.exec("iptables", ["-w", "-t", "nat", "-S", "POSTROUTING"]);
    expect(chain.stdout.match(/-j EDGEKUBE-POSTRTG/g)).toHaveLength(1);
    expect(await whoAmI(inPod("p2a"), outsideIp)).toBe(n2.ip);
    const raw = await n2.exec("iptables", ["-w", "-t", "raw", "-S"]);
    expect(raw.stdout.match(/-j EDGEKUBE-NOTRACK/g)).toHaveLength(2); // PREROUTING and OUTPUT
    expect(await whoAmI(inPod("p2a"), pod.p1a!.ip)).toBe(pod.p2a!.ip);
    expect((await n2.exec("cat", ["/proc/net/nf_conntrack"])).stdout).not.toMatch(/dport=8472 /);
    await ipt.remove();
    await expect(n2.exec("iptables", ["-w", "-t", "raw", "-S", "EDGEKUBE-NOTRACK"])).rejects.toThrow();
    await expect(n2.exec("iptables", ["-w", "-t", "nat", "-S", "EDGEKUBE-POSTRTG"])).rejects.toThrow();
    expect(await n2.masq.install()).toBe("nftables");
    expect(await whoAmI(inPod("p2a"), outsideIp)).toBe(n2.ip);
  });

  it("is idempotent: a second setup and reconcile change nothing", async () => {
    const before = await Promise.all(nodes.map(flannelState));
    for (const n of nodes) {
      await n.overlay.setupNode();
      const r = await n.overlay.reconcilePeers(peers());
      expect(r.changes).toBe(0);
    }
    expect(await Promise.all(nodes.map(flannelState))).toEqual(before);
  });

  it("repairs entries removed behind its back", async () => {
    const n1 = nodes[0]!;
    await n1.ipr.ip(["neigh", "del", "10.42.2.0", "dev", "flannel.1"]);
    await n1.ipr.ip(["route", "del", "10.42.2.0/24", "dev", "flannel.1"]);
    expect((await n1.overlay.reconcilePeers(peers())).changes).toBe(2);
    await ping(inPod("p1a"), pod.p2a!.ip);
  });

  it("adds a third node's entries everywhere and removes them when it leaves", async () => {
    const n3 = await addNode(3);
    for (const n of nodes) await n.overlay.reconcilePeers(peers());
    const p3 = await addPod(n3, "p3a");
    await ping(inPod("p1a"), p3.ip);
    expect(await whoAmI(inPod("p3a"), pod.p2a!.ip)).toBe(p3.ip);
    const s1 = await flannelState(nodes[0]!);
    expect(s1.routes.map((r) => r.dst).sort()).toEqual(["10.42.2.0/24", "10.42.3.0/24"]);
    expect(s1.neighs).toContainEqual({ dst: "10.42.3.0", lladdr: n3.overlay.vtepMAC, state: ["PERMANENT"] });
    expect(s1.fdb).toContainEqual({
      mac: n3.overlay.vtepMAC,
      dst: n3.ip,
      flags: ["self"],
      state: "permanent",
    });

    const remaining = nodes.slice(0, 2);
    for (const n of remaining) {
      const r = await n.overlay.reconcilePeers(peers(remaining));
      expect(r.changes).toBe(3);
      const s = await flannelState(n);
      expect(s.routes.some((x) => x.dst === "10.42.3.0/24")).toBe(false);
      expect(s.neighs.some((x) => x.dst === "10.42.3.0")).toBe(false);
      expect(s.fdb.some((x) => x.mac === n3.overlay.vtepMAC)).toBe(false);
      expect(s.routes).toHaveLength(1);
    }
    await expect(inPod("p1a")("busybox", ["ping", "-c", "1", "-W", "1", p3.ip])).rejects.toThrow();
    await ping(inPod("p1a"), pod.p2a!.ip);
  });

  it("unwires a pod: veth gone, address released, twice is fine", async () => {
    const n1 = nodes[0]!;
    const id = `ctr-${lab.tag}-p1b`;
    expect(await n1.pods.unwirePod(id)).toEqual({ removedVeth: true, releasedIp: true });
    expect(await n1.ipr.getLink(hostVethName(id))).toBeUndefined();
    expect(n1.ipam.get(id)).toBeUndefined();
    expect(await n1.pods.unwirePod(id)).toEqual({ removedVeth: false, releasedIp: false });
    expect(await n1.pods.unwirePod("never-wired")).toEqual({ removedVeth: false, releasedIp: false });
    await expect(inPod("p1a")("busybox", ["ping", "-c", "1", "-W", "1", pod.p1b!.ip])).rejects.toThrow();
    // re-wiring the same pod namespace works (it lost its eth0 with the veth)
    const again = await n1.pods.wirePod({ netnsPath: lab.path(lab.name("p1b")), containerId: id });
    await ping(inPod("p1a"), again.ip);
  });

  it("hands a released address to a new pod and its neighbours learn the new MAC at once", async () => {
    const n1 = nodes[0]!;
    const old = await addPod(n1, "reuse-old");
    // p1a (same node) and node1's cni0 (for p2a, across the overlay) now hold ARP entries for it
    await ping(inPod("p1a"), old.ip);
    await ping(inPod("p2a"), old.ip);
    await n1.pods.unwirePod(`ctr-${lab.tag}-reuse-old`);
    // the round-robin allocator gives a released address back only once the range wraps: fill
    // the range until the old address is the only free one
    const fillers: string[] = [];
    for (let i = 0, hits = 0; hits < 2; i++) {
      const id = `filler-${i}`;
      if (n1.ipam.allocate(id).ip === old.ip) {
        n1.ipam.release(id);
        hits++;
      } else fillers.push(id);
    }
    const ns = await lab.addNamespace("reuse-new");
    const fresh = await n1.pods.wirePod({ netnsPath: lab.path(ns), containerId: `ctr-${lab.tag}-reuse-new` });
    for (const id of fillers) n1.ipam.release(id);
    expect(fresh.ip).toBe(old.ip);
    // the MAC follows the address (0a:58:<IPv4>), so the address's old ARP entries stay right
    expect(fresh.mac).toBe(macFromIp(fresh.ip));
    expect(new Set(n1.ipam.leases().map((l) => l.ip)).size).toBe(n1.ipam.leases().length);
    // nobody keeps sending the new pod's traffic to a MAC that left with the old pod
    const lladdr = async (exec: Exec, dev: string) =>
      (await new IpRoute(exec).neighs(dev)).find((e) => e.dst === old.ip)?.lladdr;
    await vi.waitFor(
      async () => {
        expect(await lladdr(inPod("p1a"), "eth0")).toBe(fresh.mac);
        expect(await lladdr(n1.exec, "cni0")).toBe(fresh.mac);
      },
      { timeout: 3000, interval: 100 },
    );
    await ping(inPod("p1a"), fresh.ip);
    await ping(inPod("p2a"), fresh.ip);
  });

  it("reset removes everything the overlay created, and can run twice", async () => {
    const n2 = nodes[1]!;
    const dbPath = join(await lab.tempDir(), "reset.db");
    const ipam = new HostLocalIpam({ dbPath, podCIDR: "10.42.2.0/24" });
    ipam.close();
    const r = await resetOverlay({ exec: n2.exec, ipamDbPath: dbPath });
    expect(r.removedLinks).toEqual(expect.arrayContaining(["cni0", "flannel.1", pod.p2a!.hostVeth]));
    const links = (await n2.ipr.listLinks()).map((l) => l.ifname).sort();
    expect(links).toEqual(["eth0", "lo"]);
    await expect(n2.exec("nft", ["list", "table", "ip", "edgekube"])).rejects.toThrow();
    await expect(n2.exec("iptables", ["-w", "-t", "nat", "-S", "EDGEKUBE-POSTRTG"])).rejects.toThrow();
    expect((await n2.ipr.routes()).filter((x) => x.dst.startsWith("10.42."))).toEqual([]);
    expect((await resetOverlay({ exec: n2.exec })).removedLinks).toEqual([]);
  });
});
