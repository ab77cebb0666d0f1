/**
 * Pure logic of the overlay: subnet arithmetic and MACs, peer validation, the diff between
 * desired and current flannel.1 state, masquerade rule text and veth names.
 */
import { describe, expect, it } from "vitest";
import { iptablesRules, nftRuleset } from "../../src/cni/masquerade.js";
import { desiredEntries, type Peer, planPeers, planSize } from "../../src/cni/peers.js";
import { hostVethName, isOurHostVeth } from "../../src/cni/pod-network.js";
import { macFromIp, normalizeMac, parseSubnet, subnetWithin } from "../../src/cni/subnet.js";

const cluster = parseSubnet("10.42.0.0/16");
const self = { nodeName: "n1", podCIDR: parseSubnet("10.42.1.0/24") };
const peer = (name: string, i: number, over: Partial<Peer> = {}): Peer => ({
  name,
  publicIP: `198.51.100.${i}`,
  podCIDR: `10.42.${i}.0/24`,
  vtepMAC: macFromIp(`10.42.${i}.0`),
  ...over,
});

describe("subnet helpers", () => {
  it("parses CIDRs and refuses host bits or garbage with a hint", () => {
    expect(parseSubnet("10.42.3.0/24")).toMatchObject({ cidr: "10.42.3.0/24", prefixLength: 24, size: 256 });
    expect(() => parseSubnet("10.42.3.1/24")).toThrow(/use its network address 10\.42\.3\.0\/24/);
    expect(() => parseSubnet("10.42.3.0")).toThrow(/not an IPv4 CIDR/);
    expect(() => parseSubnet("10.42.300.0/24")).toThrow(/not an IPv4 address/);
    expect(subnetWithin(parseSubnet("10.42.3.0/24"), cluster)).toBe(true);
    expect(subnetWithin(parseSubnet("10.43.3.0/24"), cluster)).toBe(false);
  });

  it("derives CNI-style MACs from addresses", () => {
    expect(macFromIp("10.42.1.1")).toBe("0a:58:0a:2a:01:01");
    expect(macFromIp("10.42.255.0")).toBe("0a:58:0a:2a:ff:00");
    expect(normalizeMac("0A:58:0A:2A:01:00")).toBe("0a:58:0a:2a:01:00");
    expect(() => normalizeMac("0a:58")).toThrow(/not a MAC address/);
  });
});

describe("desiredEntries", () => {
  it("produces one route, neighbour and FDB entry per valid peer, skipping itself", () => {
    const { entries, rejected } = desiredEntries(self, cluster, [
      peer("n1", 1),
      peer("n2", 2),
      peer("n3", 3),
    ]);
    expect(rejected).toEqual([]);
    expect(entries.routes).toEqual([
      { dst: "10.42.2.0/24", gateway: "10.42.2.0" },
      { dst: "10.42.3.0/24", gateway: "10.42.3.0" },
    ]);
    expect(entries.neighs).toEqual([
      { dst: "10.42.2.0", lladdr: "0a:58:0a:2a:02:00" },
      { dst: "10.42.3.0", lladdr: "0a:58:0a:2a:03:00" },
    ]);
    expect(entries.fdb).toEqual([
      { mac: "0a:58:0a:2a:02:00", dst: "198.51.100.2" },
      { mac: "0a:58:0a:2a:03:00", dst: "198.51.100.3" },
    ]);
  });

  it("rejects bad peers with a reason and keeps the good ones", () => {
    const { entries, rejected } = desiredEntries(self, cluster, [
      peer("a-outside", 4, { podCIDR: "10.99.4.0/24" }),
      peer("b-mine", 5, { podCIDR: "10.42.1.0/24" }),
      peer("c-nomac", 6, { vtepMAC: "" }),
      peer("d-badip", 7, { publicIP: "nope" }),
      peer("e-good", 8),
      peer("f-dupcidr", 9, { podCIDR: "10.42.8.0/24" }),
    ]);
    expect(entries.routes.map((r) => r.dst)).toEqual(["10.42.8.0/24"]);
    expect(rejected.map((r) => r.name)).toEqual(["a-outside", "b-mine", "c-nomac", "d-badip", "f-dupcidr"]);
    expect(rejected[0]?.reason).toMatch(/outside the cluster CIDR/);
    expect(rejected[1]?.reason).toMatch(/already used by node n1/);
    expect(rejected[4]?.reason).toMatch(/already used by node e-good/);
  });
});

