/**
 * Service admission's ClusterIP and NodePort allocation over a store (MemoryBackend): reserved
 * addresses, upstream's 422 texts for taken or out-of-range ClusterIPs and node ports (the
 * first failure only, ClusterIP first), node ports as one table of numbers across protocols,
 * the TCP+UDP pair of one service sharing a node port, and ports kept across updates;
 * spec.healthCheckNodePort for LoadBalancers with externalTrafficPolicy Local (allocated from the
 * node port table, the user's honoured, kept, forbidden elsewhere, released on policy change and
 * delete).
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
  externalTrafficPolicy?: string;
  healthCheckNodePort?: number;
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

describe("ServiceAllocator: healthCheckNodePort", () => {
  const backends: MemoryBackend[] = [];
  afterEach(async () => {
    for (const b of backends.splice(0)) await b.stop();
  });

  /** a node port range of 3 ports by default, so "taken" and "released" are visible */
  async function setup(range: [number, number] = [30000, 30002]) {
    const backend = new MemoryBackend();
    backends.push(backend);
    await backend.start();
    const alloc = new ServiceAllocator(backend, {
      serviceCIDR: "10.43.0.0/16",
      nodePortRange: range,
      reserved: [],
    });
    const key = (o: KubeObject) => `/registry/core/services/default/${o.metadata.name}`;
    const put = async (o: KubeObject, old?: KubeObject) => {
      await alloc.admit(o, old);
      if (old) {
        const cur = await backend.get(key(o));
        await backend.update(key(o), JSON.stringify(o), cur?.revision ?? 0);
      } else await backend.create(key(o), JSON.stringify(o));
      return o;
    };
    const rejected = async (o: KubeObject, old?: KubeObject): Promise<string> => {
      const err = await alloc.admit(o, old).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).code).toBe(422);
      return (err as ApiError).message;
    };
    return { alloc, backend, key, put, rejected };
  }
  const local = (name: string, extra: Partial<Spec> = {}) =>
    svc(name, { type: "LoadBalancer", externalTrafficPolicy: "Local", ports: [{ port: 80 }], ...extra });

  it("allocates one beside the node ports for a Local LoadBalancer only", async () => {
    const { put } = await setup([30000, 30009]);
    const lb = specOf(await put(local("lb")));
    const hc = lb.healthCheckNodePort;
    expect(hc).toBeGreaterThanOrEqual(30000);
    expect(hc).toBeLessThanOrEqual(30009);
    expect(hc).not.toBe(lb.ports[0]?.nodePort);
    for (const spec of [
      { type: "LoadBalancer", externalTrafficPolicy: "Cluster", ports: [{ port: 81 }] },
      { type: "NodePort", externalTrafficPolicy: "Local", ports: [{ port: 82 }] },
      { type: "ClusterIP", ports: [{ port: 83 }] },
    ]) {
      const other = await put(svc(`other-${spec.type}-${spec.externalTrafficPolicy}`, spec));
      expect(specOf(other).healthCheckNodePort).toBeUndefined();
    }
  });

  it("honours a requested port, and refuses a taken or out-of-range one in the nodePort texts", async () => {
    const { put, rejected } = await setup();
    expect(specOf(await put(local("a", { healthCheckNodePort: 30001 }))).healthCheckNodePort).toBe(30001);
    expect(await rejected(local("b", { healthCheckNodePort: 30001 }))).toBe(
      'Service "b" is invalid: spec.healthCheckNodePort: Invalid value: 30001: provided port is already allocated',
    );
    expect(await rejected(local("c", { healthCheckNodePort: 31000 }))).toBe(
      'Service "c" is invalid: spec.healthCheckNodePort: Invalid value: 31000: provided port is not in the valid range. The range of valid ports is 30000-30002',
    );
    // and a node port cannot take it either (one table)
    expect(await rejected(svc("np", { type: "NodePort", ports: [{ port: 80, nodePort: 30001 }] }))).toBe(
      'Service "np" is invalid: spec.ports[0].nodePort: Invalid value: 30001: provided port is already allocated',
    );
  });

  it("forbids it where it does not apply", async () => {
    const { rejected } = await setup();
    expect(
      await rejected(
        svc("x", {
          type: "LoadBalancer",
          externalTrafficPolicy: "Cluster",
          healthCheckNodePort: 30001,
          ports: [{ port: 80 }],
        }),
      ),
    ).toBe(
      "Service \"x\" is invalid: spec.healthCheckNodePort: Forbidden: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
    );
  });

  it("keeps it across updates (immutable), releases it on a policy change and on delete", async () => {
    const { backend, key, put, rejected } = await setup();
    const first = await put(local("lb"));
    const hc = specOf(first).healthCheckNodePort ?? 0;
    // an update that omits it keeps it
    const again = await put(
      local("lb", { ports: [{ port: 80, nodePort: specOf(first).ports[0]?.nodePort }] }),
      first,
    );
    expect(specOf(again).healthCheckNodePort).toBe(hc);
    const other = hc === 30002 ? 30000 : 30002;
    const moved = local("lb", { healthCheckNodePort: other });
    expect(await rejected(moved, again)).toContain(
      `spec.healthCheckNodePort: Invalid value: ${other}: field is immutable`,
    );
    // Local → Cluster with the old value still in the body (a PUT of the read object): dropped
    const cluster = svc("lb", {
      ...specOf(again),
      externalTrafficPolicy: "Cluster",
    });
    await put(cluster, again);
    expect(specOf(cluster).healthCheckNodePort).toBeUndefined();
    // the port is free again: the range has exactly the LB's node port and two more
    const taker = await put(local("taker", { healthCheckNodePort: hc }));
    expect(specOf(taker).healthCheckNodePort).toBe(hc);
    // delete releases it (the store is the table)
    await backend.delete(key(taker), (await backend.get(key(taker)))?.revision ?? 0);
    expect(specOf(await put(local("after", { healthCheckNodePort: hc }))).healthCheckNodePort).toBe(hc);
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
