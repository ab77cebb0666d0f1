/**
 * Test images without a registry (see shared recipes/test-images.md): `edgekube/busybox:test`
 * is imported from Debian's busybox-static (/bin/busybox) with a link for every applet.
 *
 * Idempotent and safe across parallel test files: an image already loaded is reused, and two
 * files importing at once produce the same content under the same tag. Nothing is ever pulled.
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const BUSYBOX_IMAGE = "edgekube/busybox:test";

function imagePresent(ref: string): boolean {
  return spawnSync("docker", ["image", "inspect", ref], { stdio: "ignore" }).status === 0;
}

/** Returns the busybox test image's reference, importing it first when it is not loaded. */
export function ensureBusyboxImage(): string {
  if (imagePresent(BUSYBOX_IMAGE)) return BUSYBOX_IMAGE;
  if (!existsSync("/bin/busybox")) {
    throw new Error(
      "/bin/busybox is missing: install Debian's busybox-static (apt-get install busybox-static)",
    );
  }
  const root = mkdtempSync(join(tmpdir(), "edgekube-busybox-"));
  try {
    for (const d of ["bin", "etc", "tmp", "proc", "sys", "dev", "root"]) mkdirSync(join(root, d));
    chmodSync(join(root, "tmp"), 0o1777);
    copyFileSync("/bin/busybox", join(root, "bin/busybox"));
    chmodSync(join(root, "bin/busybox"), 0o755);
    const applets = execFileSync("/bin/busybox", ["--list"], { encoding: "utf8" }).split("\n");
    for (const a of applets) {
      if (a && a !== "busybox") symlinkSync("busybox", join(root, "bin", a));
    }
    writeFileSync(
      join(root, "etc/passwd"),
      "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n",
    );
    writeFileSync(join(root, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");
    const tar = execFileSync("tar", ["-C", root, "-c", "."], { maxBuffer: 64 * 1024 * 1024 });
    execFileSync("docker", ["import", "-c", 'CMD ["sh"]', "-c", "ENV PATH=/bin", "-", BUSYBOX_IMAGE], {
      input: tar,
      stdio: ["pipe", "ignore", "pipe"],
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return BUSYBOX_IMAGE;
}
