/**
 * IpRoute: a thin, typed wrapper over iproute2's `ip -json` and `bridge -json`.
 *
 * Design notes
 * - iproute2 is the netlink client (DESIGN.md "Overlay"): it exists on every target image and
 *   speaks to every kernel we run; no native addon to build for arm64.
 * - Reads use `-json` and are narrowed field by field at this edge (the JSON is external input);
 *   writes are plain argument vectors through the injected `Exec`, so the same wrapper
 *   programs the host or a test namespace.
 * - "Not found" is an expected answer for reads (`getLink` → undefined) and for deletes
 *   (`deleteLink` is idempotent); everything else surfaces as a CommandError naming the command.
 * - A kernel without VXLAN says "Unknown device type"; that becomes VxlanUnsupportedError with
 *   the fix (modprobe vxlan), because the raw message does not say what to do.
 */
import { isObject, type JsonObject } from "../api/object.js";
import { CommandError, type Exec } from "./exec.js";

export interface VxlanInfo {
  id?: number;
  local?: string;
  /** name of the underlay device */
  link?: string;
  port?: number;
  learning?: boolean;
}

export interface Link {
  ifindex: number;
  ifname: string;
  address: string;
  mtu: number;
  flags: string[];
  /** bridge this link is enslaved to */
  master?: string;
  /** linkinfo.info_kind: "vxlan", "bridge", "veth", … (with `-d` only) */
  kind?: string;
  vxlan?: VxlanInfo;
  /** bridge port hairpin mode (with `-d` only) */
  hairpin?: boolean;
}

export interface Addr {
  family: string;
  local: string;
  prefixlen: number;
}

export interface Route {
  /** "10.42.2.0/24", a host address, or "default" */
  dst: string;
  gateway?: string;
  dev?: string;
  flags: string[];
}

export interface Neigh {
  dst: string;
  lladdr?: string;
  state: string[];
}

export interface FdbEntry {
  mac: string;
  dst?: string;
  flags: string[];
  state?: string;
}

export class VxlanUnsupportedError extends Error {
  constructor(cause: unknown) {
    super(
      "the kernel has no vxlan support: load the vxlan module (modprobe vxlan) or use a kernel built " +
        "with CONFIG_VXLAN, then restart the agent",
      { cause },
    );
    this.name = "VxlanUnsupportedError";
  }
}

export function isNotFound(err: unknown): boolean {
  return (
    err instanceof CommandError &&
    /does not exist|Cannot find device|No such device|No such process|not found/i.test(err.stderr)
  );
}

const str = (o: JsonObject, k: string): string | undefined => (typeof o[k] === "string" ? o[k] : undefined);
const num = (o: JsonObject, k: string): number | undefined => (typeof o[k] === "number" ? o[k] : undefined);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === "string") : []);

function parseArray(stdout: string, what: string): JsonObject[] {
  const text = stdout.trim();
  if (text === "") return [];
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new Error(`${what}: iproute2 printed something that is not JSON (is iproute2 older than 4.14?)`, {
      cause: err,
    });
  }
  if (!Array.isArray(v)) throw new Error(`${what}: expected a JSON array from iproute2`);
  return v.filter(isObject);
}

function toLink(o: JsonObject): Link {
  const info = isObject(o.linkinfo) ? o.linkinfo : {};
  const data = isObject(info.info_data) ? info.info_data : {};
  const slave = isObject(info.info_slave_data) ? info.info_slave_data : {};
  const link: Link = {
    ifindex: num(o, "ifindex") ?? 0,
    ifname: str(o, "ifname") ?? "",
    address: str(o, "address") ?? "",
    mtu: num(o, "mtu") ?? 0,
    flags: strs(o.flags),
  };
  const master = str(o, "master");
  if (master !== undefined) link.master = master;
  const kind = str(info, "info_kind");
  if (kind !== undefined) link.kind = kind;
  if (kind === "vxlan") {
    const vx: VxlanInfo = {};
    const id = num(data, "id");
    const local = str(data, "local");
    const dev = str(data, "link");
    const port = num(data, "port");
    if (id !== undefined) vx.id = id;
    if (local !== undefined) vx.local = local;
    if (dev !== undefined) vx.link = dev;
    if (port !== undefined) vx.port = port;
    if (typeof data.learning === "boolean") vx.learning = data.learning;
    link.vxlan = vx;
  }
  if (typeof slave.hairpin === "boolean") link.hairpin = slave.hairpin;
  return link;
}

export class IpRoute {
  constructor(private readonly exec: Exec) {}

  async ip(args: readonly string[]): Promise<string> {
    return (await this.exec("ip", args)).stdout;
  }

