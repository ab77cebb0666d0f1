/**
 * Service admission's ClusterIP and NodePort allocation over a store (MemoryBackend): reserved
 * addresses, upstream's 422 texts for taken or out-of-range ClusterIPs and node ports (the
 * first failure only, ClusterIP first), node ports as one table of numbers across protocols,
 * the TCP+UDP pair of one service sharing a node port, and ports kept across updates.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ApiError } from "../../../../src/api/errors.js";
import type { KubeObject } from "../../../../src/api/object.js";
import {
  ServiceAllocator,
  wellKnownServiceIPs,
} from "../../../../src/hub/apiserver/admission/service-allocator.js";
import { MemoryBackend } from "../../../../src/hub/store/memory-backend.js";

type Port = { name?: string; port: number; protocol?: string; nodePort?: number };
interface Spec {
  type?: string;
  allocateLoadBalancerNodePorts?: boolean;
  clusterIP?: string;
  clusterIPs?: string[];
  ports: Port[];
}

function svc(name: string, spec: Spec): KubeObject {
  return { apiVersion: "v1", kind: "Service", metadata: { name, namespace: "default" }, spec };
}
const specOf = (o: KubeObject) => o.spec as unknown as Spec;

describe("ServiceAllocator", () => {
  const backends: MemoryBackend[] = [];
  afterEach(async () => {
    for (const b of backends.splice(0)) await b.stop();
  });

  async function setup(serviceCIDR = "10.43.0.0/16") {
    const backend = new MemoryBackend();
    backends.push(backend);
    await backend.start();
    const alloc = new ServiceAllocator(backend, {
      serviceCIDR,
      nodePortRange: [30000, 32767],
      reserved: ["10.43.0.1", "10.43.0.10"],
    });
    /** admits like the API server, then stores (so later admissions see it) */
    const create = async (o: KubeObject) => {
      await alloc.admit(o, undefined);
      await backend.create(`/registry/core/services/default/${o.metadata.name}`, JSON.stringify(o));
      return o;
    };
    const reject = async (o: KubeObject): Promise<ApiError> => {
      const err = await alloc.admit(o, undefined).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ApiError);
      return err as ApiError;
    };
    return { alloc, backend, create, reject };
  }

  it("never hands out 10.43.0.1 or 10.43.0.10 unasked, but gives them when asked for by address", async () => {
    // a /28 leaves 14 usable addresses; 2 are reserved, so 12 services fill it
    const { create, reject } = await setup("10.43.0.0/28");
    const got = new Set<string>();
    for (let i = 0; i < 12; i++)
      got.add(specOf(await create(svc(`s${i}`, { ports: [{ port: 80 }] }))).clusterIP!);
    expect(got.size).toBe(12);
    expect(got.has("10.43.0.1")).toBe(false);
    expect(got.has("10.43.0.10")).toBe(false);
    const full = await reject(svc("s12", { ports: [{ port: 80 }] }));
    expect(full.code).toBe(500);
    expect(full.message).toBe("Internal error occurred: failed to allocate a serviceIP: range is full");
    const dns = await create(svc("kube-dns", { clusterIP: "10.43.0.10", ports: [{ port: 53 }] }));
    expect(specOf(dns).clusterIPs).toEqual(["10.43.0.10"]);
  });

  it("refuses a taken or out-of-range ClusterIP in upstream's words", async () => {
    const { create, reject } = await setup();
    await create(svc("a", { clusterIP: "10.43.0.5", ports: [{ port: 80 }] }));
    const taken = await reject(svc("b", { clusterIP: "10.43.0.5", ports: [{ port: 80 }] }));
    expect(taken.code).toBe(422);
    expect(taken.message).toBe(
      'Service "b" is invalid: spec.clusterIPs: Invalid value: []string{"10.43.0.5"}: failed to allocate IP 10.43.0.5: provided IP is already allocated',
    );
    expect(taken.details?.causes).toEqual([
      {
        reason: "FieldValueInvalid",
        field: "spec.clusterIPs",
        message:
          'Invalid value: []string{"10.43.0.5"}: failed to allocate IP 10.43.0.5: provided IP is already allocated',
      },
    ]);
    const range = await reject(svc("c", { clusterIP: "10.99.0.5", ports: [{ port: 80 }] }));
    expect(range.message).toBe(
      'Service "c" is invalid: spec.clusterIPs: Invalid value: []string{"10.99.0.5"}: failed to allocate IP 10.99.0.5: the provided IP (10.99.0.5) is not in the valid range. The range of valid IPs is 10.43.0.0/16',
    );
  });

  it("refuses a taken or out-of-range node port in upstream's words, the first failure only", async () => {
    const { create, reject } = await setup();
    await create(svc("np1", { type: "NodePort", ports: [{ port: 80, nodePort: 30080 }] }));
    const taken = await reject(
      svc("np2", {
        type: "NodePort",
        ports: [
          { name: "a", port: 80, nodePort: 30081 },
          { name: "b", port: 81, nodePort: 30080 },
          { name: "c", port: 82, nodePort: 40000 },
        ],
      }),
    );
    expect(taken.message).toBe(
      'Service "np2" is invalid: spec.ports[1].nodePort: Invalid value: 30080: provided port is already allocated',
    );
    const range = await reject(svc("np3", { type: "NodePort", ports: [{ port: 80, nodePort: 29999 }] }));
    expect(range.message).toBe(
      'Service "np3" is invalid: spec.ports[0].nodePort: Invalid value: 29999: provided port is not in the valid range. The range of valid ports is 30000-32767',
    );
  });

  it("treats node ports as numbers whatever the protocol, but lets one service's TCP+UDP pair share one", async () => {
    const { create, reject } = await setup();
    await create(svc("tcp", { type: "NodePort", ports: [{ port: 53, protocol: "TCP", nodePort: 30053 }] }));
    const udp = await reject(
      svc("udp", { type: "NodePort", ports: [{ port: 53, protocol: "UDP", nodePort: 30053 }] }),
    );
    expect(udp.message).toContain(
      "spec.ports[0].nodePort: Invalid value: 30053: provided port is already allocated",
    );
    const dns = await create(
      svc("dns", {
        type: "NodePort",
        ports: [
          { name: "dns", port: 54, protocol: "UDP", nodePort: 30054 },
          { name: "dns-tcp", port: 54, protocol: "TCP" },
        ],
      }),
    );
    expect(specOf(dns).ports.map((p) => p.nodePort)).toEqual([30054, 30054]);
    // the same node port on two different service ports is a collision inside one service
    const twice = await reject(
      svc("twice", {
        type: "NodePort",
        ports: [
          { name: "a", port: 80, nodePort: 31000 },
          { name: "b", port: 81, protocol: "UDP", nodePort: 31000 },
        ],
      }),
    );
    expect(twice.message).toContain(
      "spec.ports[1].nodePort: Invalid value: 31000: provided port is already allocated",
    );
  });

  it("gives a LoadBalancer with allocateLoadBalancerNodePorts=false only the node ports it asks for", async () => {
    const { create } = await setup();
    const lb = await create(
      svc("lb", {
        type: "LoadBalancer",
        allocateLoadBalancerNodePorts: false,
        ports: [
          { name: "a", port: 80 },
          { name: "b", port: 81, nodePort: 30081 },
        ],
      }),
    );
    expect(specOf(lb).ports.map((p) => p.nodePort)).toEqual([undefined, 30081]);
  });

  it("keeps a service's ClusterIP and node ports on update, drops node ports when it becomes ClusterIP", async () => {
    const { alloc, create } = await setup();
    const first = await create(svc("web", { type: "LoadBalancer", ports: [{ name: "http", port: 80 }] }));
    const { clusterIP } = specOf(first);
    const nodePort = specOf(first).ports[0]?.nodePort;
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    expect(nodePort).toBeLessThanOrEqual(32767);
    // an apply that omits nodePort and clusterIP keeps both, and is not "already allocated"
    const next = svc("web", { type: "LoadBalancer", ports: [{ name: "http", port: 80 }] });
    await alloc.admit(next, first);
    expect(specOf(next).clusterIP).toBe(clusterIP);
    expect(specOf(next).ports[0]?.nodePort).toBe(nodePort);
    const same = svc("web", { type: "NodePort", ports: [{ name: "http", port: 80, nodePort }] });
    await alloc.admit(same, first);
    expect(specOf(same).ports[0]?.nodePort).toBe(nodePort);
    const plain = svc("web", { type: "ClusterIP", ports: [{ name: "http", port: 80, nodePort }] });
    await alloc.admit(plain, first);
    expect(specOf(plain).ports[0]?.nodePort).toBeUndefined();
  });
});

describe("wellKnownServiceIPs", () => {
  it("takes the first and the tenth address of the service CIDR", () => {
    expect(wellKnownServiceIPs("10.43.0.0/16")).toEqual({ kubernetes: "10.43.0.1", dns: "10.43.0.10" });
    expect(wellKnownServiceIPs("10.96.0.0/12")).toEqual({ kubernetes: "10.96.0.1", dns: "10.96.0.10" });
    expect(wellKnownServiceIPs("192.0.2.16/28")).toEqual({ kubernetes: "192.0.2.17", dns: "192.0.2.26" });
    expect(() => wellKnownServiceIPs("192.0.2.16/29")).toThrow(/too small: use a \/28 or larger/);
  });
});
