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

  /**
   * cpuProfDir: run the worker with --cpu-prof into that directory; the worker also writes
   * marks-PID.json there (the monotonic µs of each heal, the clock of the profile's startTime) so
   * a profile can be cut to one reconvergence round (cpu-profile-summary.ts --from/--to)
   */
  /**
   * bundle: run this build of the worker (agent-worker-bundle.ts: the agent's own bundling)
   * instead of bench/lib/sync-agents.ts from source under tsx
   */
  constructor(opts: { cpuProfDir?: string; bundle?: string } = {}) {
    const prof = opts.cpuProfDir;
    const profArgs = prof ? ["--cpu-prof", `--cpu-prof-dir=${prof}`] : [];
    this.proc = fork(opts.bundle ?? "bench/lib/sync-agents.ts", [], {
      execArgv: opts.bundle ? profArgs : ["--import", "tsx", ...profArgs],
      env: prof ? { ...process.env, EK_WORKER_MARKS_DIR: prof } : process.env,
      stdio: "inherit",
    });
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
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill("SIGKILL");
  }

  /** Resolves when the process has exited, or after `ms` (a --cpu-prof profile is written at exit). */
  exited(ms: number): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.proc.once("exit", () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

/**
 * Asks every worker to stop its agents (10 s at most), gives each 10 s more to exit by itself
 * (it writes its CPU profile then, under --worker-cpu-prof), then kills what is left.
 */
export async function stopWorkers(workers: AgentWorker[]): Promise<void> {
  await Promise.race([
    Promise.all(workers.map((w) => w.call({ cmd: "stop" }).catch(() => {}))),
    new Promise((r) => setTimeout(r, 10_000)),
  ]);
  await Promise.all(workers.map((w) => w.exited(10_000)));
  for (const w of workers) w.kill();
}
