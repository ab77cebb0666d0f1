/**
 * A hub as users run it, for benchmarks that measure the hub alone: `node bin/edge-hub.mjs
 * server` from the dev bundle in its own process, on loopback ports, with its own data dir.
 * Its memory is read from /proc/<pid>/status (VmRSS now, VmHWM = the kernel's peak RSS), so
 * whatever drives it (simulated kubelets, agents, observers) is not counted.
 *
 * Design notes
 * - Where the memory goes: report() makes the hub write a Node diagnostic report (SIGUSR2,
 *   `--report-on-signal`) and returns its V8 heap figures (used, committed, external, malloced):
 *   RSS far above the heap's used size is garbage not yet collected, native memory (SQLite,
 *   OpenSSL, buffers) or malloc arenas, which a heap snapshot does not show.
 * - Heap snapshots: with snapshotDir the hub also gets `--heapsnapshot-signal=SIGPWR`;
 *   heapSnapshot() sends it and waits until the file is complete (the hub answers /readyz
 *   again: V8 writes the snapshot on the main thread, so no request is served meanwhile).
 *   bench/lib/heap-summary.ts prints what a snapshot holds.
 * - The admin kubeconfig the hub writes into its data dir gives the bench a token and CA.
 * - restart() is stop + start on the same data dir and ports (agents reconnect to the same
 *   address), returning when the hub went down and when it answered /readyz again, so a
 *   connect-storm measurement can start its clock at either.
 * - The hub gets the environment of its shipped systemd unit (glibc's malloc tunables,
 *   bench/lib/hub-unit-env.ts) unless the caller's env sets the same variable.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, statSync } from "node:fs";
import { request } from "node:https";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import type { Target } from "./https-load.js";
import { withUnitEnvironment } from "./hub-unit-env.js";
import { smapsSplit } from "./smaps.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  return new Promise((done) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => done(p));
    });
  });
}

function httpsOk(url: string, ca: Buffer): Promise<boolean> {
  return new Promise((r) => {
    const req = request(url, { ca, agent: false }, (res) => {
      res.resume();
      r(res.statusCode === 200);
    });
    req.on("error", () => r(false));
    req.setTimeout(5000, () => req.destroy());
    req.end();
  });
}

/** VmRSS / VmHWM of a process in bytes (0 when it is gone) */
export function procMemory(pid: number): { rss: number; hwm: number } {
  let text = "";
  try {
    text = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return { rss: 0, hwm: 0 };
  }
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(text)?.[1] ?? 0) * 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

export interface HubMemoryReport {
  rss: number;
  /** V8's reserved heap (process.memoryUsage().heapTotal) */
  heapTotal: number;
  heapUsed: number;
  heapCommitted: number;
  /** memory held outside the V8 heap by JS objects (Buffers, ArrayBuffers) */
  external: number;
  /** V8's own malloc'ed memory */
  malloced: number;
  spaces: Record<string, { used: number; committed: number }>;
}

export interface HubMemorySplit {
  rssMB: number;
  heapTotalMB: number;
  heapUsedMB: number;
  externalMB: number;
  newSpaceCommittedMB: number;
  oldSpaceUsedMB: number;
  oldSpaceCommittedMB: number;
  anonymousMB: number;
  fileMB: number;
  mainMallocHeapMB: number;
  mallocArenas: number;
  mallocArenasMB: number;
}

export interface HubProcessOptions {
  dir: string;
  httpsPort: number;
  mqttPort: number;
  /** extra `edge-hub server` flags */
  args?: string[];
  /** extra node flags before the hub's script (e.g. `--cpu-prof`) */
  nodeArgs?: string[];
  /** directory for heap snapshots: enables SIGUSR2 snapshots */
  snapshotDir?: string;
  env?: NodeJS.ProcessEnv;
  /** append the hub's stdout and stderr, its log at level info, to this file (diagnosis runs) */
  logFile?: string;
}

export class HubProcess {
  proc: ChildProcess | undefined;
  constructor(readonly opts: HubProcessOptions) {}

