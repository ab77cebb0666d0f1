/**
 * Service admission: ClusterIP and NodePort allocation on create, with upstream's 422 errors
 * for addresses or ports that are taken or out of range.
 *
 * Design notes
 * - The store is the allocation table: each allocation scans the live Services (one prefix
 *   read), so nothing can drift after a crash. 10.43.0.1 is reserved for `kubernetes` and
 *   10.43.0.10 for cluster DNS; they are handed out only when asked for by address.
 * - Allocations are serialised through one promise chain so two creates in one tick cannot
 *   pick the same address.
 * - Errors as upstream's registry (pkg/registry/core/service/storage/alloc.go) words them:
 *   the first failure only, ClusterIP before node ports; a ClusterIP error is on
 *   `spec.clusterIPs` with the whole list as the value (`[]string{"10.43.0.5"}`).
 * - Node ports are one table of numbers, whatever the protocol (upstream's port allocator is
 *   a bitmap of numbers): TCP 30053 in one service blocks UDP 30053 in another. Inside one
 *   service, ports with the same `port` (the DNS-style TCP+UDP pair) share one node port.
 * - `spec.healthCheckNodePort` comes from the same table (upstream's one port allocator): a
 *   LoadBalancer with externalTrafficPolicy Local gets one (the user's, if free and in range), it
 *   is kept across updates (immutable once set) and dropped by an update that makes the Service
 *   no longer need it — upstream's PrepareForUpdate wipes it unless the user changed it, then
 *   validation forbids it. Released on delete for free: the next scan no longer sees it.
 *   A taken or out-of-range requested port is a 422 on the field with the nodePort texts (upstream
 *   answers 500 "failed to allocate requested HealthCheck NodePort"; a 422 says what to fix).
 */
import ipaddr from "ipaddr.js";
import { ApiError, fieldErr, type StatusCause } from "../../../api/errors.js";
import type { KubeObject } from "../../../api/object.js";
import { goSlice } from "../../../api/validation/util.js";
import type { Backend } from "../../store/backend.js";

/**
 * The two addresses every cluster reserves in its service CIDR: the first one for the
 * `kubernetes` service (as kube-apiserver does) and the tenth for cluster DNS (the kubeadm/k3s
 * convention): 10.43.0.1 and 10.43.0.10 for the default 10.43.0.0/16.
 */
export function wellKnownServiceIPs(serviceCIDR: string): { kubernetes: string; dns: string } {
  const [, bits] = ipaddr.IPv4.parseCIDR(serviceCIDR);
  if (bits > 28)
    throw new Error(`service CIDR ${serviceCIDR} is too small: use a /28 or larger, e.g. 10.43.0.0/16`);
  const base = ipaddr.IPv4.networkAddressFromCIDR(serviceCIDR)
    .toByteArray()
    .reduce((a, b) => a * 256 + b, 0);
  const at = (n: number) => [24, 16, 8, 0].map((s) => Math.floor((base + n) / 2 ** s) % 256).join(".");
  return { kubernetes: at(1), dns: at(10) };
}

/** upstream's NeedsHealthCheck: a LoadBalancer whose external traffic stays on the node */
export function needsHealthCheck(spec: { type?: string; externalTrafficPolicy?: string }): boolean {
  return spec.type === "LoadBalancer" && spec.externalTrafficPolicy === "Local";
}

export interface ServiceAllocatorOptions {
  serviceCIDR: string;
  nodePortRange: [number, number];
  reserved: string[];
}

interface SvcSpec {
  type?: string;
  allocateLoadBalancerNodePorts?: boolean;
  clusterIP?: string;
  clusterIPs?: string[];
  externalTrafficPolicy?: string;
  healthCheckNodePort?: number;
  ports?: { name?: string; port?: number; nodePort?: number; protocol?: string }[];
}

export class ServiceAllocator {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly net: [ipaddr.IPv4, number];

