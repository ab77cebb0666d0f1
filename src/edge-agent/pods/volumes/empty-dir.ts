/**
 * emptyDir volumes: a directory under the pod's dir, world-writable (0777) as upstream so any
 * container user can write it; medium Memory is a tmpfs mounted there when the agent runs as
 * root (sizeLimit becomes the tmpfs size), else a plain directory and a warning.
 *
 * Design notes
 * - An adopted pod's tmpfs is already mounted: mounting is skipped when /proc/self/mountinfo
 *   already lists the directory, so an agent restart never hides data under a second mount.
 * - Unmounting happens before the pod directory is removed, otherwise `rm -r` would only empty
 *   the tmpfs and leave the mount behind.
 */
import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { promisify } from "node:util";
import { toBytes } from "../../../api/quantity.js";
import { VolumeError } from "./paths.js";

const run = promisify(execFile);

/** Mount points (unescaped) from /proc/self/mountinfo that are at or below `prefix`. */
export function mountsUnder(prefix: string): string[] {
  let text = "";
  try {
    text = readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const field = line.split(" ")[4];
    if (!field) continue;
    const p = field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
    if (p === prefix || p.startsWith(`${prefix}/`)) out.push(p);
  }
  return out;
}

export interface EmptyDirResult {
  path: string;
  /** set when medium Memory fell back to disk */
  warning?: string;
}

export async function setupEmptyDir(
  volume: string,
  dir: string,
  medium: string | undefined,
  sizeLimit: string | number | undefined,
  isRoot: boolean,
): Promise<EmptyDirResult> {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
  }
  if (medium !== "Memory") return { path: dir };
  if (!isRoot) {
    return {
      path: dir,
      warning: `emptyDir "${volume}" asks for medium Memory but the agent is not root and cannot mount tmpfs: using a directory on disk instead`,
    };
  }
  if (mountsUnder(dir).includes(dir)) return { path: dir };
  const opts = ["mode=0777"];
  if (sizeLimit !== undefined) opts.push(`size=${toBytes(sizeLimit)}`);
  try {
    await run("mount", ["-t", "tmpfs", "-o", opts.join(","), "tmpfs", dir]);
  } catch (err) {
    throw new VolumeError(volume, `mounting tmpfs at ${dir} failed: ${(err as Error).message}`);
  }
  return { path: dir };
}

/** Unmounts every mount below `dir` (deepest first); resolves with what failed. */
export async function unmountAll(dir: string): Promise<string[]> {
  const failed: string[] = [];
  for (const m of mountsUnder(dir).sort((a, b) => b.length - a.length)) {
    try {
      await run("umount", [m]);
    } catch {
      failed.push(m);
    }
  }
  return failed;
}
