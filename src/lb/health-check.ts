/**
 * Service health checks (kube-proxy's healthcheck/service_health.go): what a node answers on a
 * Service's `spec.healthCheckNodePort`, so an external load balancer sends traffic for an
 * externalTrafficPolicy Local Service only to nodes that have a ready endpoint of it.
 *
 * Design notes
 * - Pure: targets come from the same ServiceState the proxy programs (the agent's cache plus what
 *   it knows of its own pods), so the answer agrees with the rules and works with the hub down.
 * - Which Services: type LoadBalancer, externalTrafficPolicy Local and a healthCheckNodePort
 *   (the hub allocates one for exactly those). Others get no listener.
 * - localEndpoints counts this node's ready endpoints of the Service, one per address over all
 *   its ports, judged as the proxy judges them (localPodIPs hides a cached endpoint whose pod
 *   does not run here after an offline restart).
 * - The reply is kube-proxy's byte for byte: 200 when there is a local endpoint and the proxy is
 *   healthy, else 503; Content-Type application/json, X-Content-Type-Options nosniff, and the
 *   tab-indented JSON body without a trailing newline — load balancer health checkers and
 *   scripts written against kube-proxy see no difference.
 */
import { isReady, selectEndpoints, slicesByService } from "./endpoints.js";
import type { L4Protocol, ServiceState } from "./types.js";

export interface HealthCheckTarget {
  namespace: string;
  name: string;
  /** spec.healthCheckNodePort */
  port: number;
  /** ready endpoints of the Service on this node */
  localEndpoints: number;
}

export interface HealthCheckReply {
  status: 200 | 503;
  headers: Record<string, string>;
  body: string;
}

/** The Services this node must answer health checks for, by port (sorted by port). */
export function healthCheckTargets(state: ServiceState): HealthCheckTarget[] {
  const byService = slicesByService(state.endpointSlices);
  const out: HealthCheckTarget[] = [];
  for (const svc of state.services) {
    const spec = svc.spec;
    const port = spec?.healthCheckNodePort;
    if (spec?.type !== "LoadBalancer" || spec.externalTrafficPolicy !== "Local") continue;
    if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) continue;
    const namespace = svc.metadata?.namespace ?? "default";
    const name = svc.metadata?.name ?? "";
    // ready ones only (kube-proxy's LocalReadyEndpoints): a terminating endpoint the proxy
    // falls back to must not attract new traffic from the load balancer
    const slices = (byService.get(`${namespace}/${name}`) ?? []).map((s) => ({
      ...s,
      endpoints: (s.endpoints ?? []).filter(isReady),
    }));
    const local = new Set<string>();
    for (const p of spec.ports ?? []) {
      const protocol = (p.protocol ?? "TCP").toLowerCase() as L4Protocol;
      const sel = selectEndpoints(slices, {
        portName: p.name ?? "",
        protocol,
        nodeName: state.nodeName,
        ...(state.localPodIPs ? { localPodIPs: state.localPodIPs } : {}),
      });
      for (const e of sel.local) local.add(e.ip);
    }
    out.push({ namespace, name, port, localEndpoints: local.size });
  }
  return out.sort((a, b) => a.port - b.port);
}

/** kube-proxy's answer for one Service. */
export function healthCheckReply(
  t: Pick<HealthCheckTarget, "namespace" | "name" | "localEndpoints">,
  proxyHealthy: boolean,
): HealthCheckReply {
  const body = [
    "{",
    '\t"service": {',
    `\t\t"namespace": ${JSON.stringify(t.namespace)},`,
    `\t\t"name": ${JSON.stringify(t.name)}`,
    "\t},",
    `\t"localEndpoints": ${t.localEndpoints},`,
    `\t"serviceProxyHealthy": ${proxyHealthy}`,
    "}",
  ].join("\n");
  return {
    status: t.localEndpoints !== 0 && proxyHealthy ? 200 : 503,
    headers: { "Content-Type": "application/json", "X-Content-Type-Options": "nosniff" },
    body,
  };
}
