/**
 * LoadBalancer controller against a recording fake client: klipper-style node addresses, port
 * collisions left pending with one Warning event, node pools by the k3s and edgekube labels,
 * NotReady nodes, address pools with MetalLB sharing, type changes, foreign classes, and the
 * `--lb-pool` parser.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { refs } from "../../../../src/client/client.js";
import {
  LoadBalancerController,
  parseAddressPool,
} from "../../../../src/hub/controllers/loadbalancer/index.js";
import type { AddressPool } from "../../../../src/lb/index.js";
import { FakeClient } from "../../../helpers/fake-client.js";
import { controllerDeps } from "../../../helpers/fake-controller-deps.js";

function node(name: string, ip: string, o: { ready?: boolean; labels?: Record<string, string> } = {}) {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: o.labels ?? {} },
    status: {
      addresses: [{ type: "InternalIP", address: ip }],
      conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True" }],
    },
  } as KubeObject;
}

function lbService(
  name: string,
  port: number,
  o: { created?: string; labels?: Record<string, string>; annotations?: Record<string, string> } = {},
) {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name,
      namespace: "ns1",
      labels: o.labels ?? {},
      annotations: o.annotations ?? {},
      creationTimestamp: o.created ?? "2024-01-01T00:00:00Z",
    },
    spec: { type: "LoadBalancer", selector: { app: name }, ports: [{ port, protocol: "TCP" }] },
  } as KubeObject;
}

const stops: (() => void)[] = [];
afterEach(() => {
  for (const s of stops.splice(0)) s();
});

async function setup(objs: { nodes?: KubeObject[]; services?: KubeObject[]; pools?: AddressPool[] }) {
  const client = new FakeClient();
  for (const n of objs.nodes ?? []) client.seed(refs.nodes, n);
  for (const s of objs.services ?? []) client.seed(refs.services, s);
  const c = new LoadBalancerController(
    controllerDeps(client, () => new Date("2024-01-01T00:00:00Z")),
    {
      pools: objs.pools ?? [],
    },
  );
  stops.push(() => c.stop());
  await c.start(new AbortController().signal);
  await c.idle();
  const ingress = (name: string) =>
    (
      client.objects(refs.services, "ns1").find((s) => s.metadata.name === name)?.status as
        | { loadBalancer?: { ingress?: { ip: string }[] } }
        | undefined
    )?.loadBalancer?.ingress?.map((i) => i.ip) ?? [];
  const events = (name: string) =>
    client
      .objects(refs.events, "ns1")
      .filter((e) => (e.involvedObject as { name: string }).name === name)
      .map((e) => `${e.type} ${e.reason}: ${e.message}`);
  return { client, c, ingress, events };
}

describe("LoadBalancerController, klipper mode", () => {
  it("lists every Ready node's address, and records UpdatedIngressIP once", async () => {
    const { c, ingress, events, client } = await setup({
      nodes: [node("n1", "192.0.2.11"), node("n2", "192.0.2.12"), node("n3", "192.0.2.13", { ready: false })],
      services: [lbService("web", 80)],
    });
    expect(ingress("web")).toEqual(["192.0.2.11", "192.0.2.12"]);
    expect(events("web")).toEqual([
      "Normal UpdatedIngressIP: LoadBalancer Ingress IP addresses updated: 192.0.2.11, 192.0.2.12",
    ]);
    const writes = client.verbs().filter((v) => v.startsWith("updateStatus")).length;
    await c.reconcile();
    expect(client.verbs().filter((v) => v.startsWith("updateStatus")).length).toBe(writes);
  });

  it("leaves a later service on a taken port pending with one Warning, and serves it once the port frees", async () => {
    const { c, client, ingress, events } = await setup({
      nodes: [node("n1", "192.0.2.11")],
      services: [
        lbService("first", 8080, { created: "2024-01-01T00:00:00Z" }),
        lbService("second", 8080, { created: "2024-01-01T00:00:05Z" }),
      ],
    });
    expect(ingress("first")).toEqual(["192.0.2.11"]);
    expect(ingress("second")).toEqual([]);
    const warn = events("second");
    expect(warn).toHaveLength(1);
    expect(warn[0]).toMatch(
      /^Warning PortUnavailable: port TCP\/8080 \(used by ns1\/first\) is already taken/,
    );
    await c.reconcile();
    await c.reconcile();
    expect(events("second")).toHaveLength(1);

    await client.delete(refs.services, "ns1", "first");
    await c.idle();
    expect(ingress("second")).toEqual(["192.0.2.11"]);
  });

  it("never moves a serving service's port to a newer one created in the same second", async () => {
    const { c, client, ingress } = await setup({
      nodes: [node("n1", "192.0.2.11")],
      services: [lbService("zeta", 80)],
    });
    expect(ingress("zeta")).toEqual(["192.0.2.11"]);
    // same creationTimestamp, and "alpha" sorts first by name
    await client.create(refs.services, "ns1", lbService("alpha", 80));
    await c.idle();
    expect(ingress("zeta")).toEqual(["192.0.2.11"]);
    expect(ingress("alpha")).toEqual([]);
  });

  it("uses only nodes labelled enablelb=true (edgekube or k3s spelling) once any node is", async () => {
    const { ingress } = await setup({
      nodes: [
        node("n1", "192.0.2.11"),
        node("n2", "192.0.2.12", { labels: { "svccontroller.edgekube.io/enablelb": "true" } }),
        node("n3", "192.0.2.13", { labels: { "svccontroller.k3s.cattle.io/enablelb": "true" } }),
      ],
      services: [lbService("web", 80)],
    });
    expect(ingress("web")).toEqual(["192.0.2.12", "192.0.2.13"]);
  });

  it("keeps a pooled service to its pool's nodes, and says so when the pool has none", async () => {
    const { ingress, events } = await setup({
      nodes: [
        node("n1", "192.0.2.11", { labels: { "svccontroller.edgekube.io/lbpool": "edge" } }),
        node("n2", "192.0.2.12"),
      ],
      services: [
        lbService("pooled", 80, { labels: { "svccontroller.edgekube.io/lbpool": "edge" } }),
        lbService("nowhere", 81, { labels: { "svccontroller.edgekube.io/lbpool": "dock" } }),
      ],
    });
    expect(ingress("pooled")).toEqual(["192.0.2.11"]);
    expect(ingress("nowhere")).toEqual([]);
    expect(events("nowhere")[0]).toMatch(/^Warning NoEligibleNodes: .*pool "dock".*label nodes/);
  });

  it("moves the ingress when a node turns NotReady, and takes it back when the type changes", async () => {
    const { c, client, ingress } = await setup({
      nodes: [node("n1", "192.0.2.11"), node("n2", "192.0.2.12")],
      services: [lbService("web", 80)],
    });
    await client.mutate(
      refs.nodes,
      undefined,
      "n2",
      (n) => ({
        ...n,
        status: { ...(n.status as object), conditions: [{ type: "Ready", status: "Unknown" }] },
      }),
      { status: true },
    );
    await c.idle();
    expect(ingress("web")).toEqual(["192.0.2.11"]);
    await client.mutate(refs.services, "ns1", "web", (s) => ({
      ...s,
      spec: { ...(s.spec as object), type: "ClusterIP" },
    }));
    await c.idle();
    expect(ingress("web")).toEqual([]);
  });

  it("leaves services with a loadBalancerClass to their implementation", async () => {
    const svc = lbService("foreign", 80);
    (svc.spec as Record<string, unknown>).loadBalancerClass = "example.com/other";
    const { ingress, client } = await setup({ nodes: [node("n1", "192.0.2.11")], services: [svc] });
    expect(ingress("foreign")).toEqual([]);
    expect(client.verbs().filter((v) => v.includes("foreign"))).toEqual([]);
  });
});

describe("LoadBalancerController, address-pool mode", () => {
  const pools = [{ name: "lan", addresses: ["192.0.2.240-192.0.2.241"] }];
  const shared = { "metallb.io/allow-shared-ip": "k1" };

  it("shares one address between services with the same key on different ports", async () => {
    const { ingress } = await setup({
      nodes: [node("n1", "192.0.2.11")],
      pools,
      services: [
        lbService("a", 80, { annotations: shared, created: "2024-01-01T00:00:01Z" }),
        lbService("b", 443, { annotations: shared, created: "2024-01-01T00:00:02Z" }),
        lbService("c", 80, { created: "2024-01-01T00:00:03Z" }),
      ],
    });
    expect(ingress("a")).toEqual(["192.0.2.240"]);
    expect(ingress("b")).toEqual(["192.0.2.240"]);
    expect(ingress("c")).toEqual(["192.0.2.241"]);
  });

  it("leaves a service pending with a Warning when the pools are used up", async () => {
    const { ingress, events } = await setup({
      nodes: [node("n1", "192.0.2.11")],
      pools,
      services: [
        lbService("a", 80, { created: "2024-01-01T00:00:01Z" }),
        lbService("b", 80, { created: "2024-01-01T00:00:02Z" }),
        lbService("c", 80, { created: "2024-01-01T00:00:03Z" }),
      ],
    });
    expect(ingress("c")).toEqual([]);
    expect(events("c")).toEqual([
      expect.stringMatching(/^Warning AllocationFailed: cannot give ns1\/c an address: no free address/),
    ]);
  });
});

describe("parseAddressPool (--lb-pool)", () => {
  it("accepts CIDRs and ranges", () => {
    expect(parseAddressPool("lan=192.0.2.240/28, 192.0.2.10-192.0.2.12")).toEqual({
      name: "lan",
      addresses: ["192.0.2.240/28", "192.0.2.10-192.0.2.12"],
    });
  });
  it.each([
    ["192.0.2.0/24", /expected NAME=/],
    ["lan=", /no addresses/],
    ["lan=192.0.2.9-192.0.2.1", /first address is above the last/],
    ["lan=300.1.1.1/24", /bad range "300.1.1.1\/24"/],
  ])("rejects %s", (text, why) => {
    expect(() => parseAddressPool(text)).toThrow(why);
  });
});

describe("LoadBalancerController without LoadBalancer services", () => {
  it("does not list the fleet's Nodes on a Node write", async () => {
    const plain = {
      ...lbService("plain", 80),
      spec: { type: "ClusterIP", ports: [{ port: 80 }] },
    } as KubeObject;
    const { c, client } = await setup({ nodes: [node("n1", "192.0.2.11")], services: [plain] });
    const list = vi.spyOn(c.nodes, "list");
    await client.updateStatus(refs.nodes, undefined, { ...node("n1", "192.0.2.11", { ready: false }) });
    await c.reconcile();
    await c.idle();
    expect(list).not.toHaveBeenCalled();
    await client.create(refs.services, "ns1", lbService("web", 80));
    await vi.waitFor(() => expect(list).toHaveBeenCalled());
  });
});
