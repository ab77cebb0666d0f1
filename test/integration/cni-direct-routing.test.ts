import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { VxlanOverlay } from "../../src/cni/overlay.js";
import type { Peer } from "../../src/cni/peers.js";
import type { WiredPod } from "../../src/cni/pod-network.js";
import { resetOverlay } from "../../src/cni/reset.js";
import { NetnsLab } from "../helpers/netns-lab.js";
import { addOverlayNode, type OverlayNode } from "../helpers/overlay-node.js";
import { hasRoot, need } from "../helpers/prereq.js";

type TestNode = OverlayNode;

const CLUSTER = "10.42.0.0/16";

describe.skipIf(!need(hasRoot()))("VXLAN overlay with direct routing", () => {
  const lab = new NetnsLab();
  const nodes: TestNode[] = [];
  const pod: Record<string, WiredPod> = {};

  async function addNode(i: number, directRouting: boolean): Promise<TestNode> {
    const node = await addOverlayNode(lab, i, { clusterCIDR: CLUSTER, prefix: "d", directRouting });
    nodes.push(node);
    return node;
  }

  /** the peer list as node-peers.ts builds it from the annotations each node publishes */
  function peers(list: TestNode[] = nodes): Peer[] {
    return list.map((n) => {
      const data = JSON.parse(n.overlay.nodeAnnotations()["flannel.alpha.coreos.com/backend-data"] ?? "{}");
      return {
        name: n.name,
        publicIP: n.ip,
        podCIDR: n.overlay.podCIDR.cidr,
        vtepMAC: n.overlay.vtepMAC,
        ...(data.DirectRouting === true ? { directRouting: true } : {}),
      };
    });
  }

  async function addPod(node: TestNode, key: string): Promise<void> {
    const ns = await lab.addNamespace(key);
    pod[key] = await node.pods.wirePod({ netnsPath: lab.path(ns), containerId: `ctr-${lab.tag}-${key}` });
    await lab.startIpEcho(ns);
  }

  async function whoAmI(fromPod: string, ip: string): Promise<string> {
    const r = await vi.waitFor(
      () =>
        lab.exec(lab.name(fromPod))("busybox", [
          "timeout",
          "5",
          "wget",
          "-qO-",
          `http://${ip}:8080/cgi-bin/ip`,
        ]),
      { timeout: 10_000, interval: 100 },
    );
    return r.stdout.trim().replace(/^\[::ffff:(.*)\]$/, "$1");
  }

  async function txPackets(n: TestNode, dev: string): Promise<number> {
    const out = await n.ipr.ip(["-json", "-s", "link", "show", "dev", dev]);
    return Number(JSON.parse(out)[0].stats64.tx.packets);
  }

  async function clusterRoutes(n: TestNode): Promise<Array<{ dst: string; gateway?: string; dev?: string }>> {
    return (await n.ipr.routes())
      .filter((r) => r.dst.startsWith("10.42.") && r.dev !== "cni0")
      .map(({ dst, gateway, dev }) => ({ dst, ...(gateway ? { gateway } : {}), ...(dev ? { dev } : {}) }))
      .sort((a, b) => a.dst.localeCompare(b.dst));
  }

  beforeAll(async () => {
    await addNode(1, true);
    await addNode(2, true);
    await addNode(3, false);
    for (const n of nodes) await n.overlay.reconcilePeers(peers());
    await addPod(nodes[0]!, "q1");
    await addPod(nodes[1]!, "q2");
    await addPod(nodes[2]!, "q3");
  });

  afterAll(async () => {
    for (const n of nodes) n.ipam.close();
    await lab.cleanup();
  });

  it("announces the mode in the backend data only when it is on", () => {
    const data = (n: TestNode) =>
      JSON.parse(n.overlay.nodeAnnotations()["flannel.alpha.coreos.com/backend-data"] ?? "");
    expect(data(nodes[0]!)).toEqual({ VNI: 1, VtepMAC: nodes[0]!.overlay.vtepMAC, DirectRouting: true });
    expect(data(nodes[2]!)).toEqual({ VNI: 1, VtepMAC: nodes[2]!.overlay.vtepMAC });
  });

  it("routes a same-segment peer that also announces it over eth0, the others over flannel.1", async () => {
    const [n1, n2, n3] = nodes as [TestNode, TestNode, TestNode];
    expect(await clusterRoutes(n1)).toEqual([
      { dst: "10.42.2.0/24", gateway: n2.ip, dev: "eth0" },
      { dst: "10.42.3.0/24", gateway: "10.42.3.0", dev: "flannel.1" },
    ]);
    // nothing for node2 on flannel.1: no neighbour, no FDB entry
    expect((await n1.ipr.neighs("flannel.1")).map((x) => x.dst)).toEqual(["10.42.3.0"]);
    expect((await n1.ipr.fdb("flannel.1")).map((x) => x.dst)).toEqual([n3.ip]);
    // node3 has the option off: VXLAN to both, whatever they announce
    expect(await clusterRoutes(n3)).toEqual([
      { dst: "10.42.1.0/24", gateway: "10.42.1.0", dev: "flannel.1" },
      { dst: "10.42.2.0/24", gateway: "10.42.2.0", dev: "flannel.1" },
    ]);
  });

  it("carries pod traffic between the direct pair without encapsulation, unmasqueraded", async () => {
    const [n1, n2] = nodes as [TestNode, TestNode];
    expect(await whoAmI("q1", pod.q2!.ip)).toBe(pod.q1!.ip);
    const vx = [await txPackets(n1, "flannel.1"), await txPackets(n2, "flannel.1")];
    const eth = await txPackets(n1, "eth0");
    for (let i = 0; i < 3; i++) {
      expect(await whoAmI("q1", pod.q2!.ip)).toBe(pod.q1!.ip);
      expect(await whoAmI("q2", pod.q1!.ip)).toBe(pod.q2!.ip);
    }
    expect([await txPackets(n1, "flannel.1"), await txPackets(n2, "flannel.1")]).toEqual(vx);
    expect(await txPackets(n1, "eth0")).toBeGreaterThan(eth);
  });

  it("keeps VXLAN between a direct node and one without the option, both ways", async () => {
    const [n1, , n3] = nodes as [TestNode, TestNode, TestNode];
    const before = [await txPackets(n1, "flannel.1"), await txPackets(n3, "flannel.1")];
    expect(await whoAmI("q1", pod.q3!.ip)).toBe(pod.q1!.ip);
    expect(await whoAmI("q3", pod.q1!.ip)).toBe(pod.q3!.ip);
    expect(await txPackets(n1, "flannel.1")).toBeGreaterThan(before[0]!);
    expect(await txPackets(n3, "flannel.1")).toBeGreaterThan(before[1]!);
  });

  it("is idempotent: a second reconcile changes nothing", async () => {
    for (const n of nodes) {
      const r = await n.overlay.reconcilePeers(peers());
      expect(r.changes).toBe(0);
    }
    const r1 = await nodes[0]!.overlay.reconcilePeers(peers());
    expect(r1.directPeers).toEqual(["node2"]);
  });

  it("moves a peer back to VXLAN when it stops announcing the mode, and traffic keeps flowing", async () => {
    const [n1, n2] = nodes as [TestNode, TestNode];
    const withdrawn = peers().map((p) => (p.name === "node2" ? { ...p, directRouting: false } : p));
    const r = await n1.overlay.reconcilePeers(withdrawn);
    // route replaced onto flannel.1, neighbour + FDB added; the eth0 route was swapped, not deleted
    expect(r.plan.addRoutes).toEqual([{ dst: "10.42.2.0/24", gateway: "10.42.2.0" }]);
    expect(r.direct.del).toEqual([{ dst: "10.42.2.0/24", dev: "eth0" }]);
    expect(r.directPeers).toEqual([]);
    expect(await clusterRoutes(n1)).toEqual([
      { dst: "10.42.2.0/24", gateway: "10.42.2.0", dev: "flannel.1" },
      { dst: "10.42.3.0/24", gateway: "10.42.3.0", dev: "flannel.1" },
    ]);
    await n2.overlay.reconcilePeers(
      peers().map((p) => (p.name === "node1" ? { ...p, directRouting: false } : p)),
    );
    expect(await whoAmI("q1", pod.q2!.ip)).toBe(pod.q1!.ip);
    expect(await whoAmI("q2", pod.q1!.ip)).toBe(pod.q2!.ip);
    // and back
    expect((await n1.overlay.reconcilePeers(peers())).directPeers).toEqual(["node2"]);
    await n2.overlay.reconcilePeers(peers());
    expect(await clusterRoutes(n1)).toContainEqual({ dst: "10.42.2.0/24", gateway: n2.ip, dev: "eth0" });
    expect(await whoAmI("q1", pod.q2!.ip)).toBe(pod.q1!.ip);
  });

  it("removes its direct routes when the node runs again without the option", async () => {
    const [n1] = nodes as [TestNode];
    const again = new VxlanOverlay(
      { nodeName: "node1", nodeIP: n1.ip, podCIDR: "10.42.1.0/24", clusterCIDR: CLUSTER },
      { exec: n1.exec },
    );
    await again.setupNode();
    const r = await again.reconcilePeers(peers());
    expect(r.directPeers).toEqual([]);
    expect(await clusterRoutes(n1)).toEqual([
      { dst: "10.42.2.0/24", gateway: "10.42.2.0", dev: "flannel.1" },
      { dst: "10.42.3.0/24", gateway: "10.42.3.0", dev: "flannel.1" },
    ]);
    // node2 still routes node1 directly until node1's annotation changes: after that, VXLAN
    const n2 = nodes[1]!;
    await n2.overlay.reconcilePeers(peers([{ ...n1, overlay: again }, ...nodes.slice(1)]));
    expect(await clusterRoutes(n2)).toContainEqual({
      dst: "10.42.1.0/24",
      gateway: "10.42.1.0",
      dev: "flannel.1",
    });
    expect(await whoAmI("q1", pod.q2!.ip)).toBe(pod.q1!.ip);
    expect(await whoAmI("q2", pod.q1!.ip)).toBe(pod.q2!.ip);
  });

  it("reset removes the direct routes with the devices", async () => {
    const n2 = nodes[1]!;
    expect(await clusterRoutes(n2)).toContainEqual({
      dst: "10.42.3.0/24",
      gateway: "10.42.3.0",
      dev: "flannel.1",
    });
    // node2 routes node1 over VXLAN since the last test: give it one direct route to remove
    await n2.overlay.reconcilePeers(peers());
    expect(await clusterRoutes(n2)).toContainEqual({
      dst: "10.42.1.0/24",
      gateway: nodes[0]!.ip,
      dev: "eth0",
    });
    const r = await resetOverlay({ exec: n2.exec, clusterCIDR: CLUSTER });
    expect(r.removedRoutes).toEqual(["10.42.1.0/24"]);
    expect(await clusterRoutes(n2)).toEqual([]);
    expect((await resetOverlay({ exec: n2.exec })).removedRoutes).toEqual([]);
  });
});
