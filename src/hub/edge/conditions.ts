/**
 * Status condition bookkeeping shared by node and pod status intake. Pure.
 *
 * Design notes
 * - The hub stamps heartbeat and transition times with its own clock: a Raspberry Pi has no
 *   real-time clock and may report 1970 until NTP catches up, and the node lifecycle logic
 *   compares these times with the hub's clock anyway.
 * - Conditions another component owns (PodScheduled from the scheduler, NetworkUnavailable,
 *   DisruptionTarget …) are kept when the agent's report does not mention them.
 */
import { createHash } from "node:crypto";
import { isObject } from "../../api/object.js";

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastProbeTime?: string | null;
  lastTransitionTime?: string;
  [k: string]: unknown;
}

export function conditionsOf(status: unknown): Condition[] {
  if (!isObject(status) || !Array.isArray(status.conditions)) return [];
  return status.conditions.filter(
    (c): c is Condition => isObject(c) && typeof c.type === "string" && typeof c.status === "string",
  );
}

/**
 * Reported conditions over the stored ones: times from `at` (heartbeat only for node
 * conditions), transition time kept while the status did not change.
 */
export function mergeConditions(
  stored: Condition[],
  reported: Condition[],
  at: string,
  opts: { heartbeat: boolean },
): Condition[] {
  const out: Condition[] = [];
  for (const c of reported) {
    const prev = stored.find((s) => s.type === c.type);
    const next: Condition = { ...c };
    if (opts.heartbeat) next.lastHeartbeatTime = at;
    next.lastTransitionTime =
      prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : at;
    out.push(next);
  }
  for (const s of stored) if (!reported.some((c) => c.type === s.type)) out.push(s);
  return out;
}

/**
 * A fingerprint of a status that ignores heartbeat and transition times (for "changed?"): a
 * SHA-256 of its JSON, because the hub keeps one per node (NodeHeartbeats) and the JSON itself
 * (≈1.5–2 KB per node, kept as V8 cons strings) was ≈10 MB of hub heap at 5,000 nodes (issue 4).
 */
export function statusFingerprint(status: unknown): string {
  let json: string;
  if (!isObject(status)) json = JSON.stringify(status ?? null);
  else {
    const conditions = conditionsOf(status)
      .map(({ lastHeartbeatTime: _h, lastTransitionTime: _t, lastProbeTime: _p, ...rest }) => rest)
      .sort((a, b) => a.type.localeCompare(b.type));
    json = JSON.stringify({ ...status, conditions });
  }
  return createHash("sha256").update(json).digest("base64");
}

export function readyStatus(status: unknown): string | undefined {
  return conditionsOf(status).find((c) => c.type === "Ready")?.status;
}
