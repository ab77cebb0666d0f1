/**
 * The shipped hub unit's environment (bench/lib/hub-unit-env.ts): parsed the way systemd spells
 * it, applied under what the caller sets, and — for GLIBC_TUNABLES — accepted by this machine's
 * glibc: the dynamic loader's own `--list-tunables` shows the values in force with that
 * environment (glibc ignores an unknown or misspelt tunable without a word).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  parseUnitEnvironment,
  shippedHubEnvironment,
  withUnitEnvironment,
} from "../../../bench/lib/hub-unit-env.js";

const LOADER = process.arch === "arm64" ? "/lib/ld-linux-aarch64.so.1" : "/lib64/ld-linux-x86-64.so.2";

describe("hub unit environment", () => {
  it("reads both systemd spellings of Environment= and nothing else", () => {
    const unit = [
      "[Service]",
      "EnvironmentFile=-/etc/default/x",
      "Environment=A=1",
      'Environment="B=two words" "C=3"',
      "ExecStart=/bin/true",
    ].join("\n");
    expect(parseUnitEnvironment(unit)).toEqual({ A: "1", B: "two words", C: "3" });
  });

  it("names the line of a malformed assignment", () => {
    expect(() => parseUnitEnvironment("[Service]\nEnvironment=novalue")).toThrow(
      /unit line 2: expected KEY=VALUE/,
    );
  });

  it("adds the unit's variables under the caller's own", () => {
    const env = withUnitEnvironment({ PATH: "/bin", GLIBC_TUNABLES: "" }, { GLIBC_TUNABLES: "x", Y: "1" });
    expect(env).toEqual({ PATH: "/bin", GLIBC_TUNABLES: "", Y: "1" });
  });

  it("ships malloc tunables this glibc accepts", () => {
    const unit = shippedHubEnvironment();
    expect(unit.GLIBC_TUNABLES).toBeDefined();
    if (!existsSync(LOADER)) throw new Error(`no dynamic loader at ${LOADER}: is this a glibc system?`);
    const run = spawnSync(LOADER, ["--list-tunables"], {
      env: { GLIBC_TUNABLES: unit.GLIBC_TUNABLES },
      encoding: "utf8",
    });
    expect(run.status).toBe(0);
    const value = (name: string) =>
      run.stdout.match(new RegExp(`^glibc\\.malloc\\.${name}: (0x[0-9a-f]+)`, "m"))?.[1];
    expect(value("mmap_threshold")).toBe("0x10000");
    expect(value("trim_threshold")).toBe("0x4000000");
  });
});