  get url(): string {
    return `https://127.0.0.1:${this.opts.httpsPort}`;
  }

  get mqttPort(): number {
    return this.opts.mqttPort;
  }

  get pid(): number {
    const pid = this.proc?.pid;
    if (pid === undefined) throw new Error("hub is not running");
    return pid;
  }

  get ca(): Buffer {
    return readFileSync(join(this.opts.dir, "tls", "ca.crt"));
  }

  get kubeconfig(): string {
    return join(this.opts.dir, "admin.kubeconfig");
  }

  /** the admin bearer token from the hub's admin.kubeconfig */
  get token(): string {
    const kc = parseYaml(readFileSync(this.kubeconfig, "utf8")) as { users: { user: { token: string } }[] };
    return kc.users[0]!.user.token;
  }

  memory(): { rss: number; hwm: number } {
    return procMemory(this.pid);
  }

  /** RSS in bytes as the median of three reads (one read can land on a transient spike) */
  rss(): number {
    const reads = [this.memory().rss, this.memory().rss, this.memory().rss].sort((a, b) => a - b);
    return reads[1] ?? 0;
  }

  async start(timeoutMs = 60_000): Promise<void> {
    const o = this.opts;
    mkdirSync(this.reportDir, { recursive: true });
    const nodeArgs = [
      "--report-on-signal",
      "--report-signal=SIGUSR2",
      "--report-compact",
      // no host name lookups for every socket (thousands of agents: minutes, and the hub stalls)
      "--report-exclude-network",
      `--report-directory=${this.reportDir}`,
      ...(o.nodeArgs ?? []),
    ];
    if (o.snapshotDir) {
      mkdirSync(o.snapshotDir, { recursive: true });
      nodeArgs.push("--heapsnapshot-signal=SIGPWR");
    }
    const logFd = o.logFile ? openSync(o.logFile, "a") : undefined;
    this.proc = spawn(
      process.execPath,
      [
        ...nodeArgs,
        resolve("bin/edge-hub.mjs"),
        "server",
        "--data-dir",
        o.dir,
        "--https-port",
        String(o.httpsPort),
        "--mqtt-port",
        String(o.mqttPort),
        "--bind-address",
        "127.0.0.1",
        "--log-level",
        o.logFile ? "info" : "warn",
        ...(o.args ?? []),
      ],
      // snapshots land in the working directory
      {
        stdio: logFd === undefined ? ["ignore", "ignore", "inherit"] : ["ignore", logFd, logFd],
        cwd: o.snapshotDir ?? process.cwd(),
        env: withUnitEnvironment(o.env ?? process.env),
      },
    );
    // the child holds its own copy of the descriptor
    if (logFd !== undefined) closeSync(logFd);
    const end = Date.now() + timeoutMs;
    for (;;) {
      let ca: Buffer | undefined;
      try {
        ca = this.ca;
      } catch {}
      if (ca && (await httpsOk(`${this.url}/readyz`, ca))) return;
      if (this.proc.exitCode !== null) throw new Error(`the hub exited with code ${this.proc.exitCode}`);
      if (Date.now() > end) throw new Error(`the hub did not become ready within ${timeoutMs / 1000} s`);
      await sleep(50);
    }
  }

  /** Writes a heap snapshot (needs snapshotDir); returns its path. */
  async heapSnapshot(): Promise<string> {
    const dir = this.opts.snapshotDir;
    if (!dir) throw new Error("heap snapshots need HubProcess's snapshotDir option");
    const before = new Set(readdirSync(dir));
    this.proc?.kill("SIGPWR");
    const end = Date.now() + 600_000;
    for (;;) {
      await sleep(500);
      const made = readdirSync(dir).find((f) => f.endsWith(".heapsnapshot") && !before.has(f));
      if (made && (await httpsOk(`${this.url}/readyz`, this.ca))) {
        // readyz answered, so the main thread finished writing; the size is final
        const file = join(dir, made);
        statSync(file);
        return file;
      }
      if (Date.now() > end) throw new Error("no heap snapshot appeared within 10 min");
    }
  }

