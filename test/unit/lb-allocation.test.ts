/**
 * Hub-side LoadBalancer decisions: klipper-style node addresses with port collisions and node
 * pools, and address pools with MetalLB's sharing-key rules.
 */
import type { Node, Service } from "kubernetes-types/core/v1";
import { describe, expect, it } from "vitest";
import { poolAllocate, SHARED_IP_ANNOTATION, sharingConflict } from "../../src/lb/address-pool.js";
import { klipperAssign, klipperIngress, LB_POOL_LABEL } from "../../src/lb/klipper.js";
import { service } from "../helpers/services-fixtures.js";

function node(
  name: string,
  ip: string,
  opts: { ready?: boolean; labels?: Record<string, string>; ext?: string } = {},
): Node {
  return {
    metadata: { name, ...(opts.labels ? { labels: opts.labels } : {}) },
    status: {
      conditions: [{ type: "Ready", status: opts.ready === false ? "False" : "True" }],
      addresses: [
        { type: "InternalIP", address: ip },
        ...(opts.ext ? [{ type: "ExternalIP", address: opts.ext }] : []),
      ],
    },
  };
}

function lb(
  name: string,
  port: number,
  meta: Parameters<typeof service>[3] = {},
  created = "2026-01-01T00:00:00Z",
  extra = {},
): Service {
  const s = service(
    name,
    "10.43.0.50",
    { type: "LoadBalancer", ports: [{ name: "p", port, protocol: "TCP" }], ...extra },
    meta,
  );
  return { ...s, metadata: { ...s.metadata, creationTimestamp: created } };
}

describe("klipper-style LoadBalancer", () => {
  const nodes = [
    node("n1", "198.51.100.2"),
    node("n2", "198.51.100.3", { ext: "203.0.113.3" }),
    node("n3", "198.51.100.4", { ready: false }),
  ];

  it("lists the addresses of Ready nodes, preferring ExternalIP", () => {
    expect(klipperIngress(lb("web", 80), nodes)).toEqual([{ ip: "198.51.100.2" }, { ip: "203.0.113.3" }]);
  });

  it("a port already taken on every eligible node leaves the later service pending with an event text", () => {
    const d = klipperAssign(
      [lb("second", 80, {}, "2026-01-02T00:00:00Z"), lb("first", 80), lb("other", 81)],
      nodes,
    );
    expect(d.find((x) => x.key === "default/first")).toMatchObject({ state: "ready", nodes: ["n1", "n2"] });
    expect(d.find((x) => x.key === "default/other")).toMatchObject({ state: "ready" });
    const pending = d.find((x) => x.key === "default/second");
    expect(pending).toMatchObject({ state: "pending", reason: "PortUnavailable" });
    expect(pending?.state === "pending" && pending.message).toBe(
      "port TCP/80 (used by default/first) is already taken on every eligible node (n1, n2); default/second stays pending: change its port, or add nodes to its pool",
    );
  });

  it("node pools: a service labelled with a pool only uses nodes of that pool", () => {
    const pooled = [
      node("a", "198.51.100.10", { labels: { [LB_POOL_LABEL]: "edge" } }),
      node("b", "198.51.100.11"),
    ];
    const d = klipperAssign([lb("web", 80, { labels: { [LB_POOL_LABEL]: "edge" } })], pooled);
    expect(d[0]).toMatchObject({ state: "ready", ingress: [{ ip: "198.51.100.10" }] });
    const none = klipperAssign([lb("web", 80, { labels: { [LB_POOL_LABEL]: "nowhere" } })], pooled);
    expect(none[0]).toMatchObject({ state: "pending", reason: "NoEligibleNodes" });
  });
});

describe("address pools with sharing keys", () => {
  const pools = [{ name: "main", addresses: ["192.0.2.10-192.0.2.11"] }];
  const shared = (key: string) => ({ annotations: { [SHARED_IP_ANNOTATION]: key } });

  it("gives each service its own address in order and leaves the rest pending", () => {
    const d = poolAllocate(pools, [lb("a", 80), lb("b", 80), lb("c", 80)]);
    expect(d.map((x) => (x.state === "ready" ? x.ip : x.reason))).toEqual([
      "192.0.2.10",
      "192.0.2.11",
      "AllocationFailed",
    ]);
  });

  it("same key, different ports → one shared address", () => {
    const d = poolAllocate(pools, [lb("a", 80, shared("k")), lb("b", 443, shared("k"))]);
    expect(d.map((x) => x.state === "ready" && x.ip)).toEqual(["192.0.2.10", "192.0.2.10"]);
  });

  it("same key but the same port, or different keys → separate addresses", () => {
    expect(
      poolAllocate(pools, [lb("a", 80, shared("k")), lb("b", 80, shared("k"))]).map(
        (x) => x.state === "ready" && x.ip,
      ),
    ).toEqual(["192.0.2.10", "192.0.2.11"]);
    expect(sharingConflict(lb("a", 80, shared("k")), lb("b", 81, shared("j")))).toMatch(
      /same metallb.io\/allow-shared-ip key/,
    );
  });

  it("externalTrafficPolicy must be compatible: Local needs the same selector", () => {
    const local = (n: string, port: number, sel: string) =>
      lb(n, port, shared("k"), undefined, { externalTrafficPolicy: "Local", selector: { app: sel } });
    expect(sharingConflict(local("a", 80, "x"), lb("b", 81, shared("k")))).toMatch(
      /different externalTrafficPolicy/,
    );
    expect(sharingConflict(local("a", 80, "x"), local("b", 81, "y"))).toMatch(/different pod selectors/);
    expect(sharingConflict(local("a", 80, "x"), local("b", 81, "x"))).toBeUndefined();
  });

  it("a requested address that is held by an incompatible service is pending with the reason", () => {
    const want = { annotations: { "metallb.io/loadBalancerIPs": "192.0.2.10" } };
    const d = poolAllocate(pools, [lb("a", 80, shared("k")), lb("b", 80, want, "2026-02-01T00:00:00Z")]);
    expect(d[1]).toMatchObject({ state: "pending", reason: "AllocationFailed" });
    expect(d[1]?.state === "pending" && d[1].message).toMatch(/192\.0\.2\.10 is in use/);
  });

  it("keeps an address a service already holds even when an older service asks later", () => {
    const holder = {
      ...lb("new", 80, {}, "2026-03-01T00:00:00Z"),
      status: { loadBalancer: { ingress: [{ ip: "192.0.2.11" }] } },
    };
    const d = poolAllocate(pools, [lb("old", 80), holder]);
    expect(d.find((x) => x.key === "default/new")).toMatchObject({ ip: "192.0.2.11" });
    expect(d.find((x) => x.key === "default/old")).toMatchObject({ ip: "192.0.2.10" });
  });

  it("an unknown pool is pending with the pools that exist", () => {
    const d = poolAllocate(pools, [lb("a", 80, { annotations: { "metallb.io/address-pool": "nope" } })]);
    expect(d[0]).toMatchObject({ state: "pending", reason: "UnknownPool" });
  });
});
