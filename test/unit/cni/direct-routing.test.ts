/**
 * Direct routing's pure parts: which peers are on this node's segment (the kernel's longest
 * prefix, from `ip -json route` rows), which underlay routes the overlay owns, the diff, and the
 * split desiredEntries makes between VXLAN and direct peers.
 */
import { describe, expect, it } from "vitest";
import { bestRoute, onLink, ownedDirectRoutes, planDirectRoutes } from "../../../src/cni/direct-routing.js";
import type { Route } from "../../../src/cni/iproute.js";
import { desiredEntries, type Peer } from "../../../src/cni/peers.js";
import { macFromIp, parseSubnet } from "../../../src/cni/subnet.js";

const table: Route[] = [
  { dst: "default", gateway: "198.51.100.1", dev: "eth0", flags: [] },
  { dst: "198.51.100.0/24", dev: "eth0", flags: [] },
  { dst: "198.51.100.64/26", gateway: "198.51.100.2", dev: "eth0", flags: [] },
  { dst: "198.51.100.70", dev: "wg0", flags: [] },
  { dst: "10.42.1.0/24", dev: "cni0", flags: [] },
  { dst: "10.42.2.0/24", gateway: "198.51.100.12", dev: "eth0", flags: [] },
  { dst: "10.42.3.0/24", gateway: "10.42.3.0", dev: "flannel.1", flags: ["onlink"] },
  { dst: "10.43.0.0/16", gateway: "198.51.100.1", dev: "eth0", flags: [] },
];

describe("onLink", () => {
  it("takes the longest matching prefix, as the kernel does", () => {
    expect(bestRoute(table, "198.51.100.12")?.dst).toBe("198.51.100.0/24");
    expect(bestRoute(table, "198.51.100.65")?.dst).toBe("198.51.100.64/26");
    expect(bestRoute(table, "198.51.100.70")?.dst).toBe("198.51.100.70");
    expect(bestRoute(table, "203.0.113.9")?.dst).toBe("default");
    expect(bestRoute([], "203.0.113.9")).toBeUndefined();
  });

  it("is true only for a gateway-less route out of the underlay interface", () => {
    expect(onLink(table, "eth0", "198.51.100.12")).toBe(true);
    expect(onLink(table, "eth0", "198.51.100.65")).toBe(false); // behind a router
    expect(onLink(table, "eth0", "198.51.100.70")).toBe(false); // another device
    expect(onLink(table, "eth0", "203.0.113.9")).toBe(false); // the default route
    expect(onLink(table, "eth1", "198.51.100.12")).toBe(false);
  });

  it("refuses an address that is not IPv4", () => {
    expect(() => onLink(table, "eth0", "fd00::1")).toThrow(/not an IPv4 address/);
  });
});

describe("ownedDirectRoutes and planDirectRoutes", () => {
  const cluster = parseSubnet("10.42.0.0/16");

  it("owns pod-subnet routes via a gateway on any device but the overlay's own", () => {
    const more: Route[] = [
      ...table,
      { dst: "10.42.7.0/24", gateway: "192.0.2.7", dev: "wlan0", flags: [] },
      { dst: "10.42.8.0/24", gateway: "10.42.8.1", dev: "cni0", flags: [] },
      { dst: "10.42.9.0/24", dev: "eth0", flags: [] },
    ];
    expect(ownedDirectRoutes(more, cluster, ["flannel.1", "cni0"]).map((r) => r.dst)).toEqual([
      "10.42.2.0/24",
      "10.42.7.0/24",
    ]);
  });

  it("adds missing and changed routes, deletes unwanted ones, leaves matching ones", () => {
    const owned: Route[] = [
      { dst: "10.42.2.0/24", gateway: "198.51.100.12", dev: "eth0", flags: [] },
      { dst: "10.42.4.0/24", gateway: "198.51.100.99", dev: "eth0", flags: [] },
      { dst: "10.42.5.0/24", gateway: "198.51.100.15", dev: "eth0", flags: [] },
      { dst: "10.42.6.0/24", gateway: "198.51.100.16", dev: "wlan0", flags: [] },
      { dst: "10.42.7.0/24", gateway: "198.51.100.17", dev: "wlan0", flags: [] },
    ];
    const plan = planDirectRoutes(
      [
        { dst: "10.42.2.0/24", gateway: "198.51.100.12" },
        { dst: "10.42.4.0/24", gateway: "198.51.100.14" },
        { dst: "10.42.6.0/24", gateway: "198.51.100.16" },
      ],
      owned,
      "eth0",
    );
    expect(plan).toEqual({
      del: [
        { dst: "10.42.5.0/24", dev: "eth0" },
        { dst: "10.42.7.0/24", dev: "wlan0" },
      ],
      add: [
        { dst: "10.42.4.0/24", gateway: "198.51.100.14" },
        { dst: "10.42.6.0/24", gateway: "198.51.100.16" },
      ],
    });
    expect(planDirectRoutes([], owned, "eth0").del).toHaveLength(5);
    expect(
      planDirectRoutes([{ dst: "10.42.2.0/24", gateway: "198.51.100.12" }], owned.slice(0, 1), "eth0"),
    ).toEqual({
      del: [],
      add: [],
    });
  });
});

describe("desiredEntries with direct peers", () => {
  const peer = (i: number, directRouting?: boolean): Peer => ({
    name: `n${i}`,
    publicIP: `198.51.100.${i}`,
    podCIDR: `10.42.${i}.0/24`,
    vtepMAC: macFromIp(`10.42.${i}.0`),
    ...(directRouting ? { directRouting } : {}),
  });

  it("gives a direct peer one underlay route and nothing on flannel.1", () => {
    const { entries, rejected } = desiredEntries(
      { nodeName: "n1", podCIDR: parseSubnet("10.42.1.0/24") },
      parseSubnet("10.42.0.0/16"),
      [peer(2, true), peer(3)],
      (p) => p.directRouting === true,
    );
    expect(rejected).toEqual([]);
    expect(entries.direct).toEqual([{ dst: "10.42.2.0/24", gateway: "198.51.100.2" }]);
    expect(entries.routes).toEqual([{ dst: "10.42.3.0/24", gateway: "10.42.3.0" }]);
    expect(entries.neighs.map((n) => n.dst)).toEqual(["10.42.3.0"]);
    expect(entries.fdb.map((f) => f.dst)).toEqual(["198.51.100.3"]);
  });

  it("still validates a direct peer like any other", () => {
    const { entries, rejected } = desiredEntries(
      { nodeName: "n1", podCIDR: parseSubnet("10.42.1.0/24") },
      parseSubnet("10.42.0.0/16"),
      [{ ...peer(2, true), podCIDR: "10.99.2.0/24" }],
      () => true,
    );
    expect(entries.direct).toEqual([]);
    expect(rejected[0]?.reason).toMatch(/outside the cluster CIDR/);
  });
});
