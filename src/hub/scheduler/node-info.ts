/**
 * NodeInfo and the scheduler cache: per node, its allocatable resources, what the pods bound
 * to it request, its used host ports and how many pods of each owner it runs.
 *
 * Design notes
 * - Kept incrementally from pod and node events (upstream's scheduler cache), so scheduling
 *   one pod never lists pods: filter + score is O(nodes).
 * - "Assumed" pods: the scheduler accounts a pod on its chosen node before the binding is
 *   written, so the next decision already sees the capacity taken; when the informer later
 *   reports the pod bound, the accounting is simply replaced (same node, no double count).
 *   A failed binding forgets the assumption.
 * - Each node also keeps its pods (labels, namespace, compiled affinity terms): inter-pod
 *   affinity and topology spreading count matching pods per topology domain from them.
 * - Not-ready nodes get the taint upstream's node lifecycle would have added
 *   (`node.kubernetes.io/not-ready` or `…/unreachable`, NoSchedule) when they do not carry it
 *   yet, so the TaintToleration check explains them in upstream's words.
 */
import type { Node, Taint } from "kubernetes-types/core/v1";
import type { KubeObject } from "../../api/object.js";
import { toBytes, toMilli } from "../../api/quantity.js";
import type { PodInfo } from "./pod-info.js";

export const TAINT_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_UNREACHABLE = "node.kubernetes.io/unreachable";
export const TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";

export interface NodeInfo {
  name: string;
  node: Node;
  labels: Readonly<Record<string, string>>;
  unschedulable: boolean;
  /** NoSchedule / NoExecute taints, including the synthesized readiness taint */
  taints: Taint[];
  allocatable: { milliCpu: number; memory: number; ephemeralStorage: number; pods: number };
  requested: { milliCpu: number; memory: number; ephemeralStorage: number };
  nonZero: { milliCpu: number; memory: number };
  podCount: number;
  /** "TCP/80" → host IPs in use */
  usedPorts: Map<string, string[]>;
  ownerCounts: Map<string, number>;
  /** the pods accounted on this node (bound or assumed), by pod key */
  pods: Map<string, PodInfo>;
  /** how many of them carry pod (anti-)affinity terms (symmetry checks skip nodes with 0) */
  affinityPods: number;
  /** claim (ns/name) → space it will take: unbound claims of pods placed here (volume-capacity.ts) */
  pendingStorage: Map<string, { base: string | undefined; bytes: number }>;
}

function num(v: unknown, conv: (q: string) => number, dflt: number): number {
  if (typeof v !== "string" && typeof v !== "number") return dflt;
  try {
    return conv(String(v));
  } catch {
    return dflt;
  }
}

export function readinessTaint(node: Node): Taint | undefined {
  const ready = node.status?.conditions?.find((c) => c.type === "Ready");
  if (ready?.status === "True") return undefined;
  const key = ready?.status === "Unknown" ? TAINT_UNREACHABLE : TAINT_NOT_READY;
  return { key, effect: "NoSchedule" };
}

export function newNodeInfo(obj: KubeObject): NodeInfo {
  const node = obj as unknown as Node;
  const alloc = (node.status?.allocatable ?? node.status?.capacity ?? {}) as Record<string, unknown>;
  const taints = (node.spec?.taints ?? []).filter(
    (t) => t.effect === "NoSchedule" || t.effect === "NoExecute",
  );
  const synth = readinessTaint(node);
  if (synth && !taints.some((t) => t.key === synth.key)) taints.push(synth);
  return {
    name: obj.metadata.name ?? "",
    node,
    labels: obj.metadata.labels ?? {},
    unschedulable: node.spec?.unschedulable === true,
    taints,
    allocatable: {
      milliCpu: num(alloc.cpu, toMilli, 0),
      memory: num(alloc.memory, toBytes, 0),
      ephemeralStorage: num(alloc["ephemeral-storage"], toBytes, Number.MAX_SAFE_INTEGER),
      pods: num(alloc.pods, toBytes, 110),
    },
    requested: { milliCpu: 0, memory: 0, ephemeralStorage: 0 },
    nonZero: { milliCpu: 0, memory: 0 },
    podCount: 0,
    usedPorts: new Map(),
    ownerCounts: new Map(),
    pods: new Map(),
    affinityPods: 0,
    pendingStorage: new Map(),
  };
}

