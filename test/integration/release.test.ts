/**
 * The release executables (scripts/build-release.mjs): built once per run (incremental, so a
 * warm rebuild takes seconds; a cold one about 1.5 minutes), then checked as a user would use
 * them: architecture, --version natively and under qemu-user, argv[0] dispatch through an
 * `edge-hub` symlink, and a hub started from each executable that kubectl can use.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runKubectl } from "../helpers/hub.js";
import { need, type Prereq } from "../helpers/prereq.js";
import {
  ARCHES,
  buildRelease,
  type ExeHub,
  exePath,
  RELEASE_DIR,
  ROOT,
  run,
  startExeHub,
} from "../helpers/release-exe.js";

function has(file: string, why: string): Prereq {
  return { ok: existsSync(file), why: existsSync(file) ? "" : why };
}

const prereqs = need(
  has("/usr/bin/file", "needs file(1) (scripts/prereqs.sh)"),
  has(
    "/usr/bin/aarch64-linux-gnu-g++",
    "needs g++-aarch64-linux-gnu to cross-compile SQLite (scripts/prereqs.sh)",
  ),
  has(
    "/proc/sys/fs/binfmt_misc/qemu-aarch64",
    "needs qemu-aarch64 registered in binfmt_misc (scripts/prereqs.sh)",
  ),
  has("/usr/bin/kubectl", "needs kubectl at /usr/bin/kubectl"),
);

const FILE_SAYS = { amd64: "x86-64", arm64: "ARM aarch64" } as const;

describe.skipIf(!prereqs)("release executables", () => {
  const home = mkdtempSync(join(tmpdir(), "ek-release-kubectl-"));
  const hubs: ExeHub[] = [];

  beforeAll(async () => {
    const ms = await buildRelease();
    console.log(`release build took ${(ms / 1000).toFixed(1)} s`);
  }, 20 * 60_000);

  afterAll(async () => {
    await Promise.all(hubs.map((h) => h.stop()));
    rmSync(home, { recursive: true, force: true });
  });

  it("builds both executables and lists them in SHA256SUMS", () => {
    const sums = readFileSync(join(RELEASE_DIR, "SHA256SUMS"), "utf8");
    for (const arch of ARCHES) {
      const digest = createHash("sha256")
        .update(readFileSync(exePath(arch)))
        .digest("hex");
      expect(sums).toContain(`${digest}  edgekube-linux-${arch}\n`);
    }
  });

  it.each(ARCHES)("%s: file(1) names the architecture", async (arch) => {
    const r = await run("file", ["-b", exePath(arch)]);
    expect(r.stdout).toContain("ELF 64-bit");
    expect(r.stdout).toContain(FILE_SAYS[arch]);
  });

  it.each(ARCHES)("%s: --version prints version, commit and Node version", async (arch) => {
    const head = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: ROOT }).toString().trim();
    const r = await run(exePath(arch), ["--version"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(
      new RegExp(`^edgekube \\d+\\.\\d+\\.\\d+ \\(commit ${head}(-dirty)?, node ${process.version}\\)$`),
    );
  });

  it("dispatches on the name it was invoked as", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ek-release-link-"));
    try {
      symlinkSync(exePath("amd64"), join(dir, "edge-hub"));
      const viaLink = await run(join(dir, "edge-hub"), ["--help"]);
      expect(viaLink.code).toBe(0);
      expect(viaLink.stdout).toContain("Usage: edge-hub <command>");
      const direct = await run(exePath("amd64"), ["--help"]);
      expect(direct.stdout).toContain("Usage:\n  edgekube hub <command>");
      const unknown = await run(exePath("amd64"), ["frobnicate"]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('unknown command "frobnicate"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // arm64 runs under qemu-user: slower to start, and it proves the cross-compiled SQLite addon loads.
  it.each(ARCHES)(
    "%s: starts a hub that answers /readyz and kubectl",
    async (arch) => {
      const hub = await startExeHub(arch);
      hubs.push(hub);
      await hub.ready;
      const ready = await runKubectl(hub.kubeconfig, home, ["get", "--raw", "/readyz"]);
      expect(ready.stdout).toBe("ok");
      const ns = await runKubectl(hub.kubeconfig, home, ["get", "ns", "-o", "name"]);
      expect(ns.stdout.split("\n")).toContain("namespace/default");
      // The SQLite addon came out of the executable: extracted once, by content hash.
      const addon = execFileSync("ls", [hub.dataDir]).toString();
      expect(addon).toMatch(/better_sqlite3-[0-9a-f]{16}\.node/);
      const created = await runKubectl(hub.kubeconfig, home, ["create", "namespace", `rel-${arch}`]);
      expect(created.stdout).toContain(`namespace/rel-${arch} created`);
    },
    // emulated arm64 on a loaded 2-core machine can need minutes to start
    360_000,
  );
});
