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
 */
import ipaddr from "ipaddr.js";
import { ApiError, type StatusCause } from "../../../api/errors.js";
import type { KubeObject } from "../../../api/object.js";
import type { Backend } from "../../store/backend.js";

export interface ServiceAllocatorOptions {
  serviceCIDR: string;
  nodePortRange: [number, number];
  reserved: string[];
}

interface SvcSpec {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
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

  private async inUse(exceptName: string): Promise<{ ips: Set<string>; ports: Set<string> }> {
    const list = await this.backend.list("/registry/core/services/");
    const ips = new Set<string>();
    const ports = new Set<string>();
    for (const kv of list.items) {
      const o = JSON.parse(kv.value) as KubeObject;
      if (`${o.metadata.namespace}/${o.metadata.name}` === exceptName) continue;
      const s = (o.spec ?? {}) as SvcSpec;
      for (const ip of s.clusterIPs ?? (s.clusterIP ? [s.clusterIP] : [])) ips.add(ip);
      for (const p of s.ports ?? []) if (p.nodePort) ports.add(`${p.protocol ?? "TCP"}/${p.nodePort}`);
    }
    return { ips, ports };
  }

  private async allocate(obj: KubeObject, old: KubeObject | undefined): Promise<void> {
    const spec = (obj.spec ?? {}) as SvcSpec;
    const oldSpec = (old?.spec ?? {}) as SvcSpec;
    const name = obj.metadata.name ?? "";
    const used = await this.inUse(`${obj.metadata.namespace}/${name}`);
    const causes: StatusCause[] = [];
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
      if (!ipaddr.IPv4.isValid(ip) || !ipaddr.IPv4.parse(ip).match(this.net)) {
        causes.push({
          reason: "FieldValueInvalid",
          field: "spec.clusterIPs[0]",
          message: `Invalid value: "${ip}": failed to allocate IP ${ip}: the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.opts.serviceCIDR}`,
        });
      } else if (used.ips.has(ip)) {
        causes.push({
          reason: "FieldValueInvalid",
          field: "spec.clusterIPs[0]",
          message: `Invalid value: ["${ip}"]: failed to allocate IP ${ip}: provided IP is already allocated`,
        });
      }
      spec.clusterIPs = [ip];
    } else {
      const ip = this.nextIP(used.ips);
      if (!ip)
        throw new ApiError(
          500,
          "InternalError",
          `Internal error occurred: failed to allocate a serviceIP: range is full`,
        );
      spec.clusterIP = ip;
      spec.clusterIPs = [ip];
    }
    if (spec.type === "NodePort" || spec.type === "LoadBalancer") {
      const [lo, hi] = this.opts.nodePortRange;
      const oldPorts = new Map(
        (oldSpec.ports ?? []).map((p) => [`${p.protocol ?? "TCP"}/${p.port}`, p.nodePort]),
      );
      (spec.ports ?? []).forEach((p, i) => {
        const proto = p.protocol ?? "TCP";
        if (!p.nodePort) {
          const kept = oldPorts.get(`${proto}/${p.port}`);
          p.nodePort = kept ?? this.nextPort(used.ports, proto);
        } else if (p.nodePort < lo || p.nodePort > hi) {
          causes.push({
            reason: "FieldValueInvalid",
            field: `spec.ports[${i}].nodePort`,
            message: `Invalid value: ${p.nodePort}: provided port is not in the valid range. The range of valid ports is ${lo}-${hi}`,
          });
        } else if (
          used.ports.has(`${proto}/${p.nodePort}`) &&
          oldPorts.get(`${proto}/${p.port}`) !== p.nodePort
        ) {
          causes.push({
            reason: "FieldValueInvalid",
            field: `spec.ports[${i}].nodePort`,
            message: `Invalid value: ${p.nodePort}: provided port is already allocated`,
          });
        }
        used.ports.add(`${proto}/${p.nodePort}`);
      });
    } else {
      for (const p of spec.ports ?? []) delete p.nodePort;
    }
    if (causes.length > 0) throw ApiError.invalid("Service", name, causes);
    obj.spec = spec;
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

  private nextPort(used: Set<string>, proto: string): number {
    const [lo, hi] = this.opts.nodePortRange;
    const span = hi - lo + 1;
    const start = Math.floor(Math.random() * span);
    for (let i = 0; i < span; i++) {
      const p = lo + ((start + i) % span);
      if (!used.has(`${proto}/${p}`)) return p;
    }
    throw new ApiError(
      500,
      "InternalError",
      "Internal error occurred: failed to allocate a nodePort: range is full",
    );
  }
}
