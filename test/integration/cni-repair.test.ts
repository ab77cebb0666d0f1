/**
 * Repair and failure paths of the pod network on one namespace node: a flannel.1/cni0 left in
 * the wrong shape is fixed by setupNode, wrong inputs fail with messages that say what to do,
 * and a failed pod wiring leaves neither a veth nor a lease behind.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HostLocalIpam } from "../../src/cni/ipam.js";
import { IpRoute } from "../../src/cni/iproute.js";
import { Masquerade } from "../../src/cni/masquerade.js";
import { VxlanOverlay } from "../../src/cni/overlay.js";
import { hostVethName, PodNetwork } from "../../src/cni/pod-network.js";
import { NetnsLab } from "../helpers/netns-lab.js";
import { hasRoot, need } from "../helpers/prereq.js";

describe.skipIf(!need(hasRoot()))("overlay repair and failure paths", () => {
  const lab = new NetnsLab();
  let ns = "";
  let nodeIP = "";
  let ipr: IpRoute;
  let ipam: HostLocalIpam;
  const cfg = () => ({ nodeName: "r1", nodeIP, podCIDR: "10.42.5.0/24", clusterCIDR: "10.42.0.0/16" });

  beforeAll(async () => {
    ({ ns, ip: nodeIP } = await lab.addHost("r1", 5));
    ipr = new IpRoute(lab.exec(ns));
    ipam = new HostLocalIpam({ dbPath: join(await lab.tempDir(), "ipam.db"), podCIDR: "10.42.5.0/24" });
  });

  afterAll(async () => {
    ipam.close();
    await lab.cleanup();
  });

  it("recreates a flannel.1 with the wrong VNI, keeping the derived VTEP MAC", async () => {
    const exec = lab.exec(ns);
    await ipr.ip([
      "link",
      "add",
      "flannel.1",
      "type",
      "vxlan",
      "id",
      "7",
      "local",
      nodeIP,
      "dev",
      "eth0",
      "dstport",
      "4789",
    ]);
    await ipr.ip(["link", "add", "cni0", "type", "bridge"]);
    await ipr.ip(["addr", "add", "10.42.99.1/24", "dev", "cni0"]);
    const overlay = new VxlanOverlay(cfg(), { exec });
    const setup = await overlay.setupNode();
    const vx = await ipr.getLink("flannel.1");
    expect(vx?.vxlan).toEqual({ id: 1, local: nodeIP, link: "eth0", port: 8472, learning: false });
    expect(vx?.address).toBe("0a:58:0a:2a:05:00");
    expect(setup.vtepMAC).toBe(vx?.address);
    const br = await ipr.getLink("cni0");
    expect(br?.address).toBe("0a:58:0a:2a:05:01");
    expect((await ipr.addrs("cni0")).filter((a) => a.family === "inet")).toEqual([
      { family: "inet", local: "10.42.5.1", prefixlen: 24 },
    ]);
  });

  it("honours an explicit MTU and corrects a changed one on the next setup", async () => {
    const overlay = new VxlanOverlay({ ...cfg(), mtu: 1400 }, { exec: lab.exec(ns) });
    await overlay.setupNode();
    expect((await ipr.getLink("flannel.1"))?.mtu).toBe(1400);
    await ipr.ip(["link", "set", "dev", "flannel.1", "mtu", "1300"]);
    await new VxlanOverlay(cfg(), { exec: lab.exec(ns) }).setupNode();
    expect((await ipr.getLink("flannel.1"))?.mtu).toBe(1450);
    expect((await ipr.getLink("cni0"))?.mtu).toBe(1450);
  });

  it("takes the MTU from the underlay it runs on: underlay MTU − 50 on flannel.1 and cni0", async () => {
    const host = await lab.addHost("r4", 8);
    const exec = lab.exec(host.ns);
    const hipr = new IpRoute(exec);
    await hipr.ip(["link", "set", "dev", "eth0", "mtu", "1400"]);
    const overlay = new VxlanOverlay(
      { ...cfg(), nodeName: "r4", nodeIP: host.ip, podCIDR: "10.42.8.0/24" },
      { exec },
    );
    expect((await overlay.setupNode()).mtu).toBe(1350);
    expect(overlay.mtu).toBe(1350);
    expect((await hipr.getLink("flannel.1"))?.mtu).toBe(1350);
    expect((await hipr.getLink("cni0"))?.mtu).toBe(1350);
  });

  it("says what to fix when the node IP is not on this host or the iface is wrong", async () => {
    const wrongIp = new VxlanOverlay({ ...cfg(), nodeIP: "198.51.100.254" }, { exec: lab.exec(ns) });
    await expect(wrongIp.setupNode()).rejects.toThrow(/no interface carries the node IP 198\.51\.100\.254/);
    const wrongIface = new VxlanOverlay({ ...cfg(), iface: "lo" }, { exec: lab.exec(ns) });
    await expect(wrongIface.setupNode()).rejects.toThrow(/is on eth0, not on lo/);
    expect(() => new VxlanOverlay({ ...cfg(), podCIDR: "10.42.5.7/24" }, { exec: lab.exec(ns) })).toThrow(
      /host bits set/,
    );
  });

  it("refuses peers before setup and names the missing step", async () => {
    const fresh = await lab.addHost("r2", 6);
    const overlay = new VxlanOverlay({ ...cfg(), nodeIP: fresh.ip }, { exec: lab.exec(fresh.ns) });
    await expect(overlay.reconcilePeers([])).rejects.toThrow(/flannel\.1 does not exist: set up the node/);
  });

  it("rolls back a failed pod wiring: no veth, no lease", async () => {
    const pods = new PodNetwork({ exec: lab.exec(ns), ipam, mtu: 1450 });
    const id = `ctr-${lab.tag}-broken`;
    await expect(
      pods.wirePod({ netnsPath: "/run/netns/does-not-exist-ekt", containerId: id }),
    ).rejects.toThrow(new RegExp(`wiring the network of container ${id} failed`));
    expect(await ipr.getLink(hostVethName(id))).toBeUndefined();
    expect(ipam.get(id)).toBeUndefined();
    const links = (await ipr.listLinks()).map((l) => l.ifname);
    expect(links.some((n) => n.startsWith("ekp"))).toBe(false);
  });

  it("re-wiring the same container replaces its veth and keeps its address", async () => {
    const pods = new PodNetwork({ exec: lab.exec(ns), ipam, mtu: 1450 });
    const podNs = await lab.addNamespace("rp");
    const id = `ctr-${lab.tag}-rp`;
    const first = await pods.wirePod({ netnsPath: lab.path(podNs), containerId: id });
    const firstIndex = (await ipr.getLink(first.hostVeth))?.ifindex;
    const second = await pods.wirePod({ netnsPath: lab.path(podNs), containerId: id });
    expect(second.ip).toBe(first.ip);
    expect((await ipr.getLink(second.hostVeth))?.ifindex).not.toBe(firstIndex);
    const podLinks = await new IpRoute(lab.exec(podNs)).listLinks();
    expect(podLinks.map((l) => l.ifname).sort()).toEqual(["eth0", "lo"]);
    await expect(
      lab.exec(podNs)("busybox", ["ping", "-c", "1", "-W", "2", "10.42.5.1"]),
    ).resolves.toBeDefined();
  });

  it("auto masquerade picks iptables when Docker-style FORWARD policy is DROP", async () => {
    const host = await lab.addHost("r3", 7);
    const exec = lab.exec(host.ns);
    const masq = new Masquerade({ clusterCIDR: "10.42.0.0/16" }, { exec });
    expect(await masq.chooseBackend()).toBe("nftables");
    await exec("iptables", ["-w", "-P", "FORWARD", "DROP"]);
    expect(await masq.install()).toBe("iptables");
    const fwd = await exec("iptables", ["-w", "-S", "FORWARD"]);
    expect(fwd.stdout).toMatch(/^-A FORWARD -m comment --comment "edgekube pod network" -j EDGEKUBE-FWD$/m);
    await masq.remove();
    expect((await exec("iptables", ["-w", "-S", "FORWARD"])).stdout).not.toMatch(/EDGEKUBE/);
  });
});
