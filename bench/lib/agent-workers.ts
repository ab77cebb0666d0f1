/**
 * The parent's side of bench/lib/sync-agents.ts: one forked worker process holding many
 * simulated agents, driven by request/response messages (answered in order).
 */
import { type ChildProcess, fork } from "node:child_process";
import type { WorkerCommand } from "./sync-agents.js";

type Reply = { ok: boolean; value?: unknown; error?: string };

export class AgentWorker {
  private readonly proc: ChildProcess;
  private queue: Array<(m: Reply) => void> = [];

  constructor() {
    this.proc = fork("bench/lib/sync-agents.ts", [], { execArgv: ["--import", "tsx"], stdio: "inherit" });
    this.proc.on("message", (m: Reply) => this.queue.shift()?.(m));
  }

  call<T>(cmd: WorkerCommand): Promise<T> {
    return new Promise((resolve, reject) => {
      this.queue.push((m) => (m.ok ? resolve(m.value as T) : reject(new Error(m.error))));
      this.proc.send(cmd);
    });
  }

  get pid(): number {
    return this.proc.pid ?? 0;
  }

  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill("SIGKILL");
  }
}

/** Asks every worker to stop its agents (10 s at most), then kills the processes. */
export async function stopWorkers(workers: AgentWorker[]): Promise<void> {
  await Promise.race([
    Promise.all(workers.map((w) => w.call({ cmd: "stop" }).catch(() => {}))),
    new Promise((r) => setTimeout(r, 10_000)),
  ]);
  for (const w of workers) w.kill();
}
