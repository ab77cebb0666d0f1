/**
 * nftables rendering of an LbPlan: the fixed skeleton of table `ip edgekube-lb` and, per service
 * port, its own chains, sets and map elements.
 *
 * Design notes (kube-proxy's nftables mode is the model)
 * - Dispatch is by verdict maps, not by one rule per service, so the per-packet cost does not
 *   grow with the number of services:
 *     service-ips         ClusterIP|LB IP|external IP . proto . port → goto svc-/local-/ext- chain
 *     service-nodeports   proto . nodePort → goto ext- chain (on `fib daddr type local` addresses)
 *     no-endpoint-*       same keys → reject, for services without any usable endpoint
 *                         (drop for internalTrafficPolicy Local without a local one)
 * - Chains per service port:
 *     svc-…   (cluster) ClusterIP traffic from outside the pod network gets the masquerade
 *             mark; then sticky-client checks (sessionAffinity) and
 *             `numgen random mod N vmap { i : goto ep-… }` over all endpoints
 *     local-… the same over this node's endpoints (a traffic policy is Local)
 *     ext-…   NodePort/LB entry: Cluster policy = mark + goto svc-…; Local policy = no SNAT,
 *             pods and the node itself still short-circuit to svc-…, no local endpoint = drop
 *     ep-…    hairpin mark (pod reaching itself through the service), affinity update, DNAT
 * - Masquerade: `mark-for-masquerade` ORs 0x4000 into the packet mark; the postrouting chain
 *   returns for unmarked packets, clears the bit, then masquerades. Clearing it matters: the
 *   VXLAN-encapsulated copy of the packet inherits the mark and would otherwise be NATed too.
 *   src/cni/masquerade.ts returns early for marked packets and leaves them to this chain.
 * - Everything is emitted as flat `add …` commands (one per line) so a service's rules can be
 *   replaced in the same `nft -f -` transaction that adds or removes others.
 */
import type { LbPlan, ServicePortPlan } from "./types.js";

export const LB_TABLE = "edgekube-lb";
export const MASQ_MARK = "0x4000";
const T = `ip ${LB_TABLE}`;

export interface NftElement {
  map: "service-ips" | "service-nodeports" | "no-endpoint-services" | "no-endpoint-nodeports";
  key: string;
  value: string;
}

/** What one service port owns in the table. */
export interface NftServiceRules {
  id: string;
  chains: { name: string; rules: string[] }[];
  sets: { name: string; timeoutSeconds: number }[];
  elements: NftElement[];
}

/** The table skeleton: base chains, maps and helper chains, shared by all services. */
export function nftSkeleton(): string[] {
  return [
    `add table ${T}`,
    `add map ${T} service-ips { type ipv4_addr . inet_proto . inet_service : verdict; }`,
    `add map ${T} service-nodeports { type inet_proto . inet_service : verdict; }`,
    `add map ${T} no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict; }`,
    `add map ${T} no-endpoint-nodeports { type inet_proto . inet_service : verdict; }`,
    `add chain ${T} mark-for-masquerade`,
    `add rule ${T} mark-for-masquerade meta mark set meta mark | ${MASQ_MARK}`,
    `add chain ${T} reject-chain`,
    // A TCP reset reaches the client whatever routes it has; an ICMP error sent from the forward
    // path was seen not to arrive (measured in test namespaces), so TCP gets the reset.
    `add rule ${T} reject-chain meta l4proto tcp reject with tcp reset`,
    `add rule ${T} reject-chain reject`,
    `add chain ${T} services`,
    `add rule ${T} services ip daddr . meta l4proto . th dport vmap @service-ips`,
    `add rule ${T} services fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports`,
    `add chain ${T} nat-prerouting { type nat hook prerouting priority dstnat; policy accept; }`,
    `add rule ${T} nat-prerouting jump services`,
    `add chain ${T} nat-output { type nat hook output priority -100; policy accept; }`,
    `add rule ${T} nat-output jump services`,
    `add chain ${T} nat-postrouting { type nat hook postrouting priority srcnat; policy accept; }`,
    `add rule ${T} nat-postrouting meta mark & ${MASQ_MARK} == 0 return`,
    `add rule ${T} nat-postrouting meta mark set meta mark ^ ${MASQ_MARK}`,
    `add rule ${T} nat-postrouting masquerade fully-random`,
    `add chain ${T} endpoints-check`,
    `add rule ${T} endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services`,
    `add rule ${T} endpoints-check fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports`,
    ...(["input", "forward", "output"] as const).flatMap((hook) => [
      `add chain ${T} filter-${hook} { type filter hook ${hook} priority -110; policy accept; }`,
      `add rule ${T} filter-${hook} ct state new jump endpoints-check`,
    ]),
  ];
}

