/**
 * `edge-hub server --max-semi-space` (src/cmd/edge-hub.ts), through hubMain itself: a wrong
 * value is a usage error (exit 2) that names the accepted values, and the help documents the
 * flag with its default and the off switch. Every case answers before a data dir is read or a
 * port opened; the data dir is a fresh temp path that is never created anyway.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hubMain } from "../../../src/cmd/edge-hub.js";
import { captureCliOutput } from "../../helpers/cli-output.js";

const dir = mkdtempSync(join(tmpdir(), "ek-hub-args-"));
const dataDir = join(dir, "never-created");
const io = captureCliOutput();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("edge-hub server --max-semi-space", () => {
  it("refuses a size that is not 0 or a power of two up to 16, saying which are accepted", async () => {
    for (const v of ["3", "32", "big"]) {
      io.err = "";
      expect(await hubMain(["server", "--data-dir", dataDir, "--max-semi-space", v])).toBe(2);
      expect(io.err).toContain(
        `--max-semi-space must be auto, 0 (V8's own young generation) or 1, 2, 4, 8 or 16 MiB, got "${v}"`,
      );
    }
    expect(existsSync(dataDir)).toBe(false);
  });

  it("is in the help with its default and the off switch", async () => {
    expect(await hubMain(["server", "--help"])).toBe(0);
    expect(io.out).toContain("--max-semi-space MIB");
    expect(io.out).toContain("(default auto;");
    expect(io.out).toContain("auto is\n                         4 MiB, lifted while the hub stays busy");
    expect(io.out).toContain("or 0 for V8's own");
  });
});
