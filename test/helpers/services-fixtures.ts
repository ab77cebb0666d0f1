/**
 * Builders for Services and EndpointSlices in their Kubernetes JSON shapes (lb and dns tests).
 */
import type { Service, ServiceSpec } from "kubernetes-types/core/v1";
import type { Endpoint, EndpointSlice } from "kubernetes-types/discovery/v1";

export function service(
  name: string,
  clusterIP: string,
  spec: Partial<ServiceSpec> = {},
  meta: { namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string> } = {},
): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name,
      namespace: meta.namespace ?? "default",
      ...(meta.annotations ? { annotations: meta.annotations } : {}),
      ...(meta.labels ? { labels: meta.labels } : {}),
    },
    spec: {
      type: "ClusterIP",
      clusterIP,
      ports: [{ name: "http", port: 80, protocol: "TCP", targetPort: "http" }],
      ...spec,
    },
  };
}

export interface Ep {
  ip: string;
  node?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
  hostname?: string;
}

export function slice(
  svc: string,
  eps: Ep[],
  ports: { name?: string; port: number; protocol?: string }[] = [{ name: "http", port: 8080 }],
  namespace = "default",
  suffix = "abcde",
): EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: `${svc}-${suffix}`, namespace, labels: { "kubernetes.io/service-name": svc } },
    addressType: "IPv4",
    ports: ports.map((p) => ({ protocol: "TCP", ...p })),
    endpoints: eps.map((e): Endpoint => {
      const conditions: Endpoint["conditions"] = {};
      if (e.ready !== undefined) conditions.ready = e.ready;
      if (e.serving !== undefined) conditions.serving = e.serving;
      if (e.terminating !== undefined) conditions.terminating = e.terminating;
      return {
        addresses: [e.ip],
        conditions,
        ...(e.node ? { nodeName: e.node } : {}),
        ...(e.hostname ? { hostname: e.hostname } : {}),
      };
    }),
  };
}
