/**
 * Service proxying on a real kernel: a node namespace with the real pod network (src/cni), two
 * pod namespaces running busybox httpd behind services, and an outside client namespace that
 * routes 10.43.0.0/16 via the node. The NftProxier programs table ip edgekube-lb in the node.
 */
import type { Service } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Masquerade } from "../../src/cni/masquerade.js";
import { NftProxier } from "../../src/lb/nft-proxier.js";
import { planServices } from "../../src/lb/planner.js";
import type { ServiceState } from "../../src/lb/types.js";
import { httpGet, type LabPod, LbLab } from "../helpers/lb-lab.js";
import { hasRoot, need } from "../helpers/prereq.js";
import { type Ep, service, slice } from "../helpers/services-fixtures.js";

const HTTP = [{ name: "http", port: 80 }];

describe.skipIf(!need(hasRoot()))("NftProxier in network namespaces", () => {
  const lab = new LbLab();
  let proxier: NftProxier;
  let p1: LabPod;
  let p2: LabPod;
  const subnet = 100 + Math.floor(Math.random() * 100);
  const nodePort = 30000 + Math.floor(Math.random() * 2000);
  let services: Service[] = [];
  let slices: EndpointSlice[] = [];

  const state = (): ServiceState => ({
    services,
    endpointSlices: slices,
    nodeName: "node1",
    nodeIPs: [lab.node.ip],
    clusterCIDR: "10.42.0.0/16",
  });
  const eps = (ready2 = true): Ep[] => [
    { ip: p1.ip, node: "node1" },
    { ip: p2.ip, node: "node1", ready: ready2 },
  ];

  async function bodies(from: typeof lab.client.exec, url: string, n: number): Promise<Map<string, number>> {
    const seen = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const b = await httpGet(from, url);
      seen.set(b, (seen.get(b) ?? 0) + 1);
    }
    return seen;
  }

  beforeAll(async () => {
    await lab.setup(subnet);
    const masq = new Masquerade({ clusterCIDR: "10.42.0.0/16", mode: "nftables" }, { exec: lab.node.exec });
    await masq.install();
    p1 = await lab.addPod("p1", "backend-one");
    p2 = await lab.addPod("p2", "backend-two");
    services = [
      service("web", "10.43.7.10", {
        type: "NodePort",
        ports: [{ name: "http", port: 80, protocol: "TCP", targetPort: "http", nodePort }],
      }),
      service("sticky", "10.43.7.11", { sessionAffinity: "ClientIP" }),
      service("echo-local", "10.43.7.12", {
        type: "LoadBalancer",
        externalTrafficPolicy: "Local",
        ports: [{ name: "echo", port: 9090, protocol: "TCP", targetPort: 8080, nodePort: nodePort + 1 }],
      }),
      service("echo-cluster", "10.43.7.13", {
        type: "LoadBalancer",
        ports: [{ name: "echo", port: 9091, protocol: "TCP", targetPort: 8080, nodePort: nodePort + 2 }],
      }),
      service("headless", "None"),
      service("itp-local", "10.43.7.15", { internalTrafficPolicy: "Local" }),
    ];
    const lbStatus = { loadBalancer: { ingress: [{ ip: lab.node.ip }] } };
    services = services.map((s) => (s.spec?.type === "LoadBalancer" ? { ...s, status: lbStatus } : s));
    slices = [
      slice("web", eps(), HTTP),
      slice("sticky", eps(), HTTP),
      slice("echo-local", [{ ip: p1.ip, node: "node1" }], [{ name: "echo", port: 8080 }]),
      slice("echo-cluster", [{ ip: p1.ip, node: "node1" }], [{ name: "echo", port: 8080 }]),
      slice("headless", eps(), HTTP),
      // p2 is reported on another node: with internalTrafficPolicy Local this node uses p1 only
      slice(
        "itp-local",
        [
          { ip: p1.ip, node: "node1" },
          { ip: p2.ip, node: "node2" },
        ],
        HTTP,
      ),
    ];
    proxier = new NftProxier({ exec: lab.node.exec });
    await proxier.start();
    const r = await proxier.sync(state());
    expect(r.mode).toBe("full");
  });

  afterAll(async () => {
    await proxier?.reset().catch(() => undefined);
    await lab.cleanup();
  });

  it("balances a ClusterIP across both backends for a client routed via the node", async () => {
    const seen = await bodies(lab.client.exec, "http://10.43.7.10/", 24);
    expect([...seen.keys()].sort()).toEqual(["backend-one", "backend-two"]);
  });

  it("reaches the ClusterIP from a pod, including hairpin back to itself", async () => {
    const seen = await bodies(p1.exec, "http://10.43.7.10/", 24);
    expect([...seen.keys()].sort()).toEqual(["backend-one", "backend-two"]);
  });

  it("serves the NodePort on the node address to an outside client", async () => {
    const seen = await bodies(lab.client.exec, `http://${lab.node.ip}:${nodePort}/`, 16);
    expect([...seen.keys()].sort()).toEqual(["backend-one", "backend-two"]);
  });

  it("serves the NodePort on every address of the node, not only the first", async () => {
    const second = lab.lab.underlayIp(7);
    await lab.node.exec("ip", ["addr", "add", `${second}/28`, "dev", "eth0"]);
    try {
      expect(await httpGet(lab.client.exec, `http://${second}:${nodePort}/`)).toMatch(/^backend-/);
    } finally {
      await lab.node.exec("ip", ["addr", "del", `${second}/28`, "dev", "eth0"]);
    }
  });

  it("keeps a client on one backend with sessionAffinity ClientIP", async () => {
    const seen = await bodies(lab.client.exec, "http://10.43.7.11/", 12);
    expect(seen.size).toBe(1);
  });

  it("sends ClusterIP traffic of an internalTrafficPolicy Local service to this node's endpoints only", async () => {
    const seen = await bodies(lab.client.exec, "http://10.43.7.15/", 12);
    expect([...seen.keys()]).toEqual(["backend-one"]);
  });

  it("preserves the client IP for externalTrafficPolicy Local and SNATs for Cluster", async () => {
    expect(await httpGet(lab.client.exec, `http://${lab.node.ip}:9090/cgi-bin/ip`)).toBe(lab.client.ip);
    expect(await httpGet(lab.client.exec, `http://${lab.node.ip}:${nodePort + 1}/cgi-bin/ip`)).toBe(
      lab.client.ip,
    );
    const snat = await httpGet(lab.client.exec, `http://${lab.node.ip}:9091/cgi-bin/ip`);
    expect(snat).not.toBe(lab.client.ip);
    expect(snat.startsWith(`10.42.${subnet}.`)).toBe(true);
  });

  it("drops a backend that turns not ready, without touching other services' chains", async () => {
    const plan = planServices(state());
    const stickyChain = plan.ports.find((p) => p.name === "sticky")!.chains.cluster;
    const listSticky = async () =>
      (await lab.node.exec("nft", ["-a", "list", "chain", "ip", "edgekube-lb", stickyChain])).stdout;
    const before = await listSticky();
    slices = slices.map((s) => (s.metadata?.name === "web-abcde" ? slice("web", eps(false), HTTP) : s));
    const r = await proxier.sync(state());
    expect(r).toMatchObject({ mode: "incremental", changed: ["default/web/tcp/http"] });
    const seen = await bodies(lab.client.exec, "http://10.43.7.10/", 12);
    expect([...seen.keys()]).toEqual(["backend-one"]);
    expect(await listSticky()).toBe(before);
    slices = slices.map((s) => (s.metadata?.name === "web-abcde" ? slice("web", eps(), HTTP) : s));
    expect((await proxier.sync(state())).mode).toBe("incremental");
  });

  it("rejects connections to a service with no endpoints instead of hanging", async () => {
    services = [...services, service("empty", "10.43.7.14")];
    await proxier.sync(state());
    // Like a real node, give it a default route (to the client namespace, which does not
    // forward): without one the kernel answers "network unreachable" before any hook runs.
    await lab.node.exec("ip", ["route", "replace", "default", "via", lab.client.ip]);
    const err = await httpGet(lab.client.exec, "http://10.43.7.14/", 5).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/Connection refused/);
    await lab.node.exec("ip", ["route", "del", "default"]);
    services = services.filter((s) => s.metadata?.name !== "empty");
    await proxier.sync(state());
  });

  it("reset removes the table and nothing else is left", async () => {
    await proxier.reset();
    const tables = (await lab.node.exec("nft", ["list", "tables"])).stdout;
    expect(tables).not.toContain("edgekube-lb");
    await expect(httpGet(lab.client.exec, "http://10.43.7.10/", 2)).rejects.toThrow();
    // A sync after reset rebuilds everything in one transaction.
    expect((await proxier.sync(state())).mode).toBe("full");
    expect(await httpGet(lab.client.exec, "http://10.43.7.10/")).toMatch(/^backend-/);
  });
});
