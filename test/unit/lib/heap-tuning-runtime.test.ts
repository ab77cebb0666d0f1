/**
 * The hub starts with V8's optimizing and baseline compilers off (idle RSS) and tuneAfterStart
 * must really turn them back on: a function that stays hot after it is TurboFan-optimized,
 * one that was hot before it never is; and it restores V8's own interrupt budget (the hub
 * starts with 10×), so hot code is optimized after a tenth of the calls. Runs in a child node
 * (flags are process-wide) with `--allow-natives-syntax` to read V8's optimization status.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

/** V8's OptimizationStatus bits (src/runtime/runtime.h) */
const OPTIMIZED = 1 << 4;
const TURBOFANNED = 1 << 6;

const dir = mkdtempSync(join(tmpdir(), "ek-heap-tuning-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function statuses(afterStart: boolean): { before: number; after: number } {
  const mod = pathToFileURL(resolve("src/lib/heap-tuning.ts")).href;
  const script = join(dir, `probe-${afterStart}.mjs`);
  writeFileSync(
    script,
    `import { tuneHeap, tuneAfterStart } from ${JSON.stringify(mod)};
tuneHeap("edge-hub", ["server"], {});
function hot(n) { let s = 0; for (let i = 0; i < n; i++) s += (i * 7) % 13; return s; }
const run = () => { for (let k = 0; k < 300; k++) hot(20000); return %GetOptimizationStatus(hot); };
const before = run();
${afterStart ? "tuneAfterStart({});" : ""}
const after = run();
process.stdout.write(JSON.stringify({ before, after }));
`,
  );
  const out = execFileSync(process.execPath, ["--allow-natives-syntax", "--import", "tsx", script], {
    encoding: "utf8",
  });
  return JSON.parse(out) as { before: number; after: number };
}

/**
 * calls of a small function until TurboFan optimized it, after tuneAfterStart or after only
 * turning the compilers back on (the 10× budget kept); synchronous recompilation makes the
 * count deterministic
 */
function callsUntilOptimized(restoreBudget: boolean): number {
  const mod = pathToFileURL(resolve("src/lib/heap-tuning.ts")).href;
  const script = join(dir, `budget-${restoreBudget}.mjs`);
  writeFileSync(
    script,
    `import { setFlagsFromString } from "node:v8";
import { tuneHeap, tuneAfterStart } from ${JSON.stringify(mod)};
tuneHeap("edge-hub", ["server"], {});
${restoreBudget ? "tuneAfterStart({});" : 'setFlagsFromString("--sparkplug"); setFlagsFromString("--opt");'}
function f(o) { return o.a + o.b * 2 + (o.c ? 1 : 0); }
let calls = 0;
for (; calls < 5000000; calls++) {
  f({ a: calls, b: 1, c: calls & 1 });
  if ((calls & 255) === 0 && (%GetOptimizationStatus(f) & ${TURBOFANNED})) break;
}
process.stdout.write(String(calls));
`,
  );
  const out = execFileSync(
    process.execPath,
    ["--allow-natives-syntax", "--no-concurrent-recompilation", "--import", "tsx", script],
    { encoding: "utf8" },
  );
  return Number(out);
}

describe("hub V8 flags across start-up", () => {
  it("returns to V8's interrupt budget after start-up: hot code is optimized ≈10× sooner", () => {
    const tenfold = callsUntilOptimized(false);
    const restored = callsUntilOptimized(true);
    expect(restored).toBeGreaterThan(0);
    expect(tenfold).toBeLessThan(5000000);
    expect(restored * 4).toBeLessThan(tenfold);
  });

  it("does not optimize during start-up, and does once tuneAfterStart ran", () => {
    const { before, after } = statuses(true);
    expect(before & OPTIMIZED).toBe(0);
    expect(after & OPTIMIZED).toBe(OPTIMIZED);
    expect(after & TURBOFANNED).toBe(TURBOFANNED);
  });

  it("stays unoptimized without tuneAfterStart (the probe can tell)", () => {
    const { after } = statuses(false);
    expect(after & OPTIMIZED).toBe(0);
  });
});
