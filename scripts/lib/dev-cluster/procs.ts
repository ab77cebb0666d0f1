/**
 * Processes of the dev cluster: started detached (they outlive `dev-cluster up`), output to a
 * log file, remembered by pid in the state file, and stopped only by that pid.
 *
 * Design notes
 * - Never by name: a pid is signalled only while /proc/<pid>/cmdline still contains the marker
 *   recorded with it (the cluster's own directory), so a pid reused by an unrelated process
 *   after a reboot or a crash is left alone.
 * - stop = SIGTERM, wait up to `graceMs`, then SIGKILL and wait: dockerd needs a few seconds to
 *   stop its containerd, the agents and the hub shut down cleanly on SIGTERM.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";

export interface RecordedProc {
  pid: number;
  /** a string that must be in the process's command line for it to be ours */
  marker: string;
  log: string;
}

export function spawnDetached(
  file: string,
  args: string[],
  opts: { log: string; marker: string; env?: NodeJS.ProcessEnv; cwd?: string },
): RecordedProc {
  const fd = openSync(opts.log, "a");
  try {
    const child = spawn(file, args, {
      detached: true,
      stdio: ["ignore", fd, fd],
      env: opts.env ?? process.env,
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    if (child.pid === undefined) throw new Error(`cannot start ${file}: is it installed?`);
    child.unref();
    return { pid: child.pid, marker: opts.marker, log: opts.log };
  } finally {
    closeSync(fd);
  }
}

/** True while the pid runs and is still the process we started. */
export function isOurs(p: RecordedProc): boolean {
  try {
    const cmd = readFileSync(`/proc/${p.pid}/cmdline`, "utf8").replace(/\0/g, " ");
    const stat = readFileSync(`/proc/${p.pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && cmd.includes(p.marker);
  } catch {
    return false;
  }
}

/**
 * True while the pid exists and is not a zombie — for waiting on a process this invocation just
 * started (right after spawn its command line is still the parent's, until exec).
 */
export function isAlive(p: RecordedProc): boolean {
  try {
    const stat = readFileSync(`/proc/${p.pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

async function waitGone(p: RecordedProc, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isOurs(p)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !isOurs(p);
}

/** How a stop ended: not running, gone within the grace after SIGTERM, or SIGKILLed. */
export type StopOutcome = "not-running" | "exited" | "killed";

/** Stops one recorded process (no-op when it is gone or the pid is no longer ours). */
export async function stopProc(p: RecordedProc | undefined, graceMs = 10_000): Promise<StopOutcome> {
  if (!p || !isOurs(p)) return "not-running";
  try {
    process.kill(p.pid, "SIGTERM");
  } catch {
    return "not-running";
  }
  if (await waitGone(p, graceMs)) return "exited";
  try {
    process.kill(p.pid, "SIGKILL");
  } catch {
    return "exited";
  }
  await waitGone(p, 5000);
  return "killed";
}

/** The last lines of a log, for error messages. */
export function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
