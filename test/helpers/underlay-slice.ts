/**
 * Underlay slices for dev clusters that run side by side (test files in parallel workers, the
 * net benchmark): each cluster needs a /27 of 198.51.100.64–255 that no other cluster on this
 * machine uses.
 *
 * Design notes
 * - Two clusters on the same slice put the same host address on two links; the kernel then
 *   answers one cluster's agents through the other's link and the join times out. A random pick
 *   among six slices collided in CI, so slices are reserved, not guessed.
 * - A reservation is a lock file created with O_EXCL holding the owner's pid; a lock whose pid is
 *   gone (a killed test worker) is stale and taken over. A slice that already carries an address
 *   on some host link (a cluster left behind by a crashed run) is skipped as well.
 * - The developer's own `scripts/dev-cluster` uses .0/27, which is never handed out here.
 * - Any test that puts a 198.51.100.x address on a *host* link must take it from a reserved
 *   slice: a host route more specific than a dev cluster's /27 (say a /28 inside it) steals that
 *   cluster's replies, and its agents time out joining (seen in CI with the black-hole test).
 *   Addresses inside namespaces a test made (NetnsLab) do not touch host routing.
 */
import { execFileSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const lockDir = join(tmpdir(), "edgekube-test-underlay");
const slices = [64, 96, 128, 160, 192, 224];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Fourth octets of 198.51.100.x addresses on this host's links. */
function hostOctets(): number[] {
  const out = execFileSync("ip", ["-j", "-4", "addr", "show"], { encoding: "utf8" });
  const links = JSON.parse(out || "[]") as { addr_info?: { local?: string }[] }[];
  return links
    .flatMap((l) => l.addr_info ?? [])
    .map((a) => a.local ?? "")
    .filter((a) => a.startsWith("198.51.100."))
    .map((a) => Number(a.split(".")[3]));
}

function createLock(path: string): boolean {
  try {
    const fd = openSync(path, "wx");
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
}

function tryLock(path: string): boolean {
  if (createLock(path)) return true;
  let owner = 0;
  try {
    owner = Number(readFileSync(path, "utf8").trim());
  } catch {
    return createLock(path); // released meanwhile
  }
  if (Number.isInteger(owner) && owner > 0 && alive(owner)) return false;
  rmSync(path, { force: true }); // stale: its owner died without releasing it
  return createLock(path);
}

export interface UnderlaySlice {
  cidr: string;
  /** address `n` (1–30) of the slice */
  ip(n: number): string;
  release(): void;
}

/** Reserves a free /27 slice; throws naming the lock directory when all six are taken. */
export function reserveUnderlaySlice(): UnderlaySlice {
  mkdirSync(lockDir, { recursive: true });
  const used = hostOctets();
  const order = [...slices].sort(() => Math.random() - 0.5);
  for (const s of order) {
    if (used.some((o) => o >= s && o < s + 32)) continue;
    const path = join(lockDir, String(s));
    if (!tryLock(path)) continue;
    let released = false;
    return {
      cidr: `198.51.100.${s}/27`,
      ip: (n) => {
        if (n < 1 || n > 30) throw new Error(`address ${n} is outside the slice (1–30)`);
        return `198.51.100.${s + n}`;
      },
      release: () => {
        if (released) return;
        released = true;
        rmSync(path, { force: true });
      },
    };
  }
  throw new Error(
    `no free dev-cluster underlay slice in 198.51.100.64/26+: all are in use by live test processes or host links (locks in ${lockDir}); run fewer dev-cluster tests at once or remove clusters left behind (ip -4 addr show)`,
  );
}