  async bridge(args: readonly string[]): Promise<string> {
    return (await this.exec("bridge", args)).stdout;
  }

  /** Details (`-d`) of one link, or undefined when it does not exist. */
  async getLink(name: string): Promise<Link | undefined> {
    try {
      const out = await this.ip(["-json", "-d", "link", "show", "dev", name]);
      const first = parseArray(out, `ip link show ${name}`)[0];
      return first ? toLink(first) : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async listLinks(): Promise<Link[]> {
    return parseArray(await this.ip(["-json", "-d", "link", "show"]), "ip link show").map(toLink);
  }

  async addrs(dev: string): Promise<Addr[]> {
    const out = await this.ip(["-json", "addr", "show", "dev", dev]);
    const result: Addr[] = [];
    for (const l of parseArray(out, `ip addr show ${dev}`)) {
      for (const a of Array.isArray(l.addr_info) ? l.addr_info.filter(isObject) : []) {
        const local = str(a, "local");
        if (local !== undefined) {
          result.push({ family: str(a, "family") ?? "", local, prefixlen: num(a, "prefixlen") ?? 0 });
        }
      }
    }
    return result;
  }

  /** Every link with the addresses on it (used to find the underlay device of an IP). */
  async allAddrs(): Promise<Array<{ ifname: string; mtu: number; addrs: Addr[] }>> {
    const out = await this.ip(["-json", "addr", "show"]);
    return parseArray(out, "ip addr show").map((l) => ({
      ifname: str(l, "ifname") ?? "",
      mtu: num(l, "mtu") ?? 0,
      addrs: (Array.isArray(l.addr_info) ? l.addr_info.filter(isObject) : []).map((a) => ({
        family: str(a, "family") ?? "",
        local: str(a, "local") ?? "",
        prefixlen: num(a, "prefixlen") ?? 0,
      })),
    }));
  }

  /** IPv4 routes of the main table, optionally only those through `dev`. */
  async routes(dev?: string): Promise<Route[]> {
    const args = ["-json", "-4", "route", "show", "table", "main"];
    if (dev !== undefined) args.push("dev", dev);
    return parseArray(await this.ip(args), "ip route show").map((o) => {
      const r: Route = { dst: str(o, "dst") ?? "", flags: strs(o.flags) };
      const gw = str(o, "gateway");
      const d = str(o, "dev") ?? dev;
      if (gw !== undefined) r.gateway = gw;
      if (d !== undefined) r.dev = d;
      return r;
    });
  }

  async neighs(dev: string): Promise<Neigh[]> {
    const out = await this.ip(["-json", "-4", "neigh", "show", "dev", dev]);
    return parseArray(out, `ip neigh show ${dev}`).map((o) => {
      const n: Neigh = { dst: str(o, "dst") ?? "", state: strs(o.state) };
      const ll = str(o, "lladdr");
      if (ll !== undefined) n.lladdr = ll;
      return n;
    });
  }

  async fdb(dev: string): Promise<FdbEntry[]> {
    const out = await this.bridge(["-json", "fdb", "show", "dev", dev]);
    return parseArray(out, `bridge fdb show ${dev}`).map((o) => {
      const e: FdbEntry = { mac: str(o, "mac") ?? "", flags: strs(o.flags) };
      const dst = str(o, "dst");
      const state = str(o, "state");
      if (dst !== undefined) e.dst = dst;
      if (state !== undefined) e.state = state;
      return e;
    });
  }

  /** `ip link add NAME [address MAC] type vxlan …`, translating a missing vxlan module. */
  async addVxlan(o: {
    name: string;
    vni: number;
    local: string;
    dev: string;
    port: number;
    mac?: string;
  }): Promise<void> {
    const args = ["link", "add", o.name];
    if (o.mac !== undefined) args.push("address", o.mac);
    args.push("type", "vxlan", "id", String(o.vni), "local", o.local, "dev", o.dev);
    args.push("dstport", String(o.port), "nolearning");
    try {
      await this.ip(args);
    } catch (err) {
      if (err instanceof CommandError && /Unknown device type|not supported/i.test(err.stderr)) {
        throw new VxlanUnsupportedError(err);
      }
      throw err;
    }
  }

  /** Deletes a link; a link that is already gone is fine. */
  async deleteLink(name: string): Promise<boolean> {
    try {
      await this.ip(["link", "del", "dev", name]);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** Sets a sysctl in this Exec's network namespace (net.* keys are per namespace). */
  async sysctl(key: string, value: string): Promise<void> {
    await this.exec("sysctl", ["-q", "-w", `${key}=${value}`]);
  }
}
