/**
 * The TLS floor of bench/sync: how long N TLS connects take, and what they cost the server,
 * when the server does nothing but TLS — measured in the same run, from the same worker
 * processes, source addresses, relays, certificates, SecureContexts and TLS options as the
 * simulated agents, against a bare node:tls server (tls-floor-server.ts) with the hub's
 * certificate, CA, ticket key and options. The restart storm and the reconvergence are then
 * reported as ratios to it: on one event loop nothing that reconnects N nodes can beat it.
 *
 * Design notes
 * - Three rounds, each a storm of all N at once: full handshakes (they also hand out the
 *   tickets), then resumed ones (what a reconnect storm is made of: the agents' links resume),
 *   both through the workers' relays like the agents' links; then resumed again straight to
 *   the server (resumedDirect): the relay costs the workers about as much CPU per connection
 *   as the TLS client, so on 2 cores the relayed rounds can be bound by the load generator.
 * - Server CPU from /proc/<pid>/stat before and after each round (10 ms ticks: at N in the
 *   thousands that is well below 1 % of a round), per handshake; the workers' CPU per
 *   handshake is the client side (TLS client plus the relay), for comparison with the agents'.
 * - Wall time runs from the command to the last worker's last connect: on a shared machine it
 *   moves with the load, the CPU per handshake much less (record `uptime` with it).
 */
import { type ChildProcess, fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { AgentWorker } from "./agent-workers.js";
import { cpuMs } from "./stats.js";
import type { FloorRound } from "./tls-floor-client.js";
import type { FloorServerCommand, FloorServerCounts } from "./tls-floor-server.js";

export interface FloorRoundResult {
  seconds: number;
  connected: number;
  resumed: number;
  full: number;
  failedAttempts: number;
  gaveUp: number;
  errors: Record<string, number>;
  serverCpuMsPerHandshake: number;
  workersCpuMsPerHandshake: number;
}

export interface TlsFloor {
  full: FloorRoundResult;
  resumed: FloorRoundResult;
  /** resumed, without the workers' relays (the load generator's own cost is smaller) */
  resumedDirect: FloorRoundResult;
  /** what the server counted over both rounds */
  server: FloorServerCounts;
}

class FloorServer {
  private readonly proc: ChildProcess;
  private queue: Array<(m: { ok: boolean; value?: unknown; error?: string }) => void> = [];

  constructor() {
    this.proc = fork("bench/lib/tls-floor-server.ts", [], {
      execArgv: ["--import", "tsx"],
      stdio: "inherit",
    });
    this.proc.on("message", (m: { ok: boolean; value?: unknown; error?: string }) => this.queue.shift()?.(m));
  }

  call<T>(cmd: FloorServerCommand): Promise<T> {
    return new Promise((resolve, reject) => {
      this.queue.push((m) => (m.ok ? resolve(m.value as T) : reject(new Error(m.error))));
      this.proc.send(cmd);
    });
  }

  get pid(): number {
    return this.proc.pid ?? 0;
  }

  stop(): void {
    if (this.proc.exitCode === null) this.proc.kill("SIGKILL");
  }
}

/** The floor for the agents the workers hold; `hubDir` is the hub's data dir (its tls/ files). */
export async function measureTlsFloor(workers: AgentWorker[], hubDir: string): Promise<TlsFloor> {
  const tls = join(hubDir, "tls");
  const server = new FloorServer();
  try {
    const port = await server.call<number>({
      cmd: "start",
      ca: readFileSync(join(tls, "ca.crt"), "utf8"),
      cert: readFileSync(join(tls, "server.crt"), "utf8"),
      key: readFileSync(join(tls, "server.key"), "utf8"),
      ticketKeys: readFileSync(join(tls, "mqtt-ticket.keys")).toString("hex"),
    });
    const round = async (direct = false): Promise<FloorRoundResult> => {
      const cpu0 = cpuMs(server.pid);
      const wcpu0 = workers.reduce((a, w) => a + cpuMs(w.pid), 0);
      const t0 = Date.now();
      const rs = await Promise.all(
        workers.map((w) => w.call<FloorRound>({ cmd: "floor", host: "127.0.0.1", port, direct })),
      );
      const seconds = (Math.max(...rs.map((r) => r.doneAt)) - t0) / 1000;
      const serverCpu = cpuMs(server.pid) - cpu0;
      const workersCpu = workers.reduce((a, w) => a + cpuMs(w.pid), 0) - wcpu0;
      const sum = (f: (r: FloorRound) => number) => rs.reduce((a, r) => a + f(r), 0);
      const errors: Record<string, number> = {};
      for (const r of rs) for (const [k, n] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + n;
      const connected = sum((r) => r.ok);
      return {
        seconds,
        connected,
        resumed: sum((r) => r.resumed),
        full: sum((r) => r.full),
        failedAttempts: sum((r) => r.failedAttempts),
        gaveUp: sum((r) => r.gaveUp),
        errors,
        serverCpuMsPerHandshake: serverCpu / Math.max(1, connected),
        workersCpuMsPerHandshake: workersCpu / Math.max(1, connected),
      };
    };
    const full = await round();
    const resumed = await round();
    const resumedDirect = await round(true);
    return { full, resumed, resumedDirect, server: await server.call<FloorServerCounts>({ cmd: "counts" }) };
  } finally {
    server.stop();
  }
}