describe("planPeers", () => {
  const { entries } = desiredEntries(self, cluster, [peer("n2", 2)]);
  const converged = {
    routes: [{ dst: "10.42.2.0/24", gateway: "10.42.2.0", dev: "flannel.1", flags: ["onlink"] }],
    neighs: [{ dst: "10.42.2.0", lladdr: "0a:58:0a:2a:02:00", state: ["PERMANENT"] }],
    fdb: [{ mac: "0a:58:0a:2a:02:00", dst: "198.51.100.2", flags: ["self"], state: "permanent" }],
  };

  it("adds everything on an empty device", () => {
    const p = planPeers(entries, { routes: [], neighs: [], fdb: [] });
    expect(p.addRoutes).toHaveLength(1);
    expect(p.addNeighs).toHaveLength(1);
    expect(p.addFdb).toHaveLength(1);
    expect(planSize(p)).toBe(3);
  });

  it("changes nothing when converged", () => {
    expect(planSize(planPeers(entries, converged))).toBe(0);
  });

  it("deletes entries of departed peers and fixes changed ones", () => {
    const p = planPeers(entries, {
      routes: [...converged.routes, { dst: "10.42.9.0/24", gateway: "10.42.9.0", flags: ["onlink"] }],
      neighs: [{ dst: "10.42.2.0", lladdr: "0a:58:0a:2a:02:00", state: ["STALE"] }],
      fdb: [{ mac: "0a:58:0a:2a:02:00", dst: "198.51.100.77", flags: ["self"], state: "permanent" }],
    });
    expect(p.delRoutes).toEqual(["10.42.9.0/24"]);
    expect(p.addNeighs).toEqual([{ dst: "10.42.2.0", lladdr: "0a:58:0a:2a:02:00" }]);
    expect(p.delFdb).toEqual([{ mac: "0a:58:0a:2a:02:00", dst: "198.51.100.77" }]);
    expect(p.addFdb).toEqual([{ mac: "0a:58:0a:2a:02:00", dst: "198.51.100.2" }]);
    expect(p.addRoutes).toEqual([]);
  });

  it("rewrites a route that lost its onlink flag or gateway", () => {
    const p = planPeers(entries, {
      ...converged,
      routes: [{ dst: "10.42.2.0/24", gateway: "10.42.2.9", flags: [] }],
    });
    expect(p.addRoutes).toEqual([{ dst: "10.42.2.0/24", gateway: "10.42.2.0" }]);
    expect(p.delRoutes).toEqual([]);
  });
});

describe("masquerade rules and veth names", () => {
  it("never NATs cluster-internal traffic and skips marked packets", () => {
    const nft = nftRuleset("10.42.0.0/16");
    expect(nft).toMatch(/delete table ip edgekube/);
    expect(nft).toMatch(/ip saddr 10\.42\.0\.0\/16 ip daddr 10\.42\.0\.0\/16 return/);
    expect(nft).toMatch(/ip saddr 10\.42\.0\.0\/16 ip daddr != 224\.0\.0\.0\/4 masquerade fully-random/);
    expect(nft.indexOf("meta mark & 0x4000")).toBeLessThan(nft.indexOf("masquerade"));
    const ipt = iptablesRules("10.42.0.0/16");
    expect(ipt.nat.at(-1)).toEqual([
      "-s",
      "10.42.0.0/16",
      "!",
      "-d",
      "224.0.0.0/4",
      "-j",
      "MASQUERADE",
      "--random-fully",
    ]);
    expect(ipt.filter).toHaveLength(2);
    expect(ipt.raw).toEqual([]);
    expect(nft).not.toMatch(/notrack/);
  });

  it("leaves VXLAN outer packets to and from the node untracked, at raw priority", () => {
    const nft = nftRuleset("10.42.0.0/16", { nodeIP: "198.51.100.7", port: 8472 });
    expect(nft).toMatch(
      /hook prerouting priority raw; policy accept;\n\s+ip daddr 198\.51\.100\.7 udp dport 8472 notrack/,
    );
    expect(nft).toMatch(
      /hook output priority raw; policy accept;\n\s+ip saddr 198\.51\.100\.7 udp dport 8472 notrack/,
    );
    const ipt = iptablesRules("10.42.0.0/16", { nodeIP: "198.51.100.7", port: 4789 });
    expect(ipt.raw).toEqual([
      ["-d", "198.51.100.7/32", "-p", "udp", "--dport", "4789", "-j", "CT", "--notrack"],
      ["-s", "198.51.100.7/32", "-p", "udp", "--dport", "4789", "-j", "CT", "--notrack"],
    ]);
  });

  it("names host veths deterministically and recognises only those", () => {
    const n = hostVethName("3f2a9c");
    expect(n).toMatch(/^veth[0-9a-f]{8}$/);
    expect(hostVethName("3f2a9c")).toBe(n);
    expect(hostVethName("3f2a9d")).not.toBe(n);
    expect(isOurHostVeth(n)).toBe(true);
    expect(isOurHostVeth("veth1a")).toBe(false);
    expect(isOurHostVeth("eth0")).toBe(false);
  });
});
