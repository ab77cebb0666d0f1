/**
 * Endpoints and EndpointSlice reconcilers against a recording fake client: readiness,
 * publishNotReadyAddresses, named ports, terminating pods, 100-per-slice chunking, selector-less
 * services left alone, idempotence, and the `kubernetes` service.
 */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { refs } from "../../../../src/client/client.js";
import {
  EndpointSliceController,
  EndpointsController,
  KubernetesServiceController,
  planSlices,
} from "../../../../src/hub/controllers/endpoints/index.js";
import { FakeClient } from "../../../helpers/fake-client.js";
import { controllerDeps } from "../../../helpers/fake-controller-deps.js";

const deps = (client: FakeClient) => controllerDeps(client, () => new Date("2024-01-01T00:00:00Z"));

function svc(name: string, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: "ns1", labels: { team: "a" } },
    spec: {
      selector: { app: name },
      ports: [{ name: "http", port: 80, protocol: "TCP", targetPort: "web" }],
      ...extra,
    },
  };
}

function pod(
  name: string,
  app: string,
  ip: string,
  o: { ready?: boolean; deleting?: boolean; port?: number } = {},
): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "ns1",
      labels: { app },
      ...(o.deleting ? { deletionTimestamp: "2024-01-01T00:00:00Z" } : {}),
    },
    spec: {
      nodeName: "n1",
      containers: [{ name: "c", image: "i", ports: [{ name: "web", containerPort: o.port ?? 8080 }] }],
    },
    status: {
      phase: "Running",
      podIP: ip,
      conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True" }],
    },
  };
}

describe("EndpointsController", () => {
  it("puts ready pods in addresses, unready in notReadyAddresses, resolving named ports", async () => {
    const c = new FakeClient();
    c.seed(refs.services, svc("web"));
    c.seed(refs.pods, pod("a", "web", "10.42.0.5"));
    c.seed(refs.pods, pod("b", "web", "10.42.0.3", { ready: false }));
    c.seed(refs.pods, pod("gone", "web", "10.42.0.9", { deleting: true }));
    c.seed(refs.pods, pod("other", "db", "10.42.0.4"));
    const ctl = new EndpointsController(deps(c));
    await ctl.startInformers();
    await ctl.reconcile("ns1/web");
    expect(c.verbs()).toEqual(["create endpoints ns1/web"]);
    const ep = (await c.get(refs.endpoints, "ns1", "web"))!;
    expect(ep.metadata.labels).toEqual({ team: "a" });
    expect(ep.subsets).toEqual([
      {
        addresses: [
          {
            ip: "10.42.0.5",
            nodeName: "n1",
            targetRef: { kind: "Pod", namespace: "ns1", name: "a", uid: "uid-a" },
          },
        ],
        notReadyAddresses: [
          {
            ip: "10.42.0.3",
            nodeName: "n1",
            targetRef: { kind: "Pod", namespace: "ns1", name: "b", uid: "uid-b" },
          },
        ],
        ports: [{ name: "http", port: 8080, protocol: "TCP" }],
      },
    ]);
    // idempotent: a second pass writes nothing
    await ctl.reconcile("ns1/web");
    expect(c.actions).toHaveLength(1);
    ctl.stop();
  });

  it("publishNotReadyAddresses lists every pod as ready, terminating ones too", async () => {
    const c = new FakeClient();
    c.seed(refs.services, svc("web", { publishNotReadyAddresses: true }));
    c.seed(refs.pods, pod("a", "web", "10.42.0.5", { ready: false }));
    c.seed(refs.pods, pod("b", "web", "10.42.0.6", { deleting: true }));
    const ctl = new EndpointsController(deps(c));
    await ctl.startInformers();
    await ctl.reconcile("ns1/web");
    const ep = (await c.get(refs.endpoints, "ns1", "web"))!;
    const subsets = ep.subsets as { addresses: { ip: string }[]; notReadyAddresses?: unknown }[];
    expect(subsets[0]!.addresses.map((a) => a.ip)).toEqual(["10.42.0.5", "10.42.0.6"]);
    expect(subsets[0]!.notReadyAddresses).toBeUndefined();
    ctl.stop();
  });

  it("updates when a pod turns unready, leaves selector-less services alone, deletes with the service", async () => {
    const c = new FakeClient();
    c.seed(refs.services, svc("web"));
    c.seed(refs.services, { ...svc("manual"), spec: { ports: [{ port: 80 }] } });
    c.seed(refs.pods, pod("a", "web", "10.42.0.5"));
    const ctl = new EndpointsController(deps(c));
    await ctl.startInformers();
    await ctl.reconcile("ns1/web");
    await ctl.reconcile("ns1/manual");
    expect(c.verbs()).toEqual(["create endpoints ns1/web"]);
    await c.mutate(
      refs.pods,
      "ns1",
      "a",
      (p) => ({ ...p, status: { ...(p.status as object), conditions: [] } }),
      {
        status: true,
      },
    );
    await ctl.reconcile("ns1/web");
    const ep = (await c.get(refs.endpoints, "ns1", "web"))!;
    expect((ep.subsets as { notReadyAddresses: { ip: string }[] }[])[0]!.notReadyAddresses[0]!.ip).toBe(
      "10.42.0.5",
    );
    await c.delete(refs.services, "ns1", "web");
    await ctl.reconcile("ns1/web");
    expect(await c.get(refs.endpoints, "ns1", "web")).toBeUndefined();
    ctl.stop();
  });

  it("skips pods whose containers do not declare the named target port", async () => {
    const c = new FakeClient();
    c.seed(refs.services, svc("web"));
    const p = pod("a", "web", "10.42.0.5");
    (p.spec as { containers: { ports: unknown[] }[] }).containers[0]!.ports = [];
    c.seed(refs.pods, p);
    const ctl = new EndpointsController(deps(c));
    await ctl.startInformers();
    await ctl.reconcile("ns1/web");
    expect((await c.get(refs.endpoints, "ns1", "web"))!.subsets).toBeUndefined();
    ctl.stop();
  });
});

