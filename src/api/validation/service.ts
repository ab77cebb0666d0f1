/**
 * Networking validation: Service (create/update), Endpoints, EndpointSlice and Ingress.
 *
 * Design notes:
 * - NodePort range: upstream checks it in the port allocator, not in validation, but the
 *   user sees the same 422 ("provided port is not in the valid range. The range of valid
 *   ports is 30000-32767"); with no allocator of ours in between, it is checked here, against
 *   the range the hub is configured with.
 * - clusterIP is immutable once set (except to/from ExternalName), reported like upstream on
 *   `spec.clusterIPs[0]`.
 */
import { fieldErr } from "../errors.js";
import {
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isValidIP,
  isValidPortNum,
  isWildcardDNS1123Subdomain,
} from "../names.js";
import { isObject, type JsonObject } from "../object.js";
import { PORT_PROTOCOLS } from "./container.js";
import { validateLabels } from "./labels.js";
import { type Causes, child, goSlice, index, isSet, oneOf, portNumOrName } from "./util.js";

export interface ServiceOptions {
  /** inclusive NodePort range; default 30000–32767 */
  readonly nodePortRange?: readonly [number, number];
}

const SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"] as const;
const specOf = (o: JsonObject): JsonObject => (isObject(o.spec) ? o.spec : {});

export function validateService(svc: JsonObject, opts: ServiceOptions = {}): Causes {
  const [lo, hi] = opts.nodePortRange ?? [30000, 32767];
  const spec = specOf(svc);
  const out: Causes = [];
  const ports = (Array.isArray(spec.ports) ? spec.ports : []).map((p) => (isObject(p) ? p : {}));
  const type = spec.type;
  const headless = spec.clusterIP === "None";
  if (ports.length === 0 && !headless && type !== "ExternalName") out.push(fieldErr.required("spec.ports"));
  if (type === "ExternalName") {
    if (Array.isArray(spec.clusterIPs) && spec.clusterIPs.length > 0) {
      out.push(fieldErr.forbidden("spec.clusterIPs", "may not be set for ExternalName services"));
    }
    const cname = typeof spec.externalName === "string" ? spec.externalName.replace(/\.$/, "") : "";
    if (cname === "") out.push(fieldErr.required("spec.externalName"));
    else for (const m of isDNS1123Subdomain(cname)) out.push(fieldErr.invalid("spec.externalName", cname, m));
  }
  if ((type === "NodePort" || type === "LoadBalancer") && headless) {
    out.push(fieldErr.invalid("spec.clusterIPs[0]", "None", `may not be set to 'None' for ${type} services`));
  }
  if (typeof spec.clusterIP === "string" && spec.clusterIP !== "" && !headless) {
    for (const m of isValidIP(spec.clusterIP))
      out.push(fieldErr.invalid("spec.clusterIP", spec.clusterIP, m));
  }
  const names = new Set<string>();
  const seenPorts = new Set<string>();
  const seenNodePorts = new Set<string>();
  ports.forEach((p, i) => {
    const pp = index("spec.ports", i);
    const name = typeof p.name === "string" ? p.name : "";
    if (ports.length > 1 && name === "") out.push(fieldErr.required(child(pp, "name")));
    else if (name !== "") {
      for (const m of isDNS1123Label(name)) out.push(fieldErr.invalid(child(pp, "name"), name, m));
      if (names.has(name)) out.push(fieldErr.duplicate(child(pp, "name"), name));
      names.add(name);
    }
    for (const m of isValidPortNum(Number(p.port)))
      out.push(fieldErr.invalid(child(pp, "port"), p.port ?? 0, m));
    out.push(...oneOf(p.protocol, PORT_PROTOCOLS, child(pp, "protocol"), false));
    if (isSet(p.targetPort)) out.push(...portNumOrName(p.targetPort, child(pp, "targetPort")));
    if (isSet(p.nodePort) && p.nodePort !== 0) {
      if (type === "ClusterIP" || type === undefined) {
        out.push(fieldErr.forbidden(child(pp, "nodePort"), "may not be used when `type` is 'ClusterIP'"));
      } else if (typeof p.nodePort !== "number" || p.nodePort < lo || p.nodePort > hi) {
        out.push(
          fieldErr.invalid(
            child(pp, "nodePort"),
            p.nodePort,
            `provided port is not in the valid range. The range of valid ports is ${lo}-${hi}`,
          ),
        );
      }
      const nk = `${String(p.protocol ?? "TCP")}/${String(p.nodePort)}`;
      if (seenNodePorts.has(nk)) out.push(fieldErr.duplicate(child(pp, "nodePort"), p.nodePort));
      seenNodePorts.add(nk);
    }
    const pk = `${String(p.protocol ?? "TCP")}/${String(p.port)}`;
    if (seenPorts.has(pk)) {
      // upstream reports the (protocol, port) key struct with Go's %#v
      const proto = String(p.protocol ?? "TCP");
      out.push({
        reason: "FieldValueDuplicate",
        field: pp,
        message: `Duplicate value: core.ServicePort{Name:"", Protocol:"${proto}", AppProtocol:(*string)(nil), Port:${String(p.port)}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`,
      });
    }
    seenPorts.add(pk);
  });
  out.push(...validateLabels(spec.selector, "spec.selector"));
  out.push(...oneOf(spec.sessionAffinity, ["ClientIP", "None"], "spec.sessionAffinity", false));
  out.push(...oneOf(type, SERVICE_TYPES, "spec.type", false));
  for (const f of ["externalTrafficPolicy", "internalTrafficPolicy"]) {
    out.push(...oneOf(spec[f], ["Cluster", "Local"], `spec.${f}`, false));
  }
  (Array.isArray(spec.externalIPs) ? spec.externalIPs : []).forEach((ip, i) => {
    for (const m of isValidIP(String(ip))) out.push(fieldErr.invalid(index("spec.externalIPs", i), ip, m));
  });
  return out;
}