function balance(p: ServicePortPlan, local: boolean, clusterCIDR: string): string[] {
  const eps = local ? p.localEndpoints : p.clusterEndpoints;
  const rules: string[] = [];
  // Only ClusterIP traffic matches this guard: external traffic arrives with daddr = a node or
  // LB address and has already been marked (or deliberately not) by the ext- chain.
  rules.push(
    `ip daddr ${p.clusterIP} ${p.protocol} dport ${p.port} ip saddr != ${clusterCIDR} jump mark-for-masquerade`,
  );
  for (const e of eps) if (e.affinitySet) rules.push(`ip saddr @${e.affinitySet} goto ${e.chain}`);
  if (eps.length > 0) {
    const arms = eps.map((e, i) => `${i} : goto ${e.chain}`).join(", ");
    rules.push(`numgen random mod ${eps.length} vmap { ${arms} }`);
  } else if (local) {
    rules.push("drop");
  }
  return rules;
}

function externalChain(p: ServicePortPlan, clusterCIDR: string): string[] {
  const cluster = p.chains.cluster;
  if (!p.externalPolicyLocal) return ["jump mark-for-masquerade", `goto ${cluster}`];
  return [
    // Pods and the node itself have no client IP to preserve: use every endpoint.
    `ip saddr ${clusterCIDR} goto ${cluster}`,
    "fib saddr type local jump mark-for-masquerade",
    `fib saddr type local goto ${cluster}`,
    p.localEndpoints.length > 0 ? `goto ${p.chains.local}` : "drop",
  ];
}

/** Chains, sets and map elements of one service port. */
export function nftServiceRules(p: ServicePortPlan, clusterCIDR: string): NftServiceRules {
  const chains: NftServiceRules["chains"] = [];
  const sets: NftServiceRules["sets"] = [];
  const elements: NftElement[] = [];
  const usable = p.clusterEndpoints.length > 0;
  chains.push({ name: p.chains.cluster, rules: balance(p, false, clusterCIDR) });
  if (p.chains.local) {
    chains.push({ name: p.chains.local, rules: balance(p, true, clusterCIDR) });
  }
  if (p.chains.external) chains.push({ name: p.chains.external, rules: externalChain(p, clusterCIDR) });
  for (const e of p.clusterEndpoints) {
    const rules = [`ip saddr ${e.ip} jump mark-for-masquerade`];
    if (e.affinitySet) {
      sets.push({ name: e.affinitySet, timeoutSeconds: p.affinityTimeoutSeconds ?? 10800 });
      rules.push(`update @${e.affinitySet} { ip saddr }`);
    }
    rules.push(`meta l4proto ${p.protocol} dnat to ${e.ip}:${e.port}`);
    chains.push({ name: e.chain, rules });
  }
  const internal = p.internalPolicyLocal ? p.chains.local : p.chains.cluster;
  const vip = `${p.clusterIP} . ${p.protocol} . ${p.port}`;
  const noLocal = p.internalPolicyLocal && p.localEndpoints.length === 0;
  if (!usable) elements.push({ map: "no-endpoint-services", key: vip, value: "goto reject-chain" });
  // internalTrafficPolicy Local without a local endpoint: dropped, not rejected (kube-proxy's
  // verdict: the service has endpoints, just none this node may use for ClusterIP traffic)
  else if (noLocal) elements.push({ map: "no-endpoint-services", key: vip, value: "drop" });
  else elements.push({ map: "service-ips", key: vip, value: `goto ${internal}` });
  const ext = p.chains.external;
  if (ext) {
    for (const ip of p.externalIPs) {
      const key = `${ip} . ${p.protocol} . ${p.port}`;
      if (usable) elements.push({ map: "service-ips", key, value: `goto ${ext}` });
      else elements.push({ map: "no-endpoint-services", key, value: "goto reject-chain" });
    }
    if (p.nodePort !== undefined) {
      const key = `${p.protocol} . ${p.nodePort}`;
      if (usable) elements.push({ map: "service-nodeports", key, value: `goto ${ext}` });
      else elements.push({ map: "no-endpoint-nodeports", key, value: "goto reject-chain" });
    }
  }
  return { id: p.id, chains, sets, elements };
}

