/**
 * `edge-hub server --max-semi-space` (src/cmd/edge-hub.ts), through hubMain itself: a wrong
 * value is a usage error (exit 2) that names the accepted values, and the help documents the
 * flag with its default and the off switch. Every case answers before a data dir is read or a
 * port opened; the data dir is a fresh temp path that is never created anyway.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { hubMain } from "../../../src/cmd/edge-hub.js";
import { DEFAULT_MAX_SEMI_SPACE_MIB } from "../../../src/lib/young-generation-cap.js";

const dir = mkdtempSync(join(tmpdir(), "ek-hub-args-"));
const dataDir = join(dir, "never-created");
let out = "";
let err = "";

beforeEach(() => {
  out = "";
  err = "";
  vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => {
    err += String(s);
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("edge-hub server --max-semi-space", () => {
  it("refuses a size that is not 0 or a power of two up to 16, saying which are accepted", async () => {
    for (const v of ["3", "32", "big"]) {
      err = "";
      expect(await hubMain(["server", "--data-dir", dataDir, "--max-semi-space", v])).toBe(2);
      expect(err).toContain(
        `--max-semi-space must be 0 (V8's own young generation) or 1, 2, 4, 8 or 16 MiB, got "${v}"`,
      );
    }
    expect(existsSync(dataDir)).toBe(false);
  });

  it("is in the help with its default and the off switch", async () => {
    expect(await hubMain(["server", "--help"])).toBe(0);
    expect(out).toContain("--max-semi-space MIB");
    expect(out).toContain(`(default ${DEFAULT_MAX_SEMI_SPACE_MIB};`);
    expect(out).toContain("or 0 for V8's own");
  });
});