  constructor(
    private readonly backend: Backend,
    private readonly opts: ServiceAllocatorOptions,
  ) {
    this.net = ipaddr.IPv4.parseCIDR(opts.serviceCIDR);
  }

  admit(obj: KubeObject, old: KubeObject | undefined): Promise<void> {
    const run = this.chain.then(() => this.allocate(obj, old));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async inUse(exceptName: string): Promise<{ ips: Set<string>; ports: Set<number> }> {
    const list = await this.backend.list("/registry/core/services/");
    const ips = new Set<string>();
    const ports = new Set<number>();
    for (const kv of list.items) {
      const o = JSON.parse(kv.value) as KubeObject;
      if (`${o.metadata.namespace}/${o.metadata.name}` === exceptName) continue;
      const s = (o.spec ?? {}) as SvcSpec;
      for (const ip of s.clusterIPs ?? (s.clusterIP ? [s.clusterIP] : [])) ips.add(ip);
      for (const p of s.ports ?? []) if (p.nodePort) ports.add(p.nodePort);
      if (s.healthCheckNodePort) ports.add(s.healthCheckNodePort);
    }
    return { ips, ports };
  }

  private async allocate(obj: KubeObject, old: KubeObject | undefined): Promise<void> {
    const spec = (obj.spec ?? {}) as SvcSpec;
    const oldSpec = (old?.spec ?? {}) as SvcSpec;
    const name = obj.metadata.name ?? "";
    const used = await this.inUse(`${obj.metadata.namespace}/${name}`);
    const invalid = (field: string, value: string, detail: string) =>
      ApiError.invalid("Service", name, [
        { reason: "FieldValueInvalid", field, message: `Invalid value: ${value}: ${detail}` },
      ]);
    if (spec.type === "ExternalName") {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    } else if (old && oldSpec.clusterIP) {
      spec.clusterIP = oldSpec.clusterIP;
      spec.clusterIPs = oldSpec.clusterIPs ?? [oldSpec.clusterIP];
    } else if (spec.clusterIP === "None") {
      spec.clusterIPs = ["None"];
    } else if (spec.clusterIP) {
      const ip = spec.clusterIP;
      spec.clusterIPs = [ip];
      const fail = (why: string) =>
        invalid("spec.clusterIPs", goSlice(spec.clusterIPs), `failed to allocate IP ${ip}: ${why}`);
      if (!ipaddr.IPv4.isValid(ip) || !ipaddr.IPv4.parse(ip).match(this.net)) {
        throw fail(
          `the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.opts.serviceCIDR}`,
        );
      }
      if (used.ips.has(ip)) throw fail("provided IP is already allocated");
    } else {
      const ip = this.nextIP(used.ips);
      if (!ip) throw ApiError.internal("failed to allocate a serviceIP: range is full");
      spec.clusterIP = ip;
      spec.clusterIPs = [ip];
    }
    // a requested health check port is held before node ports are picked at random, so a pick
    // cannot take it from under the request (upstream picks node ports first)
    const requestedHC = needsHealthCheck(spec) ? spec.healthCheckNodePort : undefined;
    const holdHC = requestedHC !== undefined && !used.ports.has(requestedHC) ? requestedHC : undefined;
    if (holdHC !== undefined) used.ports.add(holdHC);
    if (spec.type === "NodePort" || spec.type === "LoadBalancer") {
      const [lo, hi] = this.opts.nodePortRange;
      // `used` holds the other services' node ports; this service's old ones are kept for the
      // same protocol/port (an apply that omits nodePort must not move it)
      const oldByPort = new Map(
        (oldSpec.ports ?? []).map((p) => [`${p.protocol ?? "TCP"}/${p.port}`, p.nodePort]),
      );
      /** service port number → the node port given to it in this service */
      const byServicePort = new Map<number, number>();
      // a LoadBalancer with allocateLoadBalancerNodePorts=false gets node ports only where the
      // user set one (upstream's shouldAllocateNodePorts)
      const auto = spec.type === "NodePort" || spec.allocateLoadBalancerNodePorts !== false;
      (spec.ports ?? []).forEach((p, i) => {
        const shared = p.port !== undefined ? byServicePort.get(p.port) : undefined;
        if (!p.nodePort && !auto) return;
        if (!p.nodePort) {
          const kept = oldByPort.get(`${p.protocol ?? "TCP"}/${p.port}`);
          if (shared !== undefined) p.nodePort = shared;
          else if (kept !== undefined && !used.ports.has(kept)) p.nodePort = kept;
          else p.nodePort = this.nextPort(used.ports);
        } else if (p.nodePort < lo || p.nodePort > hi) {
          throw invalid(
            `spec.ports[${i}].nodePort`,
            String(p.nodePort),
            `provided port is not in the valid range. The range of valid ports is ${lo}-${hi}`,
          );
        } else if (p.nodePort !== shared && used.ports.has(p.nodePort)) {
          throw invalid(
            `spec.ports[${i}].nodePort`,
            String(p.nodePort),
            "provided port is already allocated",
          );
        }
        used.ports.add(p.nodePort);
        if (p.port !== undefined && !byServicePort.has(p.port)) byServicePort.set(p.port, p.nodePort);
      });
    } else {
      for (const p of spec.ports ?? []) delete p.nodePort;
    }
    if (holdHC !== undefined) used.ports.delete(holdHC);
    this.healthCheckNodePort(name, spec, old ? oldSpec : undefined, used.ports);
    obj.spec = spec;
  }

  /** spec.healthCheckNodePort (see design notes); `used` already holds this service's node ports. */
  private healthCheckNodePort(
    name: string,
    spec: SvcSpec,
    oldSpec: SvcSpec | undefined,
    used: Set<number>,
  ): void {
    const field = "spec.healthCheckNodePort";
    const fail = (cause: StatusCause) => ApiError.invalid("Service", name, [cause]);
    const given = spec.healthCheckNodePort;
    const had = oldSpec && needsHealthCheck(oldSpec) ? oldSpec.healthCheckNodePort : undefined;
    if (!needsHealthCheck(spec)) {
      if (!given || (had !== undefined && given === had)) {
        delete spec.healthCheckNodePort;
        return;
      }
      throw fail(
        fieldErr.forbidden(
          field,
          "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
        ),
      );
    }
    if (had) {
      // an update that omits it keeps it (apply, replace without the field)
      if (given && given !== had) throw fail(fieldErr.invalid(field, given, "field is immutable"));
      spec.healthCheckNodePort = had;
      used.add(had);
      return;
    }
    if (given) {
      const [lo, hi] = this.opts.nodePortRange;
      if (given < lo || given > hi) {
        throw fail(
          fieldErr.invalid(
            field,
            given,
            `provided port is not in the valid range. The range of valid ports is ${lo}-${hi}`,
          ),
        );
      }
      if (used.has(given)) throw fail(fieldErr.invalid(field, given, "provided port is already allocated"));
    } else {
      spec.healthCheckNodePort = this.nextPort(used);
    }
    used.add(spec.healthCheckNodePort ?? 0);
  }

  private nextIP(used: Set<string>): string | undefined {
    const [net, bits] = this.net;
    const base = net.toByteArray().reduce((a, b) => a * 256 + b, 0);
    const size = 2 ** (32 - bits);
    const start = Math.floor(Math.random() * (size - 2)) + 1;
    for (let i = 0; i < size - 2; i++) {
      const n = base + 1 + ((start + i) % (size - 2));
      const ip = [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
      if (!used.has(ip) && !this.opts.reserved.includes(ip)) return ip;
    }
    return undefined;
  }

  private nextPort(used: Set<number>): number {
    const [lo, hi] = this.opts.nodePortRange;
    const span = hi - lo + 1;
    const start = Math.floor(Math.random() * span);
    for (let i = 0; i < span; i++) {
      const p = lo + ((start + i) % span);
      if (!used.has(p)) return p;
    }
    throw ApiError.internal("failed to allocate a nodePort: range is full");
  }
}
