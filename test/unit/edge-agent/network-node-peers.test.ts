import type { Node } from "kubernetes-types/core/v1";
import { describe, expect, it } from "vitest";
import { addressPlan } from "../../../scripts/lib/dev-cluster/state.js";
import {
  annotationsCurrent,
  peersFromNodes,
  podCIDRFromNodes,
} from "../../../src/edge-agent/network/node-peers.js";

function node(
  name: string,
  o: { cidr?: string; mac?: string; ip?: string; internal?: string; direct?: unknown } = {},
): Node {
  const annotations: Record<string, string> = {};
  if (o.mac)
    annotations["flannel.alpha.coreos.com/backend-data"] = JSON.stringify({
      VNI: 1,
      VtepMAC: o.mac,
      ...(o.direct !== undefined ? { DirectRouting: o.direct } : {}),
    });
  if (o.ip) annotations["flannel.alpha.coreos.com/public-ip"] = o.ip;
  return {
    metadata: { name, annotations },
    spec: o.cidr ? { podCIDR: o.cidr } : {},
    status: o.internal ? { addresses: [{ type: "InternalIP", address: o.internal }] } : {},
  };
}

describe("peersFromNodes", () => {
  it("turns every other complete node into a peer, sorted, and skips itself", () => {
    const { peers, skipped } = peersFromNodes(
      [
        node("n3", { cidr: "10.42.3.0/24", mac: "0a:58:0a:2a:03:00", ip: "198.51.100.13" }),
        node("n1", { cidr: "10.42.1.0/24", mac: "0a:58:0a:2a:01:00", ip: "198.51.100.11" }),
        node("n2", { cidr: "10.42.2.0/24", mac: "0a:58:0a:2a:02:00", ip: "198.51.100.12" }),
      ],
      "n1",
    );
    expect(skipped).toEqual([]);
    expect(peers).toEqual([
      { name: "n2", podCIDR: "10.42.2.0/24", vtepMAC: "0a:58:0a:2a:02:00", publicIP: "198.51.100.12" },
      { name: "n3", podCIDR: "10.42.3.0/24", vtepMAC: "0a:58:0a:2a:03:00", publicIP: "198.51.100.13" },
    ]);
  });

  it("marks peers that announce DirectRouting: true, and only those", () => {
    const { peers } = peersFromNodes(
      [
        node("n2", { cidr: "10.42.2.0/24", mac: "0a:58:0a:2a:02:00", ip: "198.51.100.12", direct: true }),
        node("n3", { cidr: "10.42.3.0/24", mac: "0a:58:0a:2a:03:00", ip: "198.51.100.13", direct: "true" }),
        node("n4", { cidr: "10.42.4.0/24", mac: "0a:58:0a:2a:04:00", ip: "198.51.100.14", direct: false }),
      ],
      "n1",
    );
    expect(peers.map((p) => [p.name, p.directRouting === true])).toEqual([
      ["n2", true],
      ["n3", false],
      ["n4", false],
    ]);
  });

  it("skips nodes that have not published their overlay data yet, with the reason", () => {
    const { peers, skipped } = peersFromNodes(
      [
        node("nocidr", { mac: "0a:58:0a:2a:05:00", ip: "198.51.100.15" }),
        node("nomac", { cidr: "10.42.6.0/24", ip: "198.51.100.16" }),
        node("noip", { cidr: "10.42.7.0/24", mac: "0a:58:0a:2a:07:00" }),
        {
          metadata: { name: "badjson", annotations: { "flannel.alpha.coreos.com/backend-data": "{" } },
          spec: { podCIDR: "10.42.8.0/24" },
        },
      ],
      "self",
    );
    expect(peers).toEqual([]);
    expect(skipped.map((s) => s.name)).toEqual(["nocidr", "nomac", "noip", "badjson"]);
    expect(skipped[0]?.reason).toContain("podCIDR");
    expect(skipped[1]?.reason).toContain("VtepMAC");
    expect(skipped[2]?.reason).toContain("InternalIP");
  });

  it("falls back to the InternalIP when the public-ip annotation is missing", () => {
    const { peers } = peersFromNodes(
      [node("n2", { cidr: "10.42.2.0/24", mac: "0a:58:0a:2a:02:00", internal: "198.51.100.42" })],
      "n1",
    );
    expect(peers[0]?.publicIP).toBe("198.51.100.42");
  });
});

describe("podCIDRFromNodes / annotationsCurrent", () => {
  it("finds this node's podCIDR only once assigned", () => {
    expect(podCIDRFromNodes([node("n1")], "n1")).toBeUndefined();
    expect(podCIDRFromNodes([node("n1", { cidr: "10.42.9.0/24" })], "n1")).toBe("10.42.9.0/24");
    expect(podCIDRFromNodes([node("n2", { cidr: "10.42.9.0/24" })], "n1")).toBeUndefined();
  });

  it("is current only when every wanted annotation has the wanted value", () => {
    const want = { a: "1", b: "2" };
    expect(annotationsCurrent({ a: "1", b: "2", other: "x" }, want)).toBe(true);
    expect(annotationsCurrent({ a: "1" }, want)).toBe(false);
    expect(annotationsCurrent({ a: "1", b: "3" }, want)).toBe(false);
    expect(annotationsCurrent(undefined, want)).toBe(false);
  });
});

describe("dev cluster address plan", () => {
  it("puts the host at .1, node i at .(10+i) and the dead end at the last usable address", () => {
    const p = addressPlan("198.51.100.0/24");
    expect([p.hostIP, p.nodeIP(1), p.nodeIP(3), p.deadEndIP]).toEqual([
      "198.51.100.1",
      "198.51.100.11",
      "198.51.100.13",
      "198.51.100.254",
    ]);
    const slice = addressPlan("198.51.100.96/27");
    expect([slice.hostIP, slice.nodeIP(2), slice.deadEndIP, slice.maxNodes]).toEqual([
      "198.51.100.97",
      "198.51.100.108",
      "198.51.100.126",
      19,
    ]);
    expect(() => slice.nodeIP(20)).toThrow(/does not fit/);
    expect(() => addressPlan("198.51.100.0/30")).toThrow(/between/);
  });
});