export function validateServiceUpdate(svc: JsonObject, old: JsonObject): Causes {
  const spec = specOf(svc);
  const prev = specOf(old);
  if (spec.type === "ExternalName" || prev.type === "ExternalName") return [];
  const a = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : isSet(spec.clusterIP) ? [spec.clusterIP] : [];
  const b = Array.isArray(prev.clusterIPs) ? prev.clusterIPs : isSet(prev.clusterIP) ? [prev.clusterIP] : [];
  if (a.length > 0 && b.length > 0 && a[0] !== "" && a[0] !== b[0]) {
    return [fieldErr.invalidRendered("spec.clusterIPs[0]", goSlice(a), "may not change once set")];
  }
  return [];
}

function validateEndpointPort(p: JsonObject, path: string, requireName: boolean): Causes {
  const out: Causes = [];
  const name = typeof p.name === "string" ? p.name : "";
  if (requireName && name === "") out.push(fieldErr.required(child(path, "name")));
  else if (name !== "")
    for (const m of isDNS1123Label(name)) out.push(fieldErr.invalid(child(path, "name"), name, m));
  for (const m of isValidPortNum(Number(p.port)))
    out.push(fieldErr.invalid(child(path, "port"), p.port ?? 0, m));
  out.push(...oneOf(p.protocol, PORT_PROTOCOLS, child(path, "protocol"), false));
  return out;
}

export function validateEndpoints(ep: JsonObject): Causes {
  const out: Causes = [];
  (Array.isArray(ep.subsets) ? ep.subsets : []).forEach((raw, i) => {
    const s = isObject(raw) ? raw : {};
    const sp = index("subsets", i);
    for (const list of ["addresses", "notReadyAddresses"]) {
      (Array.isArray(s[list]) ? s[list] : []).forEach((a, j) => {
        const ip = isObject(a) && typeof a.ip === "string" ? a.ip : "";
        for (const m of isValidIP(ip))
          out.push(fieldErr.invalid(child(index(child(sp, list), j), "ip"), ip, m));
      });
    }
    const ports = (Array.isArray(s.ports) ? s.ports : []).map((p) => (isObject(p) ? p : {}));
    ports.forEach((p, j) => {
      out.push(...validateEndpointPort(p, index(child(sp, "ports"), j), ports.length > 1));
    });
  });
  return out;
}

