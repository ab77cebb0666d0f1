/**
 * Footprint of the release executables: size raw and xz -6, and for a hub started from each
 * (arm64 under qemu-user) the time from exec to the first 200 from /readyz and the resident
 * memory at that moment. Medians of 5 runs. Targets: ≤ 95 MB and ≤ 25 MB xz per executable,
 * hub ready < 1 s native on x64.
 *
 * Under qemu-user the RSS is the emulator's, guest memory plus translation cache, so it says
 * more about qemu than about a Pi; ready time there is dominated by emulation (≈12–17× slower).
 * Run: npm run bench -- footprint [--runs N]
 */
import { execFileSync, spawn } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { get } from "node:https";
import os, { cpus } from "node:os";
import { parseArgs } from "node:util";
import { ARCHES, type Arch, buildRelease, exePath, ROOT, startExeHub } from "../test/helpers/release-exe.js";

const { values } = parseArgs({ options: { runs: { type: "string", default: "5" } } });
const RUNS = Math.max(1, Number(values.runs));
const log = (m: string) => process.stderr.write(`footprint: ${m}\n`);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

function xzSize(file: string): Promise<number> {
  return new Promise((done, fail) => {
    const p = spawn("xz", ["-6", "-T1", "-c", file], { stdio: ["ignore", "pipe", "inherit"] });
    let n = 0;
    p.stdout.on("data", (b: Buffer) => {
      n += b.length;
    });
    p.once("error", fail);
    p.once("exit", (code) => (code === 0 ? done(n) : fail(new Error(`xz exited ${code}`))));
  });
}

/** One GET of /readyz on loopback; the hub's self-signed certificate is not checked here. */
function readyz(port: number): Promise<boolean> {
  return new Promise((done) => {
    const req = get(
      { host: "127.0.0.1", port, path: "/readyz", rejectUnauthorized: false, agent: false },
      (res) => {
        res.resume();
        done(res.statusCode === 200);
      },
    );
    req.once("error", () => done(false));
    req.setTimeout(2000, () => req.destroy());
  });
}

/** CPU time (user + system) the process used so far: robust to other load on shared cores. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Math.round((ticks * 1000) / CLK_TCK);
}
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function hubRun(arch: Arch): Promise<{ readyMs: number; cpuMs: number; rssMiB: number }> {
  const t0 = performance.now();
  const hub = await startExeHub(arch);
  try {
    const deadline = t0 + 120_000;
    for (;;) {
      if (await readyz(hub.port)) break;
      if (hub.child.exitCode !== null) throw new Error(`hub exited early:\n${hub.output()}`);
      if (performance.now() > deadline) throw new Error(`hub not ready after 120 s:\n${hub.output()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const readyMs = performance.now() - t0;
    const pid = hub.child.pid ?? 0;
    return { readyMs: Math.round(readyMs), cpuMs: cpuMs(pid), rssMiB: Math.round(rssMiB(pid) * 10) / 10 };
  } finally {
    await hub.stop();
  }
}

const buildMs = await buildRelease();
log(`release build (incremental) ${(buildMs / 1000).toFixed(1)} s`);
const executables: Record<string, { bytes: number; mb: number; xzBytes: number; xzMb: number }> = {};
type Stat = { median: number; runs: number[] };
const hub: Record<string, { readyMs: Stat; cpuMsAtReady: Stat; rssMiB: Stat }> = {};
const stat = (runs: number[]): Stat => ({ median: median(runs), runs });
for (const arch of ARCHES) {
  const bytes = statSync(exePath(arch)).size;
  log(`${arch}: compressing with xz -6`);
  const xzBytes = await xzSize(exePath(arch));
  executables[arch] = { bytes, mb: +(bytes / 1e6).toFixed(1), xzBytes, xzMb: +(xzBytes / 1e6).toFixed(1) };
  const runs: Array<{ readyMs: number; cpuMs: number; rssMiB: number }> = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await hubRun(arch);
    runs.push(r);
    log(`${arch}: run ${i + 1}/${RUNS}: ready ${r.readyMs} ms (cpu ${r.cpuMs} ms), rss ${r.rssMiB} MiB`);
  }
  hub[arch] = {
    readyMs: stat(runs.map((r) => r.readyMs)),
    cpuMsAtReady: stat(runs.map((r) => r.cpuMs)),
    rssMiB: stat(runs.map((r) => r.rssMiB)),
  };
}
const loadavg = os.loadavg().map((l) => +l.toFixed(1));

const commit = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: ROOT }).toString().trim();
process.stdout.write(
  JSON.stringify({
    bench: "footprint",
    date: new Date().toISOString(),
    commit,
    node: process.version,
    host: { cpus: cpus().length, model: cpus()[0]?.model ?? "unknown", loadavgAtEnd: loadavg },
    runs: RUNS,
    executables,
    hub: {
      ...hub,
      note:
        "readyMs is wall time from spawn to the first 200 from /readyz; cpuMsAtReady is the process's CPU " +
        "time by then (robust to other load on the shared cores). arm64 runs under qemu-user on this x86 " +
        "host: its RSS is the emulator's and its times are emulated.",
    },
    targets: {
      executableMaxMb: 95,
      xzMaxMb: 25,
      readyMaxMsNativeX64: 1000,
      met:
        Object.values(executables).every((e) => e.mb <= 95 && e.xzMb <= 25) &&
        (hub.amd64?.readyMs.median ?? Number.POSITIVE_INFINITY) < 1000,
    },
    buildIncrementalSeconds: +(buildMs / 1000).toFixed(1),
  }),
);