  private get reportDir(): string {
    return join(this.opts.dir, "reports");
  }

  /** The hub's V8 heap and native figures now, from a diagnostic report (bytes). */
  async report(): Promise<HubMemoryReport> {
    const dir = this.reportDir;
    const before = new Set(readdirSync(dir));
    this.proc?.kill("SIGUSR2");
    const end = Date.now() + 60_000;
    for (;;) {
      await sleep(200);
      const made = readdirSync(dir).find((f) => f.endsWith(".json") && !before.has(f));
      const text = made ? readFileSync(join(dir, made), "utf8") : "";
      // the sections up to the heap figures are enough (the libuv handle list can be huge)
      const from = text.indexOf('"javascriptHeap":');
      const to = text.indexOf(',"nativeStack":', from);
      const rss = /"resourceUsage":\{[^}]*?"rss":"?(\d+)/.exec(text)?.[1];
      if (from >= 0 && to > from && rss) {
        const h = JSON.parse(text.slice(from + '"javascriptHeap":'.length, to)) as {
          totalMemory: number;
          usedMemory: number;
          totalCommittedMemory: number;
          externalMemory: number;
          mallocedMemory: number;
          heapSpaces: Record<string, { committedMemory: number; used: number }>;
        };
        const spaces: Record<string, { used: number; committed: number }> = {};
        for (const [k, v] of Object.entries(h.heapSpaces))
          spaces[k] = { used: v.used, committed: v.committedMemory };
        return {
          rss: Number(rss),
          heapTotal: h.totalMemory,
          heapUsed: h.usedMemory,
          heapCommitted: h.totalCommittedMemory,
          external: h.externalMemory,
          malloced: h.mallocedMemory,
          spaces,
        };
      }
      if (Date.now() > end) throw new Error("the hub wrote no diagnostic report within 60 s");
    }
  }

  /** Stops the hub and starts it again; `stoppedAt`/`readyAt` are Date.now() values. */
  async restart(timeoutMs = 60_000): Promise<{ stoppedAt: number; readyAt: number }> {
    await this.stop();
    const stoppedAt = Date.now();
    await this.start(timeoutMs);
    return { stoppedAt, readyAt: Date.now() };
  }

  /**
   * Where the hub's RSS sits now, in MB: V8's figures as process.memoryUsage() names them
   * (heapTotal, heapUsed, external; arrayBuffers is part of external and not in the report),
   * the young and old generations, and the kernel's split (smaps.ts): anonymous vs file-backed,
   * the main thread's malloc heap and the other threads' malloc arenas.
   */
  async memorySplit(): Promise<HubMemorySplit> {
    const r = await this.report();
    const k = smapsSplit(this.pid);
    const mb = (x: number) => Math.round((x / 1048576) * 10) / 10;
    return {
      rssMB: mb(k.rss),
      heapTotalMB: mb(r.heapTotal),
      heapUsedMB: mb(r.heapUsed),
      externalMB: mb(r.external),
      newSpaceCommittedMB: mb(r.spaces.new_space?.committed ?? 0),
      oldSpaceUsedMB: mb(r.spaces.old_space?.used ?? 0),
      oldSpaceCommittedMB: mb(r.spaces.old_space?.committed ?? 0),
      anonymousMB: mb(k.anonymous),
      fileMB: mb(k.file),
      mainMallocHeapMB: mb(k.mainHeap),
      mallocArenas: k.arenas.count,
      mallocArenasMB: mb(k.arenas.rss),
    };
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once("exit", r));
    p.kill("SIGTERM");
    await exited;
  }
}

/** how many Nodes have no spec.podCIDR yet (a fleet is wired when none is left) */
export function nodesWithoutPodCIDR(api: Target): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL("/api/v1/nodes", api.url),
      { ca: api.ca, headers: { Authorization: `Bearer ${api.token}` } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const list = JSON.parse(Buffer.concat(chunks).toString()) as {
            items: { spec?: { podCIDR?: string } }[];
          };
          resolve(list.items.filter((n) => !n.spec?.podCIDR).length);
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
}
