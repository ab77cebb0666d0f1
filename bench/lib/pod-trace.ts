/**
 * Where a pod's apply → Running time goes: the agent's phase marks (`podTrace` debug lines,
 * src/edge-agent/pods/sync-context.ts, written when the agent runs with --log-level debug)
 * between the bench's create request and its watch seeing Running. All on one machine, so the
 * agent's log clock and the bench's wall clock agree (to pino's millisecond).
 *
 * Phases: created (bench) → queued (desired change reached the pod manager: hub write, node
 * sync, MQTT, agent cache) → sync (a worker took it) → images → sandbox (created + started) →
 * network (veth + IPAM) → started (app containers) → reported (status queued to the hub) →
 * running (the bench's watch saw phase Running: outbox, MQTT, hub status write, watch).
 */
import { readFileSync } from "node:fs";
import { median } from "./stats.js";

export const PHASES = ["queued", "sync", "images", "sandbox", "network", "started", "reported"] as const;

interface Mark {
  uid: string;
  phase: string;
  at: number;
}

/** The podTrace marks of the agent log written after byte `from`. */
export function readMarks(logFile: string, from: number): Mark[] {
  const text = readFileSync(logFile).subarray(from).toString("utf8");
  const marks: Mark[] = [];
  for (const line of text.split("\n")) {
    if (!line.includes('"podTrace"')) continue;
    try {
      const j = JSON.parse(line) as { podTrace?: string; podUid?: string; time?: string };
      if (j.podTrace && j.podUid && j.time)
        marks.push({ uid: j.podUid, phase: j.podTrace, at: Date.parse(j.time) });
    } catch {
      // a line cut by the read: skip it
    }
  }
  return marks;
}

/**
 * Median per phase over the batch's pods: `at` = ms after the pod's create request, `step` = ms
 * since the previous phase the pod passed. `created`/`running` are wall-clock ms per pod uid.
 */
export function phaseBreakdown(
  marks: readonly Mark[],
  created: ReadonlyMap<string, number>,
  running: ReadonlyMap<string, number>,
): Record<string, { atMs: number; stepMs: number; pods: number }> {
  const first = new Map<string, Map<string, number>>();
  for (const m of marks) {
    if (!created.has(m.uid)) continue;
    const per = first.get(m.uid) ?? new Map<string, number>();
    if (!per.has(m.phase)) per.set(m.phase, m.at);
    first.set(m.uid, per);
  }
  const out: Record<string, { atMs: number; stepMs: number; pods: number }> = {};
  for (const phase of [...PHASES, "running"]) {
    const at: number[] = [];
    const step: number[] = [];
    for (const [uid, t0] of created) {
      const per = first.get(uid);
      const t = phase === "running" ? running.get(uid) : per?.get(phase);
      if (t === undefined) continue;
      at.push(t - t0);
      let prev = t0;
      for (const p of PHASES) {
        if (p === phase) break;
        prev = per?.get(p) ?? prev;
      }
      step.push(t - prev);
    }
    if (at.length > 0)
      out[phase] = { atMs: Math.round(median(at)), stepMs: Math.round(median(step)), pods: at.length };
  }
  return out;
}
