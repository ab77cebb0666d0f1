/**
 * Service health checks (kube-proxy's healthCheckNodePort answer): which Services get one, how
 * local endpoints are counted (ready, on this node, hidden when the pod does not run here), and
 * the reply byte for byte as kube-proxy's service_health.go writes it.
 */
import type { Service } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import { describe, expect, it } from "vitest";
import { healthCheckReply, healthCheckTargets } from "../../src/lb/health-check.js";
import type { ServiceState } from "../../src/lb/types.js";
import { service, slice } from "../helpers/services-fixtures.js";

function state(
  services: Service[],
  slices: EndpointSlice[],
  extra: Partial<ServiceState> = {},
): ServiceState {
  return {
    services,
    endpointSlices: slices,
    nodeName: "n1",
    nodeIPs: ["198.51.100.2"],
    clusterCIDR: "10.42.0.0/16",
    ...extra,
  };
}
const localLb = (name: string, hc: number | undefined, extra: object = {}) =>
  service(name, "10.43.0.20", {
    type: "LoadBalancer",
    externalTrafficPolicy: "Local",
    ...(hc !== undefined ? { healthCheckNodePort: hc } : {}),
    ...extra,
  });

describe("healthCheckTargets", () => {
  it("serves only LoadBalancers with externalTrafficPolicy Local and a port, sorted by port", () => {
    const t = healthCheckTargets(
      state(
        [
          localLb("b", 31002),
          localLb("a", 31001),
          localLb("no-port", undefined),
          service("cluster-lb", "10.43.0.21", {
            type: "LoadBalancer",
            externalTrafficPolicy: "Cluster",
            healthCheckNodePort: 31003,
          }),
          service("np", "10.43.0.22", {
            type: "NodePort",
            externalTrafficPolicy: "Local",
            healthCheckNodePort: 31004,
          }),
        ],
        [],
      ),
    );
    expect(t.map((x) => `${x.name}:${x.port}:${x.localEndpoints}`)).toEqual(["a:31001:0", "b:31002:0"]);
  });

  it("counts this node's ready endpoints once per address, over every port", () => {
    const svc = localLb("web", 31000, {
      ports: [
        { name: "http", port: 80, protocol: "TCP" },
        { name: "dns", port: 53, protocol: "UDP" },
      ],
    });
    const eps = [
      { ip: "10.42.1.5", node: "n1" },
      { ip: "10.42.1.6", node: "n1" },
      { ip: "10.42.1.7", node: "n1", ready: false },
      // terminating but serving: the proxy falls back to it, the health check does not count it
      { ip: "10.42.1.8", node: "n1", ready: false, serving: true, terminating: true },
      { ip: "10.42.2.9", node: "n2" },
    ];
    const slices = [
      slice("web", eps, [
        { name: "http", port: 8080 },
        { name: "dns", port: 5353, protocol: "UDP" },
      ]),
    ];
    expect(healthCheckTargets(state([svc], slices))[0]?.localEndpoints).toBe(2);
    // after an offline restart: only 10.42.1.6 is seen running here, 10.42.1.5 is stale
    const seen = healthCheckTargets(state([svc], slices, { localPodIPs: new Set(["10.42.1.6"]) }));
    expect(seen[0]?.localEndpoints).toBe(1);
    // only the terminating one left locally: 0, though the proxy would still use it
    const draining = [slice("web", [eps[3]!, eps[4]!])];
    expect(healthCheckTargets(state([svc], draining))[0]?.localEndpoints).toBe(0);
  });
});

describe("healthCheckReply", () => {
  it("is kube-proxy's: 200 with local endpoints, JSON headers, tab-indented body without a newline", () => {
    const r = healthCheckReply({ namespace: "default", name: "web", localEndpoints: 2 }, true);
    expect(r.status).toBe(200);
    expect(r.headers).toEqual({ "Content-Type": "application/json", "X-Content-Type-Options": "nosniff" });
    expect(r.body).toBe(
      '{\n\t"service": {\n\t\t"namespace": "default",\n\t\t"name": "web"\n\t},\n\t"localEndpoints": 2,\n\t"serviceProxyHealthy": true\n}',
    );
    expect(JSON.parse(r.body)).toEqual({
      service: { namespace: "default", name: "web" },
      localEndpoints: 2,
      serviceProxyHealthy: true,
    });
  });

  it("is 503 without a local endpoint, and while the proxy is unhealthy", () => {
    expect(healthCheckReply({ namespace: "n", name: "s", localEndpoints: 0 }, true).status).toBe(503);
    const sick = healthCheckReply({ namespace: "n", name: "s", localEndpoints: 3 }, false);
    expect(sick.status).toBe(503);
    expect(JSON.parse(sick.body)).toMatchObject({ localEndpoints: 3, serviceProxyHealthy: false });
  });
});
