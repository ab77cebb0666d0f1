/** Small helpers shared by the benchmarks: percentiles, RSS of a process, result files. */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function median(xs: number[]): number {
  return percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
}

export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

/** CPU time (user + system, ms) a process has used so far, from /proc (clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** bench/results/NAME-<date>[-TAG].json: a tag keeps a day's other runs of NAME. */
export function writeResult(name: string, data: unknown, tag = argTag()): string {
  const dir = join(process.cwd(), "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}-${new Date().toISOString().slice(0, 10)}${tag ? `-${tag}` : ""}.json`);
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

/** `--tag X` on any bench's command line: results go to NAME-DATE-X.json, leaving the day's file alone. */
function argTag(): string | undefined {
  const i = process.argv.indexOf("--tag");
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  return v && /^[\w.-]+$/.test(v) ? v : undefined;
}
