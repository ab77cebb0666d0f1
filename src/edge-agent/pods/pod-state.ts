/**
 * What the pod manager remembers about one pod between syncs. Nothing here is needed to keep a
 * pod running: after an agent restart it is rebuilt empty, the runtime's labels say what runs,
 * and the worst that is lost is back-off history and probe results (re-learned within a
 * period), never a container.
 */
import type { KubeObject } from "../../api/object.js";
import type { EventType, StatusReporter } from "./ports.js";
import type { ContainerProbes, ProbeKind } from "./probe-worker.js";
import type { Waiting } from "./status.js";

/** Identical events within this window are sent once (upstream aggregates them into a count). */
const EVENT_REPEAT_MS = 60_000;

export class PodState {
  obj: KubeObject;
  readonly uid: string;
  /** reasons for containers that do not run, recomputed on every sync */
  readonly waiting = new Map<string, Waiting>();
  lastStatus?: Record<string, unknown>;
  lastStatusJson?: string;
  startTime?: string;
  podIP?: string;
  /** sandbox the network was set up for; a new sandbox means a new namespace and IP */
  netSandboxId?: string;
  readonly probes = new Map<string, { containerID: string; set: ContainerProbes }>();
  /** containers a liveness/startup probe asked to restart, by name */
  readonly kills = new Map<string, { containerID: string; kind: ProbeKind }>();
  readonly pullFailedAt = new Map<string, number>();
  /** the container ids we have announced (Created/Started events) */
  readonly announced = new Set<string>();
  private readonly recent = new Map<string, number>();
  abort = new AbortController();
  /** graceful termination done (deletionTimestamp) */
  terminated = false;
  /** sandbox of a finished (Succeeded/Failed) pod stopped */
  finished = false;

  constructor(obj: KubeObject) {
    this.obj = obj;
    this.uid = obj.metadata.uid ?? "";
  }

  event(reporter: StatusReporter, now: number, type: EventType, reason: string, message: string): void {
    const key = `${type}\u0000${reason}\u0000${message}`;
    const last = this.recent.get(key);
    if (last !== undefined && now - last < EVENT_REPEAT_MS) return;
    this.recent.set(key, now);
    if (this.recent.size > 200) {
      for (const [k, t] of this.recent) if (now - t >= EVENT_REPEAT_MS) this.recent.delete(k);
    }
    reporter.recordEvent(this.obj, type, reason, message);
  }

  stopProbes(): void {
    for (const p of this.probes.values()) p.set.stop();
    this.probes.clear();
  }
}
