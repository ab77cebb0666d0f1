/**
 * Query-name parsing for the cluster DNS schema (the Kubernetes DNS spec, as CoreDNS serves it).
 *
 * Design notes
 * - Names are case-insensitive and may end with a dot; both are normalised away first.
 * - Inside the cluster domain (default cluster.local):
 *     <svc>.<ns>.svc.<zone>                    service (A: ClusterIP or endpoints if headless)
 *     <host>.<svc>.<ns>.svc.<zone>             endpoint by hostname or dashed IP (StatefulSets)
 *     _<port>._<proto>.<svc>.<ns>.svc.<zone>   SRV for one named port
 *     <a-b-c-d>.<ns>.pod.<zone>                pod A record (CoreDNS "pods insecure")
 *     <ns>.svc.<zone>, svc.<zone>, <zone>      existing names without records (NOERROR, empty)
 *   anything else under the zone is NXDOMAIN, which is what makes search paths cheap: with
 *   ndots:5, `example.com` is first tried as `example.com.<ns>.svc.cluster.local` and must fail
 *   fast, locally, without an upstream round trip.
 * - `d.c.b.a.in-addr.arpa` is a PTR lookup of a.b.c.d.
 */

export type ClusterName =
  | { kind: "outside"; name: string }
  | { kind: "apex"; name: string }
  | { kind: "namespace"; name: string; namespace: string }
  | { kind: "service"; name: string; service: string; namespace: string }
  | { kind: "endpoint"; name: string; host: string; service: string; namespace: string }
  | { kind: "srv"; name: string; port: string; protocol: string; service: string; namespace: string }
  | { kind: "pod"; name: string; ip: string; namespace: string }
  | { kind: "reverse"; name: string; ip: string }
  | { kind: "invalid"; name: string };

export function normalizeName(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith(".") ? n.slice(0, -1) : n;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** "10-42-1-5" → "10.42.1.5", or undefined when it is not a dashed IPv4 address. */
export function undashIp(label: string): string | undefined {
  const parts = label.split("-");
  return parts.length === 4 && parts.every((p) => OCTET.test(p)) ? parts.join(".") : undefined;
}

export function dashIp(ip: string): string {
  return ip.replaceAll(".", "-");
}

/** "10.43.0.10" → "10.0.43.10.in-addr.arpa" */
export function reverseName(ip: string): string {
  return `${ip.split(".").reverse().join(".")}.in-addr.arpa`;
}

export function parseName(raw: string, zone = "cluster.local"): ClusterName {
  const name = normalizeName(raw);
  if (name.endsWith(".in-addr.arpa")) {
    const octets = name.slice(0, -".in-addr.arpa".length).split(".");
    if (octets.length === 4 && octets.every((o) => OCTET.test(o))) {
      return { kind: "reverse", name, ip: octets.reverse().join(".") };
    }
    return { kind: "outside", name };
  }
  if (name === zone) return { kind: "apex", name };
  if (!name.endsWith(`.${zone}`)) return { kind: "outside", name };
  const labels = name.slice(0, -(zone.length + 1)).split(".");
  const last = labels[labels.length - 1];
  if (last === "svc") {
    const rest = labels.slice(0, -1).reverse(); // [ns, svc, host|_proto, _port]
    const [namespace, service, third, fourth] = rest;
    if (rest.length === 0) return { kind: "apex", name };
    if (rest.length === 1 && namespace) return { kind: "namespace", name, namespace };
    if (rest.length === 2 && namespace && service) return { kind: "service", name, service, namespace };
    if (rest.length === 3 && namespace && service && third) {
      return { kind: "endpoint", name, host: third, service, namespace };
    }
    if (rest.length === 4 && namespace && service && third?.startsWith("_") && fourth?.startsWith("_")) {
      return { kind: "srv", name, port: fourth.slice(1), protocol: third.slice(1), service, namespace };
    }
    return { kind: "invalid", name };
  }
  if (last === "pod" && labels.length === 3) {
    const ip = undashIp(labels[0] ?? "");
    const namespace = labels[1];
    if (ip && namespace) return { kind: "pod", name, ip, namespace };
  }
  return { kind: "invalid", name };
}
