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

/** bench/results/NAME-DATE[-SUFFIX].json (a suffix keeps a quick or loaded run from replacing the day's run) */
export function writeResult(name: string, data: unknown, suffix?: string): string {
  const dir = join(process.cwd(), "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = join(
    dir,
    `${name}-${new Date().toISOString().slice(0, 10)}${suffix ? `-${suffix}` : ""}.json`,
  );
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}
