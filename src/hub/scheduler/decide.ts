/**
 * One scheduling decision: filter the nodes, score the feasible ones, pick the best — or
 * explain, in upstream's FailedScheduling wording, why no node fits.
 *
 * Design notes
 * - Like upstream, filtering stops once enough feasible nodes are found
 *   (numFeasibleNodesToFind: adaptive percentage 50% − nodes/125, at least 5% and at least 100
 *   nodes) and the next pod starts where this one stopped, so large clusters are sampled
 *   round-robin and every node gets its turn.
 * - Scores (0–100 each): least-allocated over CPU and memory (non-zero requests);
 *   spreading (weight 2) — the pod's own ScheduleAnyway topologySpreadConstraints when it
 *   has constraints, else the pods of the same controller (upstream's system-default
 *   PodTopologySpread); preferred inter-pod (anti-)affinity (weight 2). Ties go to the node
 *   found first in the rotation.
 * - The message is upstream's FitError: "0/N nodes are available: <count reason>, … ." with
 *   the reasons sorted as strings, then the preemption post-filter's own sentence. There is
 *   no preemption here, so nodes that could only be freed by evicting pods report "No
 *   preemption victims found for incoming pod" and the rest "Preemption is not helpful for
 *   scheduling".
 */
import { interPodAffinityScores } from "./inter-pod-affinity.js";
import type { NodeInfo } from "./node-info.js";
import { type FilterFailure, filterNode, type PodConstraints, spreadEnv } from "./predicates.js";
import { spreadScores } from "./topology-spread.js";

export type Decision = { node: string; evaluated: number } | { message: string };

const MIN_FEASIBLE_NODES = 100;
const MIN_PERCENTAGE = 5;

export function numFeasibleNodesToFind(all: number): number {
  if (all < MIN_FEASIBLE_NODES) return all;
  const pct = Math.max(MIN_PERCENTAGE, 50 - Math.floor(all / 125));
  return Math.max(MIN_FEASIBLE_NODES, Math.floor((all * pct) / 100));
}

function leastAllocated(c: PodConstraints, n: NodeInfo): number {
  const cpuCap = n.allocatable.milliCpu;
  const memCap = n.allocatable.memory;
  const cpuReq = n.nonZero.milliCpu + c.info.nonZero.milliCpu;
  const memReq = n.nonZero.memory + c.info.nonZero.memory;
  const cpu = cpuCap > 0 && cpuReq <= cpuCap ? ((cpuCap - cpuReq) * 100) / cpuCap : 0;
  const mem = memCap > 0 && memReq <= memCap ? ((memCap - memReq) * 100) / memCap : 0;
  return (cpu + mem) / 2;
}

export function fitErrorMessage(total: number, failures: readonly FilterFailure[]): string {
  const reasons = new Map<string, number>();
  let helpless = 0;
  for (const f of failures) {
    for (const r of f.reasons) reasons.set(r, (reasons.get(r) ?? 0) + 1);
    if (f.unresolvable) helpless++;
  }
  const hist = (m: Map<string, number>) =>
    [...m]
      .map(([r, n]) => `${n} ${r}`)
      .sort()
      .join(", ");
  const pre = new Map<string, number>();
  if (failures.length - helpless > 0)
    pre.set("No preemption victims found for incoming pod", failures.length - helpless);
  if (helpless > 0) pre.set("Preemption is not helpful for scheduling", helpless);
  // upstream's ErrNoNodesAvailable
  if (total === 0) return "no nodes available to schedule pods";
  return `0/${total} nodes are available: ${hist(reasons)}. preemption: 0/${total} nodes are available: ${hist(pre)}.`;
}

export class Decider {
  private next = 0;

  decide(c: PodConstraints, nodes: readonly NodeInfo[]): Decision {
    const total = nodes.length;
    if (total === 0) return { message: fitErrorMessage(0, []) };
    const want = numFeasibleNodesToFind(total);
    const feasible: NodeInfo[] = [];
    const failures: FilterFailure[] = [];
    let i = 0;
    const start = this.next % total;
    for (; i < total && feasible.length < want; i++) {
      const n = nodes[(start + i) % total]!;
      const f = filterNode(c, n);
      if (f) failures.push(f);
      else feasible.push(n);
    }
    this.next = (start + i) % total;
    if (feasible.length === 0) return { message: fitErrorMessage(total, failures) };
    if (feasible.length === 1) return { node: feasible[0]!.name, evaluated: i };
    const explicitSpread = c.spreadConstraints.length > 0;
    const spread = explicitSpread
      ? spreadScores(c.info, c.spreadConstraints, feasible, nodes, spreadEnv(c))
      : undefined;
    const affinity = interPodAffinityScores(c.info, feasible, nodes, c.nsLabels);
    const owner = explicitSpread ? undefined : c.info.ownerUid;
    let maxOwned = 0;
    if (owner) for (const n of feasible) maxOwned = Math.max(maxOwned, n.ownerCounts.get(owner) ?? 0);
    let best = feasible[0]!;
    let bestScore = -1;
    for (const n of feasible) {
      let score = leastAllocated(c, n);
      if (owner) {
        const owned = n.ownerCounts.get(owner) ?? 0;
        score += maxOwned === 0 ? 200 : (200 * (maxOwned - owned)) / maxOwned;
      }
      if (spread) score += 2 * (spread.get(n.name) ?? 0);
      if (affinity) score += 2 * (affinity.get(n.name) ?? 0);
      if (score > bestScore) {
        bestScore = score;
        best = n;
      }
    }
    return { node: best.name, evaluated: i };
  }
}
