/**
 * answerQuestion: the cluster DNS answer for one question, from a ClusterIndex. Pure.
 *
 * Design notes (CoreDNS's kubernetes plugin is the reference)
 * - A: ClusterIP; headless → every served endpoint; no served endpoint on a headless service →
 *   NXDOMAIN. AAAA and other types on an existing name → NOERROR with no answers (clients then
 *   use the A record instead of failing), with the zone SOA in the authority section so the
 *   negative answer is cacheable.
 * - SRV `_port._proto.svc.ns.svc.zone`: ClusterIP service → one record targeting the service
 *   name; headless → one per endpoint targeting `<host>.svc.ns.svc.zone`; A records of the
 *   targets go in the additional section. SRV on the service name itself lists every port.
 * - ExternalName → CNAME; the server chases the target (forwarding it if it is outside).
 * - PTR: service IPs, headless endpoint IPs, pod IPs. Unknown addresses inside the cluster's
 *   reverse ranges are NXDOMAIN; other reverse names go upstream.
 */
import { ipToNumber, parseSubnet } from "../cni/subnet.js";
import type { ClusterIndex, IndexedService } from "./cluster-index.js";
import { type ClusterName, parseName } from "./names.js";

export type RecordType =
  | "A"
  | "AAAA"
  | "CNAME"
  | "PTR"
  | "SRV"
  | "SOA"
  | "TXT"
  | "MX"
  | "NS"
  | "ANY"
  | "OTHER";

export type DnsRecord =
  | { type: "A"; name: string; ttl: number; address: string }
  | { type: "CNAME" | "PTR"; name: string; ttl: number; domain: string }
  | { type: "SRV"; name: string; ttl: number; priority: number; weight: number; port: number; target: string }
  | {
      type: "SOA";
      name: string;
      ttl: number;
      primary: string;
      admin: string;
      serial: number;
      refresh: number;
      retry: number;
      expiration: number;
      minimum: number;
    };

export type Answer =
  | {
      kind: "local";
      rcode: "NOERROR" | "NXDOMAIN";
      answers: DnsRecord[];
      authority: DnsRecord[];
      additionals: DnsRecord[];
    }
  /** ExternalName: the CNAME, and the target still to resolve */
  | { kind: "cname"; record: DnsRecord; target: string }
  | { kind: "forward" };

export interface AnswerOptions {
  zone: string;
  ttl: number;
  /** reverse lookups inside these CIDRs are ours (NXDOMAIN when unknown): pod and service ranges */
  reverseCIDRs: readonly string[];
}

function soa(zone: string, ttl: number): DnsRecord {
  return {
    type: "SOA",
    name: zone,
    ttl,
    primary: `ns.dns.${zone}`,
    admin: `hostmaster.${zone}`,
    serial: 1,
    refresh: 7200,
    retry: 1800,
    expiration: 86400,
    minimum: ttl,
  };
}

function result(
  o: AnswerOptions,
  rcode: "NOERROR" | "NXDOMAIN",
  answers: DnsRecord[] = [],
  additionals: DnsRecord[] = [],
): Answer {
  const authority = answers.length === 0 ? [soa(o.zone, o.ttl)] : [];
  return { kind: "local", rcode, answers, authority, additionals };
}

function srvRecords(s: IndexedService, qname: string, o: AnswerOptions, portName?: string, proto?: string) {
  const answers: DnsRecord[] = [];
  const additionals: DnsRecord[] = [];
  const base = `${s.name}.${s.namespace}.svc.${o.zone}`;
  const match = (name: string, protocol: string) =>
    (portName === undefined || name === portName) &&
    (proto === undefined || protocol.toLowerCase() === proto);
  if (!s.headless) {
    for (const p of s.service.spec?.ports ?? []) {
      if (!p.name || !match(p.name, p.protocol ?? "TCP")) continue;
      answers.push({
        type: "SRV",
        name: qname,
        ttl: o.ttl,
        priority: 0,
        weight: 100,
        port: p.port,
        target: base,
      });
    }
    const ip = s.service.spec?.clusterIP;
    if (answers.length > 0 && ip) additionals.push({ type: "A", name: base, ttl: o.ttl, address: ip });
    return { answers, additionals };
  }
  const weight = Math.max(1, Math.floor(100 / Math.max(1, s.endpoints.length)));
  for (const e of s.endpoints) {
    for (const [name, p] of e.ports) {
      if (!name || !match(name, p.protocol)) continue;
      const target = `${e.host}.${base}`;
      answers.push({ type: "SRV", name: qname, ttl: o.ttl, priority: 0, weight, port: p.port, target });
      if (!additionals.some((a) => a.name === target)) {
        additionals.push({ type: "A", name: target, ttl: o.ttl, address: e.ip });
      }
    }
  }
  return { answers, additionals };
}