export function renderAll(plan: LbPlan): Map<string, NftServiceRules> {
  return new Map(plan.ports.map((p) => [p.id, nftServiceRules(p, plan.clusterCIDR)]));
}

function addCommands(r: NftServiceRules): { declare: string[]; fill: string[]; elements: string[] } {
  return {
    declare: [
      ...r.sets.map(
        (s) =>
          `add set ${T} ${s.name} { type ipv4_addr; flags dynamic,timeout; timeout ${s.timeoutSeconds}s; }`,
      ),
      ...r.chains.map((c) => `add chain ${T} ${c.name}`),
    ],
    fill: r.chains.flatMap((c) => c.rules.map((rule) => `add rule ${T} ${c.name} ${rule}`)),
    elements: r.elements.map((e) => `add element ${T} ${e.map} { ${e.key} : ${e.value} }`),
  };
}

/** A script that replaces the whole table atomically (first sync, or recovery after a failure). */
export function fullScript(rules: Iterable<NftServiceRules>): string {
  const parts = [`add table ${T}`, `delete table ${T}`, ...nftSkeleton()];
  const fills: string[] = [];
  const elements: string[] = [];
  for (const r of rules) {
    const c = addCommands(r);
    parts.push(...c.declare);
    fills.push(...c.fill);
    elements.push(...c.elements);
  }
  return [...parts, ...fills, ...elements, ""].join("\n");
}

/**
 * One transaction that turns `before` into `after`, touching only service ports whose rules
 * differ. Order matters inside the transaction: new chains exist before rules jump to them,
 * and a chain is deleted only after every rule or element referring to it is gone.
 */
export function diffScript(
  before: ReadonlyMap<string, NftServiceRules>,
  after: ReadonlyMap<string, NftServiceRules>,
): { script: string; changed: string[] } {
  const declare: string[] = [];
  const flush: string[] = [];
  const delElements: string[] = [];
  const fill: string[] = [];
  const addElements: string[] = [];
  const drop: string[] = [];
  const changed: string[] = [];
  const same = (a: NftServiceRules, b: NftServiceRules) => JSON.stringify(a) === JSON.stringify(b);
  for (const [id, old] of before) {
    const next = after.get(id);
    if (next && same(old, next)) continue;
    changed.push(id);
    const keepChains = new Set(next?.chains.map((c) => c.name) ?? []);
    const keepSets = new Set(next?.sets.map((s) => s.name) ?? []);
    for (const e of old.elements) delElements.push(`delete element ${T} ${e.map} { ${e.key} }`);
    for (const c of old.chains) {
      flush.push(`flush chain ${T} ${c.name}`);
      if (!keepChains.has(c.name)) drop.push(`delete chain ${T} ${c.name}`);
    }
    for (const s of old.sets) if (!keepSets.has(s.name)) drop.push(`delete set ${T} ${s.name}`);
  }
  for (const [id, next] of after) {
    const old = before.get(id);
    if (old && same(old, next)) continue;
    if (!old) changed.push(id);
    const c = addCommands(next);
    // `add chain`/`add set` on an existing object is a no-op, so kept chains keep their handle.
    declare.push(...c.declare);
    fill.push(...c.fill);
    addElements.push(...c.elements);
  }
  const script = [...declare, ...flush, ...delElements, ...fill, ...addElements, ...drop];
  return { script: script.length ? `${script.join("\n")}\n` : "", changed };
}
