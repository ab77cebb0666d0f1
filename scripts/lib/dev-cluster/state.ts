/**
 * The dev cluster's state file (<root>/state.json): every name, address, directory and pid that
 * `up` created, written before and after each step, so that `down` removes exactly those — and
 * nothing it did not create — even after `up` failed half-way.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RecordedProc } from "./procs.js";

export interface NodeState {
  index: number;
  /** node name in the cluster (node1, node2, …) */
  name: string;
  netns: string;
  /** underlay address */
  ip: string;
  /** veth end in the LAN namespace */
  lanPort: string;
  dir: string;
  dockerSock: string;
  dockerd?: RecordedProc;
  agent?: RecordedProc;
}

export interface ClusterState {
  version: 1;
  root: string;
  prefix: string;
  /** underlay network, e.g. 198.51.100.0/24 */
  underlay: string;
  prefixLength: number;
  hostIP: string;
  /** the LAN's dead-end default gateway (in the LAN namespace, no forwarding) */
  deadEndIP: string;
  lanNetns?: string;
  /** host end of the host↔LAN veth, carrying hostIP */
  hostLink?: string;
  httpsPort: number;
  mqttPort: number;
  hubDir: string;
  hub?: RecordedProc;
  kubeconfig: string;
  launcher: string;
  token?: string;
  nodes: NodeState[];
}

export function statePath(root: string): string {
  return join(root, "state.json");
}

export function readState(root: string): ClusterState | undefined {
  const p = statePath(root);
  if (!existsSync(p)) return undefined;
  const raw: unknown = JSON.parse(readFileSync(p, "utf8"));
  if (typeof raw !== "object" || raw === null || (raw as { version?: unknown }).version !== 1) {
    throw new Error(`${p} is not a dev-cluster state file: remove it by hand after checking "ip netns list"`);
  }
  return raw as ClusterState;
}

export function writeState(s: ClusterState): void {
  const p = statePath(s.root);
  writeFileSync(`${p}.tmp`, `${JSON.stringify(s, null, 2)}\n`);
  renameSync(`${p}.tmp`, p);
}

/** Dotted IPv4 → number, and back (the addressing plan is plain arithmetic). */
export function ipNum(ip: string): number {
  const p = ip.split(".").map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255))
    throw new Error(`"${ip}" is not an IPv4 address`);
  return (((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!) >>> 0;
}

export function numIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** Addresses of a plan: host = .1, node i = .(10+i), dead-end gateway = last usable. */
export function addressPlan(underlay: string): {
  network: number;
  prefixLength: number;
  hostIP: string;
  deadEndIP: string;
  nodeIP: (i: number) => string;
  maxNodes: number;
} {
  const [net, len] = underlay.split("/");
  const prefixLength = Number(len);
  if (!net || !Number.isInteger(prefixLength) || prefixLength < 16 || prefixLength > 27)
    throw new Error(`underlay "${underlay}" must be an IPv4 CIDR between /16 and /27`);
  const size = 2 ** (32 - prefixLength);
  const network = (ipNum(net) & ~(size - 1)) >>> 0;
  const maxNodes = Math.min(size - 13, 200);
  return {
    network,
    prefixLength,
    hostIP: numIp(network + 1),
    deadEndIP: numIp(network + size - 2),
    nodeIP: (i) => {
      if (i < 1 || i > maxNodes) throw new Error(`node ${i} does not fit in ${underlay} (1–${maxNodes})`);
      return numIp(network + 10 + i);
    },
    maxNodes,
  };
}
