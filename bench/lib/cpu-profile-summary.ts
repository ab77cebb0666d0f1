/**
 * Where a V8 CPU profile (`node --cpu-prof`, e.g. bench/sync --hub-cpu-prof DIR) spent its time:
 * self time per function and per inclusive "area" (a caller frame whose name matches one of the
 * given patterns, e.g. BrokerGuard, SyncHub), optionally within a time window of the profile.
 *
 *   npx tsx bench/lib/cpu-profile-summary.ts FILE [--from S] [--to S] [--top N] [--area NAME]...
 *
 * Design notes
 * - Self time is sampled per node: sample count × the mean sampling interval in the window.
 * - "(idle)" and "(program)" are separated out so the busy total is what the process worked.
 * - The hub runs from a bundle: a frame whose script has a linked source map next to it
 *   (scripts/build-dev.mjs writes them) is named by its original source file and line.
 */
import { existsSync, readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { fileURLToPath } from "node:url";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  windowMs: number;
  busyMs: number;
  idleMs: number;
  top: { name: string; selfMs: number }[];
  /** functions by inclusive time (themselves and what they called) */
  inclusive: { name: string; ms: number }[];
  areas: Record<string, number>;
}

export function summarise(
  p: Profile,
  opts: { fromMs?: number; toMs?: number; top?: number; areas?: string[] } = {},
): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  let t = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    const ms = t / 1000;
    if (opts.fromMs !== undefined && ms < opts.fromMs) continue;
    if (opts.toMs !== undefined && ms > opts.toMs) break;
    const dt = (p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0) / 1000;
    const id = p.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + dt);
  }
  const byName = new Map<string, number>();
  const incl = new Map<string, number>();
  const maps = new Map<string, SourceMap | null>();
  const mapOf = (url: string): SourceMap | null => {
    if (!url.startsWith("file://")) return null;
    let m = maps.get(url);
    if (m === undefined) {
      const file = `${fileURLToPath(url)}.map`;
      m = existsSync(file) ? new SourceMap(JSON.parse(readFileSync(file, "utf8"))) : null;
      maps.set(url, m);
    }
    return m;
  };
  const names = new Map<ProfileNode["callFrame"], string>();
  const nameOf = (f: ProfileNode["callFrame"]) => {
    let n = names.get(f);
    if (n === undefined) {
      const e = mapOf(f.url)?.findEntry(f.lineNumber, f.columnNumber);
      const where =
        e && "originalSource" in e && e.originalSource
          ? `${e.originalSource.replace(/^.*\/src\//, "src/").replace(/^.*node_modules\//, "")}:${e.originalLine + 1}`
          : `${f.url.replace(/^.*\//, "")}:${f.lineNumber + 1}`;
      n = `${f.functionName || "(anonymous)"} ${where}`;
      names.set(f, n);
    }
    return n;
  };
  const areas: Record<string, number> = {};
  let busy = 0;
  let idle = 0;
  for (const [id, ms] of self) {
    const f = byId.get(id)!.callFrame;
    const name = nameOf(f);
    if (f.functionName === "(idle)") {
      idle += ms;
      continue;
    }
    busy += ms;
    byName.set(name, (byName.get(name) ?? 0) + ms);
    const seen = new Set<string>();
    const stackNames = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur)!.callFrame;
      const fn = cf.functionName;
      stackNames.add(nameOf(cf));
      for (const a of opts.areas ?? []) {
        if (!seen.has(a) && fn.includes(a)) {
          seen.add(a);
          areas[a] = (areas[a] ?? 0) + ms;
        }
      }
    }
    for (const n of stackNames) incl.set(n, (incl.get(n) ?? 0) + ms);
  }
  const inclusive = [...incl]
    .sort((a, b) => b[1] - a[1])
    .slice(0, opts.top ?? 40)
    .map(([name, total]) => ({ name, ms: Math.round(total) }));
  const top = [...byName]
    .sort((a, b) => b[1] - a[1])
    .slice(0, opts.top ?? 40)
    .map(([name, selfMs]) => ({ name, selfMs: Math.round(selfMs) }));
  const windowMs = (opts.toMs ?? (p.endTime - p.startTime) / 1000) - (opts.fromMs ?? 0);
  return { windowMs, busyMs: Math.round(busy), idleMs: Math.round(idle), top, inclusive, areas };
}

if (process.argv[1]?.endsWith("cpu-profile-summary.ts")) {
  const argv = process.argv.slice(2);
  const num = (k: string) => {
    const i = argv.indexOf(`--${k}`);
    return i >= 0 ? Number(argv[i + 1]) : undefined;
  };
  const areas = argv.flatMap((a, i) => (argv[i - 1] === "--area" ? [a] : []));
  const file = argv[0];
  if (!file)
    throw new Error("usage: cpu-profile-summary.ts FILE [--from S] [--to S] [--top N] [--area NAME]...");
  const from = num("from");
  const to = num("to");
  const s = summarise(JSON.parse(readFileSync(file, "utf8")) as Profile, {
    ...(from !== undefined ? { fromMs: from * 1000 } : {}),
    ...(to !== undefined ? { toMs: to * 1000 } : {}),
    top: num("top") ?? 40,
    areas,
  });
  console.log(JSON.stringify(s, null, 1));
}
