/**
 * klipper-style LoadBalancer decisions (k3s servicelb semantics), pure helpers for the hub.
 *
 * Design notes
 * - Every eligible node answers on the service port at its own address, so
 *   status.loadBalancer.ingress lists those node addresses (ExternalIP when a node has one,
 *   InternalIP otherwise, as servicelb does).
 * - Eligible nodes: Ready and schedulable; if any node carries
 *   `svccontroller.k3s.cattle.io/enablelb=true`, only those; a service labelled
 *   `svccontroller.k3s.cattle.io/lbpool=X` uses only nodes with the same label value (node pools).
 * - Ports are claimed first come, first served (services already serving first, then
 *   creationTimestamp, then namespace/name — a new service never takes a serving one's port): klipper
 *   runs a hostPort pod per node, so a second service with the same protocol/port cannot run on
 *   a node where the first already holds it. A service left with no node is pending and the
 *   hub records an event with the text from `klipperAssign`.
 */
import type { Node, Service } from "kubernetes-types/core/v1";

export const ENABLE_LB_LABEL = "svccontroller.k3s.cattle.io/enablelb";
export const LB_POOL_LABEL = "svccontroller.k3s.cattle.io/lbpool";

export interface LbIngress {
  ip: string;
}

function isReady(n: Node): boolean {
  return (n.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

function nodeAddress(n: Node): string | undefined {
  const addrs = n.status?.addresses ?? [];
  return (addrs.find((a) => a.type === "ExternalIP") ?? addrs.find((a) => a.type === "InternalIP"))?.address;
}

/** Nodes that may serve `service`, in name order. */
export function eligibleNodes(service: Service, nodes: readonly Node[]): Node[] {
  const anyEnabled = nodes.some((n) => n.metadata?.labels?.[ENABLE_LB_LABEL] === "true");
  const pool = service.metadata?.labels?.[LB_POOL_LABEL];
  return nodes
    .filter((n) => isReady(n) && !n.spec?.unschedulable)
    .filter((n) => !anyEnabled || n.metadata?.labels?.[ENABLE_LB_LABEL] === "true")
    .filter((n) => pool === undefined || n.metadata?.labels?.[LB_POOL_LABEL] === pool)
    .sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
}

/** Ingress entries for `service` when no port collides: the addresses of its eligible nodes. */
export function klipperIngress(service: Service, nodes: readonly Node[]): LbIngress[] {
  const ips = new Set<string>();
  for (const n of eligibleNodes(service, nodes)) {
    const ip = nodeAddress(n);
    if (ip) ips.add(ip);
  }
  return [...ips].sort().map((ip) => ({ ip }));
}

export type KlipperDecision =
  | { key: string; state: "ready"; ingress: LbIngress[]; nodes: string[] }
  | { key: string; state: "pending"; reason: string; message: string };

const keyOf = (s: Service) => `${s.metadata?.namespace ?? "default"}/${s.metadata?.name ?? ""}`;
/** already has addresses: keeps its ports ahead of newer claimants (timestamps have 1 s resolution) */
const serving = (s: Service) => (s.status?.loadBalancer?.ingress ?? []).length > 0;
const portsOf = (s: Service) => (s.spec?.ports ?? []).map((p) => `${p.protocol ?? "TCP"}/${p.port}`);

/**
 * Decides every klipper-mode LoadBalancer service at once (ports are shared per node across
 * services, so decisions depend on each other). Services with a loadBalancerClass are not ours.
 */
export function klipperAssign(services: readonly Service[], nodes: readonly Node[]): KlipperDecision[] {
  const lbs = services
    .filter((s) => s.spec?.type === "LoadBalancer" && !s.spec.loadBalancerClass)
    .sort(
      (a, b) =>
        Number(!serving(a)) - Number(!serving(b)) ||
        (a.metadata?.creationTimestamp ?? "").localeCompare(b.metadata?.creationTimestamp ?? "") ||
        keyOf(a).localeCompare(keyOf(b)),
    );
  // node name → "TCP/80" → owning service
  const taken = new Map<string, Map<string, string>>();
  const out: KlipperDecision[] = [];
  for (const svc of lbs) {
    const key = keyOf(svc);
    const eligible = eligibleNodes(svc, nodes);
    const ports = portsOf(svc);
    if (eligible.length === 0) {
      out.push({
        key,
        state: "pending",
        reason: "NoEligibleNodes",
        message:
          `no Ready, schedulable node can serve LoadBalancer ${key}` +
          (svc.metadata?.labels?.[LB_POOL_LABEL]
            ? ` in pool "${svc.metadata.labels[LB_POOL_LABEL]}": label nodes ${LB_POOL_LABEL}=${svc.metadata.labels[LB_POOL_LABEL]}`
            : ": make a node Ready or label nodes svccontroller.k3s.cattle.io/enablelb=true"),
      });
      continue;
    }
    const free = eligible.filter((n) => ports.every((p) => !taken.get(n.metadata?.name ?? "")?.has(p)));
    if (free.length === 0) {
      const clashes = new Set<string>();
      for (const n of eligible) {
        for (const p of ports) {
          const owner = taken.get(n.metadata?.name ?? "")?.get(p);
          if (owner) clashes.add(`${p} (used by ${owner})`);
        }
      }
      out.push({
        key,
        state: "pending",
        reason: "PortUnavailable",
        message:
          `port ${[...clashes].sort().join(", ")} is already taken on every eligible node ` +
          `(${eligible.map((n) => n.metadata?.name).join(", ")}); ${key} stays pending: ` +
          "change its port, or add nodes to its pool",
      });
      continue;
    }
    for (const n of free) {
      const name = n.metadata?.name ?? "";
      const m = taken.get(name) ?? new Map<string, string>();
      for (const p of ports) m.set(p, key);
      taken.set(name, m);
    }
    out.push({
      key,
      state: "ready",
      ingress: klipperIngress(svc, free),
      nodes: free.map((n) => n.metadata?.name ?? ""),
    });
  }
  return out;
}
