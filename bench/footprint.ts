/**
 * Footprint of the release executables and the Pi image:
 * - executables: size raw and xz -6;
 * - hub (started from each executable, arm64 under qemu-user): time from exec to the first 200
 *   from /readyz, CPU time and resident memory at that moment;
 * - agent (each executable, joined to an x64 hub on loopback with --no-pods: link and cache
 *   only, idle): time from exec to the MQTT link connected, RSS then and after --idle-seconds;
 * - the hub image: raw (nominal and allocated) and xz, from images/build/pi and dist/release,
 *   or "not built" (scripts/build-image takes ≈40 min, so it is never built from here).
 * Medians of --runs (default 5). Targets: ≤ 95 MB and ≤ 25 MB xz per executable, hub ready
 * < 1 s native on x64.
 *
 * Under qemu-user the RSS is the emulator's, guest memory plus translation cache, so it says
 * more about qemu than about a Pi; times there are dominated by emulation (≈12–17× slower).
 * Run: npm run bench -- footprint [--runs N] [--idle-seconds S] [--reuse (no release rebuild)]
 * Result: bench/results/footprint-<date>.json (also printed).
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import os, { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  ARCHES,
  type Arch,
  buildRelease,
  createExeToken,
  exePath,
  ROOT,
  startExeAgent,
  startExeHub,
} from "../test/helpers/release-exe.js";
import { readyz } from "./lib/hub-probe.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    "idle-seconds": { type: "string", default: "10" },
    reuse: { type: "boolean", default: false },
  },
});
const RUNS = Math.max(1, Number(values.runs));
const IDLE_MS = Math.max(0, Number(values["idle-seconds"])) * 1000;
const START_LOADAVG = os.loadavg().map((l) => +l.toFixed(1));
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

/**
 * One agent start: an x64 hub, a token, then `agent join --no-pods` from the arch's executable.
 * RSS when the link first connects, and again after IDLE_MS of doing nothing (what a device
 * settles at: caches loaded, first sync done, GC had its chance).
 */
async function agentRun(
  arch: Arch,
  i: number,
): Promise<{ connectedMs: number; rssAtConnectedMiB: number; rssIdleMiB: number }> {
  const hub = await startExeHub("amd64");
  try {
    await hub.ready;
    const token = await createExeToken(hub);
    const t0 = performance.now();
    const agent = startExeAgent(arch, hub, token, `fp-${arch}-${process.pid}-${i}`);
    try {
      await agent.connected(arch === "amd64" ? 60_000 : 300_000);
      const connectedMs = Math.round(performance.now() - t0);
      const pid = agent.child.pid ?? 0;
      const rssAtConnectedMiB = Math.round(rssMiB(pid) * 10) / 10;
      await new Promise((r) => setTimeout(r, IDLE_MS));
      if (agent.child.exitCode !== null) throw new Error(`agent exited while idle:\n${agent.output()}`);
      return { connectedMs, rssAtConnectedMiB, rssIdleMiB: Math.round(rssMiB(pid) * 10) / 10 };
    } finally {
      await agent.stop();
    }
  } finally {
    await hub.stop();
  }
}

type FileSize = { file: string; bytes: number; mb: number } | "not built";
function fileSize(rel: string, allocated = false): FileSize {
  const file = join(ROOT, rel);
  if (!existsSync(file)) return "not built";
  const st = statSync(file);
  const bytes = allocated ? st.blocks * 512 : st.size;
  return { file: rel, bytes, mb: +(bytes / 1e6).toFixed(1) };
}

/** The hub image as scripts/build-image leaves it; the release name first, else the test image. */
function imageSizes(): { raw: FileSize; rawAllocated: FileSize; xz: FileSize; note: string } {
  const raw = "images/build/pi/edgekube-hub-arm64.img";
  const rel = "dist/release/edgekube-hub-rpi-arm64.img.xz";
  const xz = existsSync(join(ROOT, rel)) ? rel : "dist/release/edgekube-hub-rpi-arm64-test.img.xz";
  return {
    raw: fileSize(raw),
    rawAllocated: fileSize(raw, true),
    xz: fileSize(xz),
    note:
      "raw is the disk's nominal size (what dd writes; first boot grows root to the card), rawAllocated " +
      "its blocks on disk (sparse), xz what users download. Build with scripts/build-image (≈40 min).",
  };
}

const buildMs = values.reuse ? 0 : await buildRelease();
if (!values.reuse) log(`release build (incremental) ${(buildMs / 1000).toFixed(1)} s`);
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
const agent: Record<string, { connectedMs: Stat; rssAtConnectedMiB: Stat; rssIdleMiB: Stat }> = {};
for (const arch of ARCHES) {
  const runs: Array<{ connectedMs: number; rssAtConnectedMiB: number; rssIdleMiB: number }> = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await agentRun(arch, i);
    runs.push(r);
    log(
      `${arch} agent: run ${i + 1}/${RUNS}: connected ${r.connectedMs} ms, rss ${r.rssAtConnectedMiB} MiB, ` +
        `${r.rssIdleMiB} MiB after ${IDLE_MS / 1000} s idle`,
    );
  }
  agent[arch] = {
    connectedMs: stat(runs.map((r) => r.connectedMs)),
    rssAtConnectedMiB: stat(runs.map((r) => r.rssAtConnectedMiB)),
    rssIdleMiB: stat(runs.map((r) => r.rssIdleMiB)),
  };
}
const image = imageSizes();
const loadavg = os.loadavg().map((l) => +l.toFixed(1));

const commit = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: ROOT }).toString().trim();
const loadavgAtStart = START_LOADAVG;
const result = {
  bench: "footprint",
  date: new Date().toISOString(),
  commit,
  node: process.version,
  host: { cpus: cpus().length, model: cpus()[0]?.model ?? "unknown", loadavgAtStart, loadavgAtEnd: loadavg },
  runs: RUNS,
  executables,
  hub: {
    ...hub,
    note:
      "readyMs is wall time from spawn to the first 200 from /readyz; cpuMsAtReady is the process's CPU " +
      "time by then (robust to other load on the shared cores). arm64 runs under qemu-user on this x86 " +
      "host: its RSS is the emulator's and its times are emulated.",
  },
  agent: {
    ...agent,
    idleSeconds: IDLE_MS / 1000,
    note:
      "edgekube agent join --no-pods (link and cache, no Docker) to an x64 hub on loopback; connectedMs is " +
      "wall time from spawn to `edge-agent status` reporting the MQTT link connected (includes the join: " +
      "CA fetch, CSR, node registration). rssIdleMiB is measured idleSeconds later. arm64 under qemu-user: " +
      "the emulator's RSS and emulated times.",
  },
  image,
  targets: {
    executableMaxMb: 95,
    xzMaxMb: 25,
    readyMaxMsNativeX64: 1000,
    met:
      Object.values(executables).every((e) => e.mb <= 95 && e.xzMb <= 25) &&
      (hub.amd64?.readyMs.median ?? Number.POSITIVE_INFINITY) < 1000,
  },
  buildIncrementalSeconds: values.reuse ? "skipped (--reuse)" : +(buildMs / 1000).toFixed(1),
};
mkdirSync(join(ROOT, "bench/results"), { recursive: true });
const file = join(ROOT, `bench/results/footprint-${result.date.slice(0, 10)}.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
log(`wrote ${file}`);
