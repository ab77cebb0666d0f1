/**
 * Pod-CIDR allocation table: one /24 per node out of the cluster CIDR (10.42.0.0/16 →
 * 10.42.0.0/24 … 10.42.255.0/24), upstream's range allocator in miniature.
 *
 * Design notes
 * - The table is rebuilt from the nodes' spec.podCIDR at start, so a restart never hands a
 *   subnet that a live node holds to another node; a subnet is free again only when its node
 *   is deleted (`release`).
 * - The lowest free subnet is taken, keeping allocations dense and predictable.
 */
import { numberToIp, parseSubnet } from "../../../cni/subnet.js";

export const NODE_MASK_SIZE = 24;

export class CidrExhaustedError extends Error {
  constructor(cluster: string) {
    super(
      `no free /${NODE_MASK_SIZE} left in the cluster CIDR ${cluster}: delete unused nodes or widen --cluster-cidr`,
    );
    this.name = "CidrExhaustedError";
  }
}

export class CidrAllocator {
  private readonly base: number;
  private readonly count: number;
  /** subnet index → node name */
  private readonly used = new Map<number, string>();
  private readonly byNode = new Map<string, number>();

  constructor(readonly clusterCIDR: string) {
    const s = parseSubnet(clusterCIDR);
    if (s.prefixLength > NODE_MASK_SIZE) {
      throw new Error(
        `cluster CIDR ${clusterCIDR} is smaller than one /${NODE_MASK_SIZE} node subnet: use a prefix of ${NODE_MASK_SIZE} or less`,
      );
    }
    this.base = s.network;
    this.count = 2 ** (NODE_MASK_SIZE - s.prefixLength);
  }

  private index(cidr: string): number | undefined {
    try {
      const s = parseSubnet(cidr);
      if (s.prefixLength !== NODE_MASK_SIZE) return undefined;
      const i = (s.network - this.base) / 2 ** (32 - NODE_MASK_SIZE);
      return Number.isInteger(i) && i >= 0 && i < this.count ? i : undefined;
    } catch {
      return undefined;
    }
  }

  private cidrAt(i: number): string {
    return `${numberToIp((this.base + i * 2 ** (32 - NODE_MASK_SIZE)) >>> 0)}/${NODE_MASK_SIZE}`;
  }

  /** record an existing assignment; false when the CIDR is outside the range or taken */
  occupy(node: string, cidr: string): boolean {
    const i = this.index(cidr);
    if (i === undefined) return false;
    const holder = this.used.get(i);
    if (holder !== undefined && holder !== node) return false;
    this.release(node); // a node holds one subnet: drop a stale allocation
    this.used.set(i, node);
    this.byNode.set(node, i);
    return true;
  }

  /** the node's subnet, allocating the lowest free one if it has none */
  allocate(node: string): string {
    const have = this.byNode.get(node);
    if (have !== undefined) return this.cidrAt(have);
    for (let i = 0; i < this.count; i++) {
      if (!this.used.has(i)) {
        this.used.set(i, node);
        this.byNode.set(node, i);
        return this.cidrAt(i);
      }
    }
    throw new CidrExhaustedError(this.clusterCIDR);
  }

  release(node: string): void {
    const i = this.byNode.get(node);
    if (i === undefined) return;
    this.byNode.delete(node);
    if (this.used.get(i) === node) this.used.delete(i);
  }

  cidrOf(node: string): string | undefined {
    const i = this.byNode.get(node);
    return i === undefined ? undefined : this.cidrAt(i);
  }
}