describe("EndpointSliceController", () => {
  it("creates a managed slice with conditions, ports and owner, and is idempotent", async () => {
    const c = new FakeClient();
    c.seed(refs.services, svc("web"));
    c.seed(refs.pods, pod("a", "web", "10.42.0.5"));
    c.seed(refs.pods, pod("b", "web", "10.42.0.6", { deleting: true }));
    const ctl = new EndpointSliceController(deps(c));
    await ctl.startInformers();
    await ctl.reconcile("ns1/web");
    expect(c.verbs()).toEqual(["create endpointslices ns1/web-1"]);
    const s = c.objects(refs.endpointslices)[0]!;
    expect(s.metadata.generateName).toBe("web-");
    expect(s.metadata.labels).toEqual({
      team: "a",
      "kubernetes.io/service-name": "web",
      "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
    });
    expect(s.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Service", name: "web", controller: true });
    expect(s.addressType).toBe("IPv4");
    expect(s.ports).toEqual([{ name: "http", port: 8080, protocol: "TCP" }]);
    expect(s.endpoints).toEqual([
      {
        addresses: ["10.42.0.5"],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: "n1",
        targetRef: { kind: "Pod", namespace: "ns1", name: "a", uid: "uid-a" },
      },
      {
        addresses: ["10.42.0.6"],
        conditions: { ready: false, serving: true, terminating: true },
        nodeName: "n1",
        targetRef: { kind: "Pod", namespace: "ns1", name: "b", uid: "uid-b" },
      },
    ]);
    await ctl.reconcile("ns1/web");
    expect(c.actions).toHaveLength(1);
    ctl.stop();
  });

  it("splits 250 endpoints into slices of at most 100 and shrinks back to a placeholder", async () => {
    const c = new FakeClient();
    c.seed(refs.services, svc("big"));
    for (let i = 0; i < 250; i++)
      c.seed(refs.pods, pod(`p${i}`, "big", `10.42.${Math.floor(i / 200)}.${i % 200}`));
    const ctl = new EndpointSliceController(deps(c));
    await ctl.startInformers();
    await ctl.reconcile("ns1/big");
    const sizes = c.objects(refs.endpointslices).map((s) => (s.endpoints as unknown[]).length);
    expect(sizes.sort()).toEqual([100, 100, 50]);
    for (let i = 0; i < 250; i++) await c.delete(refs.pods, "ns1", `p${i}`);
    await ctl.reconcile("ns1/big");
    const left = c.objects(refs.endpointslices);
    expect(left).toHaveLength(1);
    expect(left[0]!.endpoints).toEqual([]);
    expect(left[0]!.ports).toBeUndefined();
    ctl.stop();
  });

  it("leaves selector-less services and foreign slices alone; deletes its slices with the service", async () => {
    const c = new FakeClient();
    c.seed(refs.services, { ...svc("manual"), spec: { ports: [{ port: 80 }] } });
    c.seed(refs.endpointslices, {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: "manual-x", namespace: "ns1", labels: { "kubernetes.io/service-name": "manual" } },
      addressType: "IPv4",
      endpoints: [],
    });
    c.seed(refs.services, svc("web"));
    const ctl = new EndpointSliceController(deps(c));
    await ctl.startInformers();
    await ctl.reconcile("ns1/manual");
    expect(c.actions).toHaveLength(0);
    await ctl.reconcile("ns1/web");
    await c.delete(refs.services, "ns1", "web");
    await ctl.reconcile("ns1/web");
    expect(c.verbs()).toEqual([
      "create endpointslices ns1/web-1",
      "delete services ns1/web",
      "delete endpointslices ns1/web-1",
    ]);
    ctl.stop();
  });

  it("groups pods whose named port resolves differently into separate slices", () => {
    const s = { ...svc("web"), metadata: { ...svc("web").metadata, uid: "u" } };
    const plan = planSlices(
      s,
      [pod("a", "web", "10.42.0.1", { port: 80 }), pod("b", "web", "10.42.0.2", { port: 81 })],
      [],
    );
    expect(plan.create.map((x) => (x.ports as { port: number }[])[0]!.port).sort()).toEqual([80, 81]);
  });
});

