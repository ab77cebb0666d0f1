/**
 * Exec: how the CNI runs its few system tools (ip, bridge, nft, iptables, sysctl).
 *
 * Design notes
 * - Every mechanism in src/cni takes an `Exec` instead of calling child_process itself, so the
 *   same code programs the host (production: `hostExec()`) or any network namespace
 *   (`netnsExec(path)`: tests run "nodes" and "pods" as namespaces).
 * - Namespaces are entered with `nsenter --net=PATH`, not `ip netns exec`: nsenter works with
 *   any namespace file (/run/netns/X, /proc/PID/ns/net, a Docker sandbox) and does not remount
 *   /sys (see recipes/netns-cluster.sh). Only the network namespace changes, so absolute paths
 *   (another namespace file, a SQLite file) still resolve the same way.
 * - execFile, never a shell: arguments are passed verbatim, nothing is interpolated.
 * - A failed command becomes a `CommandError` naming the full command line and its stderr,
 *   which is what a person debugging a node needs first.
 */
import { execFile } from "node:child_process";

export interface ExecOptions {
  /** written to the command's stdin (nft -f -) */
  input?: string;
  /** kill the command after this long (default 30 s): a hung tool must not hang the agent */
  timeoutMs?: number;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
}

/** Runs `file args…` somewhere (the host, a namespace) and resolves with its output, or rejects with CommandError. */
export type Exec = (file: string, args: readonly string[], opts?: ExecOptions) => Promise<ExecResult>;

export class CommandError extends Error {
  readonly command: string;
  readonly exitCode: number | null;
  readonly stderr: string;
  constructor(command: string, exitCode: number | null, stderr: string, cause?: unknown) {
    const detail = stderr.trim() || (cause instanceof Error ? cause.message : "no output");
    super(`command failed (exit ${exitCode ?? "signal"}): ${command}: ${detail}`, { cause });
    this.name = "CommandError";
    this.command = command;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** Quote an argument for the error text only (the command itself never goes through a shell). */
function showArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`;
}

export function commandLine(file: string, args: readonly string[]): string {
  return [file, ...args].map(showArg).join(" ");
}

/** Runs commands in the namespaces of this process (production: the host). */
export function hostExec(): Exec {
  return (file, args, opts = {}) =>
    new Promise<ExecResult>((resolve, reject) => {
      const child = execFile(
        file,
        [...args],
        { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
        (err, stdout, stderr) => {
          if (err) {
            const code = typeof err.code === "number" ? err.code : null;
            reject(new CommandError(commandLine(file, args), code, stderr, err));
            return;
          }
          resolve({ stdout, stderr });
        },
      );
      if (opts.input !== undefined) child.stdin?.end(opts.input);
      else child.stdin?.end();
    });
}

/**
 * Runs commands inside the network namespace at `netnsPath` (e.g. /run/netns/node1 or
 * /proc/1234/ns/net). Errors show the inner command, since that is the one that failed.
 */
export function netnsExec(netnsPath: string, base: Exec = hostExec()): Exec {
  return async (file, args, opts) => {
    try {
      return await base("nsenter", [`--net=${netnsPath}`, "--", file, ...args], opts);
    } catch (err) {
      if (err instanceof CommandError) {
        throw new CommandError(
          `${commandLine(file, args)} (in netns ${netnsPath})`,
          err.exitCode,
          err.stderr,
          err,
        );
      }
      throw err;
    }
  };
}