function serviceAnswer(s: IndexedService, n: ClusterName, type: RecordType, o: AnswerOptions): Answer {
  const spec = s.service.spec ?? {};
  if (spec.type === "ExternalName" && spec.externalName) {
    const target = spec.externalName.replace(/\.$/, "").toLowerCase();
    return { kind: "cname", record: { type: "CNAME", name: n.name, ttl: o.ttl, domain: target }, target };
  }
  if (type === "SRV") {
    const r = srvRecords(s, n.name, o);
    return result(o, "NOERROR", r.answers, r.additionals);
  }
  if (s.headless && s.endpoints.length === 0) return result(o, "NXDOMAIN");
  if (type !== "A" && type !== "ANY") return result(o, "NOERROR");
  const ips = s.headless ? s.endpoints.map((e) => e.ip) : spec.clusterIP ? [spec.clusterIP] : [];
  return result(
    o,
    "NOERROR",
    ips.map((address) => ({ type: "A", name: n.name, ttl: o.ttl, address })),
  );
}

function inAny(ip: string, cidrs: readonly string[]): boolean {
  const n = ipToNumber(ip);
  return cidrs.some((c) => {
    const s = parseSubnet(c);
    return n >= s.network && n < s.network + s.size;
  });
}

/** Answers one question; `forward` means the name is not ours. */
export function answerQuestion(
  index: ClusterIndex,
  qname: string,
  type: RecordType,
  o: AnswerOptions,
): Answer {
  const n = parseName(qname, o.zone);
  switch (n.kind) {
    case "outside":
      return { kind: "forward" };
    case "invalid":
      return result(o, "NXDOMAIN");
    case "apex":
      return result(o, "NOERROR");
    case "namespace":
      return result(o, index.namespaces.has(n.namespace) ? "NOERROR" : "NXDOMAIN");
    case "service": {
      const s = index.services.get(`${n.service}.${n.namespace}`);
      return s ? serviceAnswer(s, n, type, o) : result(o, "NXDOMAIN");
    }
    case "endpoint": {
      const s = index.services.get(`${n.service}.${n.namespace}`);
      const e = s?.endpoints.find((x) => x.host === n.host);
      if (!e) return result(o, "NXDOMAIN");
      if (type !== "A" && type !== "ANY") return result(o, "NOERROR");
      return result(o, "NOERROR", [{ type: "A", name: n.name, ttl: o.ttl, address: e.ip }]);
    }
    case "srv": {
      const s = index.services.get(`${n.service}.${n.namespace}`);
      if (!s) return result(o, "NXDOMAIN");
      if (type !== "SRV" && type !== "ANY") return result(o, "NOERROR");
      const r = srvRecords(s, n.name, o, n.port, n.protocol);
      return result(o, r.answers.length ? "NOERROR" : "NXDOMAIN", r.answers, r.additionals);
    }
    case "pod":
      if (type !== "A" && type !== "ANY") return result(o, "NOERROR");
      return result(o, "NOERROR", [{ type: "A", name: n.name, ttl: o.ttl, address: n.ip }]);
    case "reverse": {
      const target = index.ptr.get(n.ip);
      if (target) {
        if (type !== "PTR" && type !== "ANY") return result(o, "NOERROR");
        return result(o, "NOERROR", [{ type: "PTR", name: n.name, ttl: o.ttl, domain: target }]);
      }
      return inAny(n.ip, o.reverseCIDRs) ? result(o, "NXDOMAIN") : { kind: "forward" };
    }
  }
}
