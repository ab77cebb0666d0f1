/**
 * YoungGenerationCap: the growth-factor decision and --max-semi-space parsing with fakes, then
 * the real thing in a child node (V8 flags are process-wide): with the cap, a burst that
 * grows V8's new space to 2 × 16 MiB without it stays within the cap plus one doubling.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { UsageError } from "../../../src/lib/args.js";
import {
  DEFAULT_SEMI_SPACE,
  growthFactorFor,
  parseSemiSpace,
  YoungGenerationCap,
  type YoungGenerationCapOptions,
} from "../../../src/lib/young-generation-cap.js";

const MiB = 1024 * 1024;

/** a cap whose flag settings are recorded instead of applied */
function recordingCap(opts: Omit<YoungGenerationCapOptions, "setFlag">): {
  cap: YoungGenerationCap;
  flags: string[];
} {
  const flags: string[] = [];
  return { cap: new YoungGenerationCap({ ...opts, setFlag: (f) => flags.push(f) }), flags };
}

describe("growthFactorFor", () => {
  it("doubles while two more doublings stay within the cap, then stops growth", () => {
    // new space = two semi-spaces
    expect(growthFactorFor(2 * 1 * MiB, 4)).toBe(2);
    expect(growthFactorFor(2 * 2 * MiB, 4)).toBe(1);
    expect(growthFactorFor(2 * 4 * MiB, 4)).toBe(1);
    expect(growthFactorFor(2 * 16 * MiB, 4)).toBe(1);
    expect(growthFactorFor(2 * 1 * MiB, 1)).toBe(1);
  });
});

describe("parseSemiSpace", () => {
  it("takes auto (the default: 4 MiB lifted under load), 0 and fixed powers of two up to 16", () => {
    expect(parseSemiSpace(undefined, "--max-semi-space")).toEqual({
      maxSemiSpaceMiB: 4,
      liftUnderLoad: true,
    });
    expect(parseSemiSpace("auto", "--max-semi-space")).toEqual(DEFAULT_SEMI_SPACE);
    for (const v of ["0", "1", "2", "4", "8", "16"])
      expect(parseSemiSpace(v, "--max-semi-space")).toEqual({
        maxSemiSpaceMiB: Number(v),
        liftUnderLoad: false,
      });
  });
  it("refuses anything else with a message that lists the values", () => {
    for (const v of ["3", "32", "-1", "2.5", "x", "", "Auto"]) {
      expect(() => parseSemiSpace(v, "--max-semi-space")).toThrow(UsageError);
      expect(() => parseSemiSpace(v, "--max-semi-space")).toThrow(
        /--max-semi-space must be auto, 0 .* or 1, 2, 4, 8 or 16 MiB/,
      );
    }
  });
});

describe("YoungGenerationCap with a fake heap", () => {
  it("sets the factor only when it changes, and back to 2 after V8 shrank the space", () => {
    let size = 2 * MiB;
    const { cap, flags } = recordingCap({
      maxSemiSpaceMiB: 4,
      newSpaceBytes: () => size,
    });
    cap.check();
    size = 4 * MiB;
    cap.check();
    size = 8 * MiB;
    cap.check();
    cap.check();
    size = 2 * MiB;
    cap.check();
    expect(flags).toEqual([
      "--semi-space-growth-factor=2",
      "--semi-space-growth-factor=1",
      "--semi-space-growth-factor=2",
    ]);
    cap.stop();
  });
  it("does nothing with a cap of 0", () => {
    const { cap, flags } = recordingCap({
      maxSemiSpaceMiB: 0,
      newSpaceBytes: () => 2 * MiB,
    });
    cap.start();
    cap.stop();
    expect(flags).toEqual([]);
  });
});

