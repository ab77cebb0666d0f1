/**
 * The client of bench/api's timed lists: a process of its own (list-client-process.ts), as
 * kubectl is, instead of the load generator's process that has just sent 20,000 creates.
 *
 * Design notes
 * - Why: timed inside bench/api's own process after its create phase, the lists met that
 *   process's V8 heap, not the hub's. Its old generation sat within one young generation of
 *   its allocation limit (V8 starts incremental marking when the old space has less room left
 *   than the new space holds, and the creates had grown the new space to 16 MiB semi-spaces),
 *   so nearly every list ran a mark-compact in the client (`--trace-gc`: "[IncrementalMarking]
 *   Start (allocation limit): 8MB / 24MB", 3–14 ms pauses plus marking steps), most of them
 *   starting right after the request was sent. The client's CPU per JSON list was 30–55 ms
 *   against bench/list's 18, its first byte 3–20 ms against 1, while the hub's CPU per list
 *   and its GC inside the list windows were those of bench/list. On 2 shared cores the
 *   client's work also competes with the hub's for the second core.
 * - A fresh process measures what a user waits for: kubectl starts with a fresh heap too. The
 *   hub is the same process that took the creates, so what the lists measure about the hub is
 *   unchanged; only the bench's own heap history is out of the measurement.
 * - The child reports its CPU per list (process.cpuUsage), so a busy client shows up in the
 *   results instead of inflating the figures silently; the hub's CPU stays read from /proc by
 *   the caller around each call.
 */
import { type ChildProcess, fork } from "node:child_process";
import type { Target } from "./https-load.js";
import type { ListClientCommand, ListClientReply } from "./list-client-process.js";

type Reply = { ok: true; value: ListClientReply } | { ok: false; error: string };

export class ListClient {
  private readonly proc: ChildProcess;
  private readonly queue: Array<(m: Reply) => void> = [];
  private readonly ready: Promise<void>;

  constructor(private readonly target: Target) {
    this.proc = fork("bench/lib/list-client-process.ts", [], {
      execArgv: ["--import", "tsx"],
      stdio: "inherit",
    });
    this.ready = new Promise((resolve, reject) => {
      this.proc.once("spawn", () => resolve());
      this.proc.once("error", reject);
    });
    // a failed fork fails the first list(); not an unhandled rejection before it
    this.ready.catch(() => {});
    this.proc.on("message", (m: Reply) => this.queue.shift()?.(m));
    this.proc.on("exit", (code) => {
      for (const f of this.queue.splice(0))
        f({ ok: false, error: `the list client exited with code ${code}` });
    });
  }

  /**
   * Opens the child's kept-alive connection with a small GET, so that the first timed list
   * measures the hub's first list after the creates (its list code still cold), not this
   * fresh process's cold client code and TLS handshake (the later lists reuse the connection).
   */
  async warm(path = "/version"): Promise<void> {
    await this.list(path);
  }

  /**
   * GET `path` from the child, timed there to the last byte (listGet), with the child's CPU.
   * `target` defaults to the hub's; a floor server is timed by the same client through it.
   */
  async list(path: string, accept = "application/json", target = this.target): Promise<ListClientReply> {
    await this.ready;
    const cmd: ListClientCommand = {
      cmd: "list",
      url: target.url,
      ca: target.ca.toString(),
      ...(target.token ? { token: target.token } : {}),
      path,
      accept,
    };
    const m = await new Promise<Reply>((resolve) => {
      this.queue.push(resolve);
      this.proc.send(cmd);
    });
    if (!m.ok) throw new Error(`list client: ${m.error}`);
    return m.value;
  }

  /** the client process's id (its CPU can be read from /proc like the hub's) */
  get pid(): number {
    return this.proc.pid ?? 0;
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc.once("exit", r));
    this.proc.kill();
    await exited;
  }
}