export function validateEndpointSlice(es: JsonObject): Causes {
  const out: Causes = [...oneOf(es.addressType, ["FQDN", "IPv4", "IPv6"], "addressType")];
  (Array.isArray(es.endpoints) ? es.endpoints : []).forEach((raw, i) => {
    const e = isObject(raw) ? raw : {};
    const addrs = Array.isArray(e.addresses) ? e.addresses : [];
    const ap = child(index("endpoints", i), "addresses");
    if (addrs.length === 0) out.push(fieldErr.required(ap, "must contain at least 1 address"));
    else if (addrs.length > 100) out.push(fieldErr.tooMany(ap, addrs.length, 100));
    addrs.forEach((a, j) => {
      const v = String(a);
      const msgs =
        es.addressType === "FQDN"
          ? isDNS1123Subdomain(v)
          : es.addressType === "IPv4" || es.addressType === "IPv6"
            ? isValidIP(v)
            : [];
      for (const m of msgs) out.push(fieldErr.invalid(index(ap, j), v, m));
    });
  });
  (Array.isArray(es.ports) ? es.ports : []).forEach((raw, i) => {
    const p = isObject(raw) ? raw : {};
    const pp = index("ports", i);
    if (typeof p.name === "string" && p.name !== "") {
      for (const m of isDNS1123Label(p.name)) out.push(fieldErr.invalid(child(pp, "name"), p.name, m));
    }
    out.push(...oneOf(p.protocol, PORT_PROTOCOLS, child(pp, "protocol"), false));
    if (isSet(p.port))
      for (const m of isValidPortNum(Number(p.port)))
        out.push(fieldErr.invalid(child(pp, "port"), p.port, m));
  });
  return out;
}

function validateIngressBackend(b: unknown, path: string): Causes {
  if (!isObject(b)) return [];
  const out: Causes = [];
  const svc = b.service;
  if (isSet(svc) && isSet(b.resource))
    return [fieldErr.invalid(path, "", "cannot set both resource and service backends")];
  if (!isObject(svc))
    return isSet(b.resource) ? [] : [fieldErr.invalid(path, "", "one backend type must be specified")];
  const name = typeof svc.name === "string" ? svc.name : "";
  if (name === "") out.push(fieldErr.required(child(path, "service", "name")));
  else
    for (const m of isDNS1035Label(name)) out.push(fieldErr.invalid(child(path, "service", "name"), name, m));
  const port = isObject(svc.port) ? svc.port : {};
  const pp = child(path, "service", "port");
  const hasName = typeof port.name === "string" && port.name !== "";
  const hasNumber = isSet(port.number) && port.number !== 0;
  if (hasName && hasNumber) out.push(fieldErr.invalid(pp, port, "cannot set both port name & port number"));
  else if (!hasName && !hasNumber) out.push(fieldErr.required(pp, "port name or number is required"));
  else if (hasNumber)
    for (const m of isValidPortNum(Number(port.number)))
      out.push(fieldErr.invalid(child(pp, "number"), port.number, m));
  return out;
}

export function validateIngress(ing: JsonObject): Causes {
  const spec = specOf(ing);
  const out: Causes = [];
  const rules = Array.isArray(spec.rules) ? spec.rules : [];
  if (!isSet(spec.defaultBackend) && rules.length === 0) {
    out.push(fieldErr.invalid("spec", rules, "either `defaultBackend` or `rules` must be specified"));
  }
  out.push(...validateIngressBackend(spec.defaultBackend, "spec.defaultBackend"));
  if (typeof spec.ingressClassName === "string") {
    for (const m of isDNS1123Subdomain(spec.ingressClassName))
      out.push(fieldErr.invalid("spec.ingressClassName", spec.ingressClassName, m));
  }
  rules.forEach((raw, i) => {
    const r = isObject(raw) ? raw : {};
    const rp = index("spec.rules", i);
    if (typeof r.host === "string" && r.host !== "") {
      const msgs = r.host.startsWith("*.") ? isWildcardDNS1123Subdomain(r.host) : isDNS1123Subdomain(r.host);
      for (const m of msgs) out.push(fieldErr.invalid(child(rp, "host"), r.host, m));
    }
    const http = isObject(r.http) ? r.http : undefined;
    if (!http) return;
    const paths = Array.isArray(http.paths) ? http.paths : [];
    if (paths.length === 0) out.push(fieldErr.required(child(rp, "http", "paths")));
    paths.forEach((pr, j) => {
      const p = isObject(pr) ? pr : {};
      const pp = index(child(rp, "http", "paths"), j);
      if (!isSet(p.pathType))
        out.push(fieldErr.required(child(pp, "pathType"), "pathType must be specified"));
      else
        out.push(...oneOf(p.pathType, ["Exact", "ImplementationSpecific", "Prefix"], child(pp, "pathType")));
      if (p.pathType !== "ImplementationSpecific" && typeof p.path === "string" && !p.path.startsWith("/")) {
        out.push(fieldErr.invalid(child(pp, "path"), p.path, "must be an absolute path"));
      }
      if (!isObject(p.backend)) out.push(fieldErr.required(child(pp, "backend")));
      out.push(...validateIngressBackend(p.backend, child(pp, "backend")));
    });
  });
  return out;
}