describe("YoungGenerationCap lifted under load, with a fake loop", () => {
  it("lifts the cap after three busy samples in a row and puts it back at the first quiet one", () => {
    const elu: number[] = [];
    const { cap, flags } = recordingCap({
      maxSemiSpaceMiB: 4,
      newSpaceBytes: () => 2 * 4 * MiB,
      liftUnderLoad: { loopUtilisation: () => elu.shift() ?? 0 },
    });
    cap.check();
    expect(flags).toEqual(["--semi-space-growth-factor=1"]);
    // busy, busy, quiet: a short burst keeps the cap
    elu.push(0.9, 0.8, 0.1);
    for (let i = 0; i < 3; i++) cap.sample();
    expect(cap.lifted).toBe(false);
    expect(flags).toHaveLength(1);
    // three in a row lift it: V8 may grow the space again
    elu.push(0.6, 0.5, 0.7);
    for (let i = 0; i < 3; i++) cap.sample();
    expect(cap.lifted).toBe(true);
    expect(flags).toEqual(["--semi-space-growth-factor=1", "--semi-space-growth-factor=2"]);
    // every GC while lifted leaves growth on, whatever the size
    cap.check();
    expect(flags).toHaveLength(2);
    // one quiet sample: capped again
    elu.push(0.2);
    cap.sample();
    expect(cap.lifted).toBe(false);
    expect(flags).toEqual([
      "--semi-space-growth-factor=1",
      "--semi-space-growth-factor=2",
      "--semi-space-growth-factor=1",
    ]);
    cap.stop();
  });
  it("never lifts a fixed cap", () => {
    const { cap, flags } = recordingCap({
      maxSemiSpaceMiB: 4,
      newSpaceBytes: () => 2 * 4 * MiB,
    });
    for (let i = 0; i < 5; i++) cap.sample();
    cap.check();
    expect(cap.lifted).toBe(false);
    expect(flags).toEqual(["--semi-space-growth-factor=1"]);
  });
});

describe("YoungGenerationCap in a real V8", () => {
  const dir = mkdtempSync(join(tmpdir(), "ek-young-cap-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** the largest semi-space (MiB) a burst of short-lived objects with some survivors reached */
  function maxSemiSpaceMiB(cap: number, busyLoop = false): number {
    const mod = pathToFileURL(resolve("src/lib/young-generation-cap.ts")).href;
    const script = join(dir, `burst-${cap}-${busyLoop}.mjs`);
    // a loop that reads as busy at every sample lifts the cap after three of them
    const lift = busyLoop ? ", liftUnderLoad: { loopUtilisation: () => 1, sampleMs: 5 }" : "";
    writeFileSync(
      script,
      `import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";
import { YoungGenerationCap } from ${JSON.stringify(mod)};
// as the hub after start-up: growth factor 2 (relaxYoungGeneration), then the cap
setFlagsFromString("--semi-space-growth-factor=2");
const cap = new YoungGenerationCap({ maxSemiSpaceMiB: ${cap}${lift} });
cap.start();
const keep = [];
let max = 0;
for (let r = 0; r < 300; r++) {
  const a = [];
  for (let i = 0; i < 20000; i++) a.push({ i, s: "x" + i, b: [i, i] });
  keep.push(a.slice(0, 2000));
  if (keep.length > 20) keep.shift();
  max = Math.max(max, getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size);
  // the hub's work comes in many event-loop turns: the GC observer runs between them
  await new Promise((r) => setImmediate(r));
}
cap.stop();
process.stdout.write(String(max / 2 / ${MiB}));
`,
    );
    return Number(execFileSync(process.execPath, ["--import", "tsx", script], { encoding: "utf8" }));
  }

  it("keeps the semi-spaces within the cap where V8 alone grows them to 16 MiB", () => {
    expect(maxSemiSpaceMiB(0)).toBe(16);
    expect(maxSemiSpaceMiB(2)).toBeLessThanOrEqual(2);
    expect(maxSemiSpaceMiB(4)).toBeLessThanOrEqual(4);
  });

  it("lets V8 grow them again while sustained load lifts the cap", () => {
    expect(maxSemiSpaceMiB(4, true)).toBe(16);
  });
});
