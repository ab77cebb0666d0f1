/**
 * Address-pool LoadBalancer addresses on a real kernel: the elected node puts the pool address
 * on lo (label lo:edgekube-lb), answers ARP for it on the underlay, and the proxy's rules send
 * an outside client's connection to the backend pod; withdrawing the claim makes the address
 * unreachable again, and only our labelled address is removed.
 */
import type { Node, Service } from "kubernetes-types/core/v1";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Masquerade } from "../../src/cni/masquerade.js";
import {
  announce,
  electedAddresses,
  LB_LO_LABEL,
  labelledLoAddresses,
} from "../../src/edge-agent/services/index.js";
import { NftProxier } from "../../src/lb/nft-proxier.js";
import { httpGet, type LabPod, LbLab } from "../helpers/lb-lab.js";
import { hasRoot, need } from "../helpers/prereq.js";
import { service, slice } from "../helpers/services-fixtures.js";

describe.skipIf(!need(hasRoot()))("address-pool LoadBalancer announcement in network namespaces", () => {
  const lab = new LbLab();
  let proxier: NftProxier;
  let p1: LabPod;
  let poolIP = "";
  let services: Service[] = [];
  const subnet = 100 + Math.floor(Math.random() * 100);

  const nodes = (): Node[] => [
    {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "node1" },
      status: {
        addresses: [{ type: "InternalIP", address: lab.node.ip }],
        conditions: [{ type: "Ready", status: "True" }],
      },
    },
  ];

  beforeAll(async () => {
    await lab.setup(subnet);
    await new Masquerade(
      { clusterCIDR: "10.42.0.0/16", mode: "nftables" },
      { exec: lab.node.exec },
    ).install();
    p1 = await lab.addPod("p1", "backend-one");
    poolIP = lab.lab.underlayIp(9);
    services = [
      {
        ...service("pooled", "10.43.8.10", {
          type: "LoadBalancer",
          ports: [{ name: "http", port: 8088, protocol: "TCP", targetPort: "http", nodePort: 31888 }],
        }),
        status: { loadBalancer: { ingress: [{ ip: poolIP }] } },
      },
    ];
    proxier = new NftProxier({ exec: lab.node.exec });
    await proxier.start();
    await proxier.sync({
      services,
      endpointSlices: [slice("pooled", [{ ip: p1.ip, node: "node1" }], [{ name: "http", port: 80 }])],
      nodeName: "node1",
      nodeIPs: [lab.node.ip],
      clusterCIDR: "10.42.0.0/16",
    });
  });

  afterAll(async () => {
    await proxier?.reset().catch(() => undefined);
    await lab.cleanup();
  });

  it("answers for the pool address on the elected node and serves it to an outside client", async () => {
    const claim = electedAddresses(services, [], nodes(), "node1");
    expect(claim).toEqual([poolIP]);
    expect(await announce(lab.node.exec, claim)).toEqual({ added: [poolIP], removed: [] });
    expect(await labelledLoAddresses(lab.node.exec, LB_LO_LABEL)).toEqual([poolIP]);
    expect(await httpGet(lab.client.exec, `http://${poolIP}:8088/`)).toBe("backend-one");
  });

  it("withdraws the address: unreachable again, other lo addresses untouched", async () => {
    expect(await announce(lab.node.exec, [])).toEqual({ added: [], removed: [poolIP] });
    await lab.client.exec("ip", ["neigh", "flush", "dev", "eth0"]);
    await expect(httpGet(lab.client.exec, `http://${poolIP}:8088/`, 2)).rejects.toThrow();
    const lo = (await lab.node.exec("ip", ["-json", "addr", "show", "dev", "lo"])).stdout;
    expect(lo).toContain('"local":"127.0.0.1"');
    expect(lo).not.toContain(poolIP);
  });
});
