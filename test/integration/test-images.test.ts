/**
 * scripts/build-test-images.sh: both busybox images load into the real dockerd from their
 * tarballs and run; the arm64 one under qemu-user via binfmt_misc. Containers run by image id
 * with --pull never, so nothing here can reach for a registry.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { hasDocker, hasRoot, need, type Prereq } from "../helpers/prereq.js";

const ROOT = resolve(import.meta.dirname, "../..");

function sh(
  cmd: string,
  args: string[],
  timeoutMs = 120_000,
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((done) => {
    execFile(cmd, args, { cwd: ROOT, timeout: timeoutMs, maxBuffer: 16 << 20 }, (e, out, err) =>
      done({ code: e ? (typeof e.code === "number" ? e.code : 1) : 0, out, err }),
    );
  });
}

const binfmt: Prereq = {
  ok: existsSync("/proc/sys/fs/binfmt_misc/qemu-aarch64"),
  why: "needs qemu-aarch64 registered in binfmt_misc (scripts/prereqs.sh)",
};

const IMAGES = [
  { arch: "amd64", tar: "images/build/busybox-amd64.tar", tag: "edgekube/busybox:test", uname: "x86_64" },
  {
    arch: "arm64",
    tar: "images/build/busybox-arm64.tar",
    tag: "edgekube/busybox:test-arm64",
    uname: "aarch64",
  },
] as const;

const APPLETS =
  "sh httpd wget nc sleep cat hostname nslookup echo ls env id ps kill date head tail grep mkdir touch true false test printf seq dd ping timeout";

describe.skipIf(!need(hasRoot(), hasDocker(), binfmt))("test images", () => {
  beforeAll(async () => {
    const r = await sh("bash", ["scripts/build-test-images.sh"], 300_000);
    if (r.code !== 0) throw new Error(`build-test-images.sh failed (exit ${r.code}):\n${r.err}`);
  }, 300_000);

  it.each(IMAGES)("$arch: loads from $tar and runs uname -m = $uname", async (img) => {
    const load = await sh("docker", ["load", "-i", join(ROOT, img.tar)]);
    expect(load.code, load.err).toBe(0);
    expect(load.out).toContain(`Loaded image: ${img.tag}`);
    const inspect = await sh("docker", [
      "image",
      "inspect",
      "-f",
      "{{.Id}} {{.Os}}/{{.Architecture}}",
      img.tag,
    ]);
    const [id, platform] = inspect.out.trim().split(" ");
    expect(platform).toBe(`linux/${img.arch}`);
    const name = `ek-test-image-${img.arch}-${process.pid}-${Date.now()}`;
    try {
      const r = await sh("docker", [
        "run",
        "--rm",
        "--pull",
        "never",
        "--network",
        "none",
        "--name",
        name,
        id ?? "",
        "uname",
        "-m",
      ]);
      expect(r.code, r.err).toBe(0);
      expect(r.out.trim()).toBe(img.uname);
    } finally {
      await sh("docker", ["rm", "-f", name]);
    }
  });

  it("has the applets pod tests use, on PATH", async () => {
    const name = `ek-test-image-applets-${process.pid}-${Date.now()}`;
    try {
      const r = await sh("docker", [
        "run",
        "--rm",
        "--pull",
        "never",
        "--network",
        "none",
        "--name",
        name,
        "edgekube/busybox:test",
        "sh",
        "-c",
        `for a in ${APPLETS}; do command -v "$a" >/dev/null || echo "missing $a"; done; echo done`,
      ]);
      expect(r.code, r.err).toBe(0);
      expect(r.out.trim()).toBe("done");
    } finally {
      await sh("docker", ["rm", "-f", name]);
    }
  });
});
