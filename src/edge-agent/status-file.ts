/**
 * status.json: the running agent's view of its link, for `edge-agent status` (a separate process
 * that must work whether the agent runs or not, and must not disturb it).
 *
 * Design notes
 * - Written atomically (tmp + rename) and at most every `minIntervalMs` (default 2 s): a link
 *   that flaps ten times a second costs one SD-card write per interval, not ten; the last state is
 *   always flushed on stop.
 * - "Running" is decided by the reader: the file names the agent's pid, a clean stop marks it
 *   stopped, and a pid that no longer exists (crash, kill -9) reads as not running too.
 */
import { readFileSync } from "node:fs";
import { isObject } from "../api/object.js";
import { writeFileAtomic } from "../lib/fsutil.js";
import type { SyncStats } from "../transport/sync-agent.js";

export interface AgentStatus {
  pid: number;
  node: string;
  hub: string;
  mqttUrl: string;
  startedAt: string;
  updatedAt: string;
  /** the agent stopped cleanly */
  stopped: boolean;
  connected: boolean;
  /** when `connected` last changed */
  since: string;
  lastError?: string;
  /** next reconnect attempt in ms while disconnected */
  retryInMs?: number;
  watermark: number;
  outbox: number;
  /** how the hub answered this run's hellos (resumed = delta, refetched = snapshot) */
  sync?: SyncStats;
}

export class StatusFile {
  private state: AgentStatus;
  private timer: NodeJS.Timeout | undefined;
  private lastWrite = 0;

  constructor(
    private readonly path: string,
    initial: Omit<AgentStatus, "updatedAt">,
    private readonly minIntervalMs = 2000,
  ) {
    this.state = { ...initial, updatedAt: initial.startedAt };
  }

  get current(): Readonly<AgentStatus> {
    return this.state;
  }

  /** Merges `patch`; the file follows within `minIntervalMs` (nothing is written if nothing changed). */
  update(patch: Partial<AgentStatus>): void {
    const before = this.state as unknown as Record<string, unknown>;
    const same = (a: unknown, b: unknown) =>
      a === b || (typeof a === "object" && JSON.stringify(a) === JSON.stringify(b));
    if (Object.entries(patch).every(([k, v]) => same(before[k], v))) return;
    this.state = { ...this.state, ...patch };
    if (patch.lastError === undefined && "lastError" in patch) delete this.state.lastError;
    if (this.timer) return;
    const wait = Math.max(0, this.lastWrite + this.minIntervalMs - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
    this.timer.unref();
  }

  /** Writes now (also cancels a scheduled write). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.lastWrite = Date.now();
    this.state.updatedAt = new Date(this.lastWrite).toISOString();
    writeFileAtomic(this.path, `${JSON.stringify(this.state, null, 2)}\n`);
  }
}

/** Reads status.json; undefined when there is none (the agent never ran in this data dir). */
export function readStatusFile(path: string): AgentStatus | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  try {
    const v: unknown = JSON.parse(text);
    if (!isObject(v) || typeof v.pid !== "number" || typeof v.connected !== "boolean") return undefined;
    return v as unknown as AgentStatus;
  } catch {
    return undefined;
  }
}

/** Whether the agent that wrote `s` is still alive. */
export function agentRunning(s: AgentStatus | undefined, alive = pidAlive): boolean {
  return s !== undefined && !s.stopped && alive(s.pid);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