function account(n: NodeInfo, p: PodInfo, sign: 1 | -1): void {
  n.requested.milliCpu += sign * p.requests.milliCpu;
  n.requested.memory += sign * p.requests.memory;
  n.requested.ephemeralStorage += sign * p.requests.ephemeralStorage;
  n.nonZero.milliCpu += sign * p.nonZero.milliCpu;
  n.nonZero.memory += sign * p.nonZero.memory;
  n.podCount += sign;
  for (const hp of p.hostPorts) {
    const ips = n.usedPorts.get(hp.key) ?? [];
    if (sign > 0) ips.push(hp.ip);
    else {
      const i = ips.indexOf(hp.ip);
      if (i >= 0) ips.splice(i, 1);
    }
    if (ips.length > 0) n.usedPorts.set(hp.key, ips);
    else n.usedPorts.delete(hp.key);
  }
  if (sign > 0) n.pods.set(p.key, p);
  else n.pods.delete(p.key);
  if (p.affinity) n.affinityPods += sign;
  for (const x of p.storage ?? []) {
    if (sign > 0) n.pendingStorage.set(x.claim, { base: x.base, bytes: x.bytes });
    else n.pendingStorage.delete(x.claim);
  }
  if (p.ownerUid) {
    const c = (n.ownerCounts.get(p.ownerUid) ?? 0) + sign;
    if (c > 0) n.ownerCounts.set(p.ownerUid, c);
    else n.ownerCounts.delete(p.ownerUid);
  }
}

/** The scheduler's view of the cluster, updated from informer events. */
export class SchedulerCache {
  private readonly nodes = new Map<string, NodeInfo>();
  /** pod key → (node, info) for every pod accounted on a node (bound or assumed) */
  private readonly placed = new Map<string, { node: string; info: PodInfo }>();
  /** the node list in a stable order, rebuilt lazily after node adds/removes */
  private order: NodeInfo[] | undefined;

  upsertNode(obj: KubeObject): void {
    const name = obj.metadata.name ?? "";
    const fresh = newNodeInfo(obj);
    const old = this.nodes.get(name);
    this.nodes.set(name, fresh);
    if (!old) {
      this.order = undefined;
      // pods seen before their node (informer order) are accounted now
      for (const { node, info } of this.placed.values()) if (node === name) account(fresh, info, 1);
      return;
    }
    // what the pods use does not change with the node object: carry it over
    fresh.requested = old.requested;
    fresh.nonZero = old.nonZero;
    fresh.podCount = old.podCount;
    fresh.usedPorts = old.usedPorts;
    fresh.ownerCounts = old.ownerCounts;
    fresh.pods = old.pods;
    fresh.affinityPods = old.affinityPods;
    fresh.pendingStorage = old.pendingStorage;
    if (this.order) this.order[this.order.indexOf(old)] = fresh;
  }

  removeNode(name: string): void {
    if (this.nodes.delete(name)) this.order = undefined;
  }

  /** account a pod on a node (replaces any earlier accounting of the same pod) */
  place(info: PodInfo, node: string): void {
    this.forget(info.key);
    this.placed.set(info.key, { node, info });
    const n = this.nodes.get(node);
    if (n) account(n, info, 1);
  }

  forget(podKey: string): void {
    const prev = this.placed.get(podKey);
    if (!prev) return;
    this.placed.delete(podKey);
    const n = this.nodes.get(prev.node);
    if (n) account(n, prev.info, -1);
  }

  /** a claim got its volume: it no longer takes space in flight on any node */
  claimBound(claim: string): void {
    for (const { node, info } of this.placed.values()) {
      if (!info.storage?.some((x) => x.claim === claim)) continue;
      info.storage = info.storage.filter((x) => x.claim !== claim);
      this.nodes.get(node)?.pendingStorage.delete(claim);
    }
  }

  placedOn(podKey: string): string | undefined {
    return this.placed.get(podKey)?.node;
  }

  node(name: string): NodeInfo | undefined {
    return this.nodes.get(name);
  }

  list(): readonly NodeInfo[] {
    if (!this.order) this.order = [...this.nodes.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    return this.order;
  }

  get size(): number {
    return this.nodes.size;
  }
}
