/**
 * bench/hub-idle: resident memory of an idle hub (issue 2's target ≤ 60 MB) from the development
 * bundle (`node bin/edge-hub.mjs server`, what `npm ci` builds), measured at the first 200 from
 * /readyz and again after it sat idle for a few seconds. Two cases per run: a fresh data dir (the
 * first start creates the CA and certificates) and a restart on that data dir (they exist).
 * Medians of N runs. Run: npm run bench -- hub-idle [--runs N] [--idle-ms MS]
 * Result: bench/results/hub-idle-<date>.json (also printed).
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readyz } from "./lib/hub-probe.js";
import { withUnitEnvironment } from "./lib/hub-unit-env.js";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "3" }, "idle-ms": { type: "string", default: "5000" } },
});
const RUNS = Math.max(1, Number(values.runs));
const IDLE_MS = Number(values["idle-ms"]);
const log = (m: string) => process.stderr.write(`hub-idle: ${m}\n`);

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => done(typeof a === "object" && a ? a.port : 0));
    });
  });
}

function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : Number.NaN;
}

async function hubOnce(dataDir: string): Promise<{ atReadyMB: number; idleMB: number; readyMs: number }> {
  const [https, mqtt] = [await freePort(), await freePort()];
  const args = ["bin/edge-hub.mjs", "server", "--data-dir", dataDir, "--bind-address", "127.0.0.1"];
  args.push("--https-port", String(https), "--mqtt-port", String(mqtt));
  const t0 = performance.now();
  // with the environment of the shipped unit (glibc's malloc tunables), as bench/lib/hub-process.ts
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "ignore", "pipe"],
    env: withUnitEnvironment(process.env),
  });
  let stderr = "";
  child.stderr.on("data", (b: Buffer) => {
    stderr += b.toString();
  });
  try {
    for (;;) {
      if (await readyz(https)) break;
      if (child.exitCode !== null) throw new Error(`hub exited early:\n${stderr}`);
      if (performance.now() - t0 > 60_000) throw new Error(`hub not ready after 60 s:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const readyMs = Math.round(performance.now() - t0);
    const pid = child.pid ?? 0;
    const atReadyMB = rssMB(pid);
    await new Promise((r) => setTimeout(r, IDLE_MS));
    return { atReadyMB, idleMB: rssMB(pid), readyMs };
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

execFileSync(process.execPath, ["scripts/build-dev.mjs"], { stdio: "inherit" });
const load0 = loadavg();
const fresh: Awaited<ReturnType<typeof hubOnce>>[] = [];
const restart: Awaited<ReturnType<typeof hubOnce>>[] = [];
for (let i = 0; i < RUNS; i++) {
  const dir = mkdtempSync(join(tmpdir(), "ek-hub-idle-"));
  try {
    fresh.push(await hubOnce(dir));
    restart.push(await hubOnce(dir));
    log(
      `run ${i + 1}/${RUNS}: fresh ${JSON.stringify(fresh.at(-1))}, restart ${JSON.stringify(restart.at(-1))}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const summary = (rs: typeof fresh) => ({
  atReadyMB: median(rs.map((r) => r.atReadyMB)),
  idleMB: median(rs.map((r) => r.idleMB)),
  readyMs: median(rs.map((r) => r.readyMs)),
  runs: rs,
});
const result = {
  benchmark: "hub-idle",
  date: new Date().toISOString(),
  commit: (() => {
    try {
      return execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { stdio: "pipe" }).toString().trim();
    } catch {
      return "unknown";
    }
  })(),
  node: process.version,
  idleMs: IDLE_MS,
  freshDataDir: summary(fresh),
  restart: summary(restart),
  loadAverageBefore: load0.map((x) => Math.round(x * 100) / 100),
  loadAverageAfter: loadavg().map((x) => Math.round(x * 100) / 100),
  targets: { idleRssMB: 60 },
};
mkdirSync("bench/results", { recursive: true });
const file = `bench/results/hub-idle-${result.date.slice(0, 10)}.json`;
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result));
log(`written to ${file}`);