describe("KubernetesServiceController", () => {
  it("creates the service, endpoints and slice pointing at the hub, and repairs the port", async () => {
    const c = new FakeClient();
    const ctl = new KubernetesServiceController(deps(c), { address: "198.51.100.1", port: 6443 });
    await ctl.reconcile();
    const s = (await c.get(refs.services, "default", "kubernetes"))!;
    expect(s.spec).toMatchObject({
      clusterIP: "10.43.0.1",
      ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: 6443 }],
    });
    expect(s.spec).not.toHaveProperty("selector");
    const ep = (await c.get(refs.endpoints, "default", "kubernetes"))!;
    expect(ep.subsets).toEqual([
      { addresses: [{ ip: "198.51.100.1" }], ports: [{ name: "https", port: 6443, protocol: "TCP" }] },
    ]);
    const sl = (await c.get(refs.endpointslices, "default", "kubernetes"))!;
    expect(sl.metadata.labels).toEqual({ "kubernetes.io/service-name": "kubernetes" });
    await ctl.reconcile();
    expect(c.actions).toHaveLength(3);
    const moved = new KubernetesServiceController(deps(c), { address: "198.51.100.1", port: 7443 });
    await moved.reconcile();
    expect(c.verbs().slice(3)).toEqual([
      "update services default/kubernetes",
      "update endpoints default/kubernetes",
      "update endpointslices default/kubernetes",
    ]);
  });
});
