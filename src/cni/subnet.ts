/**
 * Subnet arithmetic for the overlay (IPv4 only, like flannel's vxlan backend on our clusters).
 *
 * Design notes
 * - Addresses are handled as unsigned 32-bit numbers; ipaddr.js parses and validates text.
 * - Per node /24 (podCIDR): `.0` lives on flannel.1 as a /32 (the peers' route gateway),
 *   `.1` is the cni0 gateway, pods get `.2` … broadcast−1.
 * - MACs are derived from an IPv4 address with the `0a:58` prefix the CNI bridge plugin uses
 *   (locally administered, unicast): cni0 gets 0a:58:<gateway IP>, which keeps the bridge MAC
 *   fixed (a bridge otherwise adopts its lowest port's MAC, which changes as pods come and go and
 *   leaves stale gateway ARP entries in pods). flannel.1 gets 0a:58:<podCIDR .0>, so recreating
 *   the VXLAN device (repair, reboot) keeps the VTEP MAC the peers already programmed.
 */
import ipaddr from "ipaddr.js";

export interface Ipv4Subnet {
  /** canonical text, e.g. "10.42.3.0/24" */
  readonly cidr: string;
  /** network address as a number */
  readonly network: number;
  readonly prefixLength: number;
  /** number of addresses in the subnet, network and broadcast included */
  readonly size: number;
}

export class SubnetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SubnetError";
  }
}

export function ipToNumber(ip: string): number {
  if (!ipaddr.IPv4.isValidFourPartDecimal(ip)) {
    throw new SubnetError(`"${ip}" is not an IPv4 address: give four dotted decimals like 10.42.0.1`);
  }
  const o = ipaddr.IPv4.parse(ip).octets;
  return (((o[0] ?? 0) << 24) | ((o[1] ?? 0) << 16) | ((o[2] ?? 0) << 8) | (o[3] ?? 0)) >>> 0;
}

export function numberToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** Parses "a.b.c.d/len"; host bits must be zero (a podCIDR names a network, not an address). */
export function parseSubnet(cidr: string): Ipv4Subnet {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(cidr.trim());
  const prefixLength = m ? Number(m[2]) : Number.NaN;
  if (!m || !(prefixLength >= 0 && prefixLength <= 32)) {
    throw new SubnetError(`"${cidr}" is not an IPv4 CIDR: give it as address/prefix, e.g. 10.42.3.0/24`);
  }
  const addr = ipToNumber(m[1] ?? "");
  const size = 2 ** (32 - prefixLength);
  const network = prefixLength === 0 ? 0 : (addr & (~(size - 1) >>> 0)) >>> 0;
  if (network !== addr) {
    throw new SubnetError(
      `"${cidr}" has host bits set: use its network address ${numberToIp(network)}/${prefixLength}`,
    );
  }
  return { cidr: `${numberToIp(network)}/${prefixLength}`, network, prefixLength, size };
}

export function addressAt(subnet: Ipv4Subnet, offset: number): string {
  if (offset < 0 || offset >= subnet.size) {
    throw new SubnetError(`offset ${offset} is outside ${subnet.cidr}`);
  }
  return numberToIp(subnet.network + offset);
}

export function contains(subnet: Ipv4Subnet, ip: string): boolean {
  const n = ipToNumber(ip);
  return n >= subnet.network && n < subnet.network + subnet.size;
}

/** True when `inner` lies wholly inside `outer`. */
export function subnetWithin(inner: Ipv4Subnet, outer: Ipv4Subnet): boolean {
  return inner.prefixLength >= outer.prefixLength && contains(outer, numberToIp(inner.network));
}

/** The address flannel.1 carries as a /32 and peers route to: the podCIDR's network address. */
export function vtepAddress(podCIDR: Ipv4Subnet): string {
  return addressAt(podCIDR, 0);
}

/** The cni0 bridge address and pods' default gateway: the podCIDR's first host. */
export function gatewayAddress(podCIDR: Ipv4Subnet): string {
  return addressAt(podCIDR, 1);
}

/** 0a:58:<4 bytes of the IPv4 address>, the CNI bridge plugin's convention. */
export function macFromIp(ip: string): string {
  const n = ipToNumber(ip);
  const bytes = [0x0a, 0x58, n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Lower-cases and checks a MAC (iproute2 prints lower case; annotations may not). */
export function normalizeMac(mac: string): string {
  const m = mac.trim().toLowerCase();
  if (!MAC_RE.test(m))
    throw new SubnetError(`"${mac}" is not a MAC address: give six hex pairs like 0a:58:0a:2a:01:00`);
  return m;
}
