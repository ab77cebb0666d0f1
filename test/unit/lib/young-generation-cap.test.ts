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
  growthFactorFor,
  parseSemiSpaceMiB,
  YoungGenerationCap,
} from "../../../src/lib/young-generation-cap.js";

const MiB = 1024 * 1024;

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

describe("parseSemiSpaceMiB", () => {
  it("takes 0 and powers of two up to 16, defaults when absent", () => {
    expect(parseSemiSpaceMiB(undefined, "--max-semi-space", 4)).toBe(4);
    for (const v of ["0", "1", "2", "4", "8", "16"])
      expect(parseSemiSpaceMiB(v, "--max-semi-space", 4)).toBe(Number(v));
  });
  it("refuses anything else with a message that lists the values", () => {
    for (const v of ["3", "32", "-1", "2.5", "x", ""]) {
      expect(() => parseSemiSpaceMiB(v, "--max-semi-space", 4)).toThrow(UsageError);
      expect(() => parseSemiSpaceMiB(v, "--max-semi-space", 4)).toThrow(
        /--max-semi-space must be 0 .* or 1, 2, 4, 8 or 16 MiB/,
      );
    }
  });
});

describe("YoungGenerationCap with a fake heap", () => {
  it("sets the factor only when it changes, and back to 2 after V8 shrank the space", () => {
    let size = 2 * MiB;
    const flags: string[] = [];
    const cap = new YoungGenerationCap({
      maxSemiSpaceMiB: 4,
      newSpaceBytes: () => size,
      setFlag: (f) => flags.push(f),
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
    const flags: string[] = [];
    const cap = new YoungGenerationCap({
      maxSemiSpaceMiB: 0,
      newSpaceBytes: () => 2 * MiB,
      setFlag: (f) => flags.push(f),
    });
    cap.start();
    cap.stop();
    expect(flags).toEqual([]);
  });
});

describe("YoungGenerationCap in a real V8", () => {
  const dir = mkdtempSync(join(tmpdir(), "ek-young-cap-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** the largest semi-space (MiB) a burst of short-lived objects with some survivors reached */
  function maxSemiSpaceMiB(cap: number): number {
    const mod = pathToFileURL(resolve("src/lib/young-generation-cap.ts")).href;
    const script = join(dir, `burst-${cap}.mjs`);
    writeFileSync(
      script,
      `import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";
import { YoungGenerationCap } from ${JSON.stringify(mod)};
// as the hub after start-up: growth factor 2 (relaxYoungGeneration), then the cap
setFlagsFromString("--semi-space-growth-factor=2");
const cap = new YoungGenerationCap({ maxSemiSpaceMiB: ${cap} });
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
});
