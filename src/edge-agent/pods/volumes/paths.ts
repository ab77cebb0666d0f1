/**
 * Path rules for volumes: where a pod's volumes live and which user-supplied relative paths
 * (subPath, items[].path) are acceptable.
 *
 * Design notes
 * - Layout: DATA_DIR/pods/<uid>/volumes/<kind>/<volume> (kind: emptydir, configmap, secret,
 *   downwardapi, projected), so removing a pod is one `rm -r` of its directory.
 * - A relative path may not be absolute and may not contain a `..` component (upstream's
 *   validation, repeated here because the cache is not a trust boundary). After joining, the
 *   real path must still be inside the volume: a symlink planted by a container in a writable
 *   volume must not lead a later subPath mount out of it (CVE-2017-1002101).
 */
import { existsSync, mkdirSync, realpathSync } from "node:fs";
import { isAbsolute, join, relative, sep } from "node:path";

export type VolumeKind = "emptydir" | "configmap" | "secret" | "downwardapi" | "projected";

/** A volume could not be set up; the pod waits and a FailedMount event says why. */
export class VolumeError extends Error {
  readonly reason = "FailedMount";
  constructor(
    readonly volume: string,
    detail: string,
  ) {
    super(`MountVolume.SetUp failed for volume "${volume}" : ${detail}`);
    this.name = "VolumeError";
  }
}

export function podDir(dataDir: string, uid: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(uid)) throw new Error(`refusing pod uid "${uid}": not a plain uid`);
  return join(dataDir, "pods", uid);
}

export function volumeDir(dataDir: string, uid: string, kind: VolumeKind, name: string): string {
  return join(podDir(dataDir, uid), "volumes", kind, name);
}

/** Why `p` is not an acceptable relative path, or undefined when it is. */
export function relativePathProblem(p: string): string | undefined {
  if (p === "") return "must not be empty";
  if (isAbsolute(p)) return "must be a relative path";
  if (p.split(/[\\/]/).includes("..")) return "must not contain '..'";
  return undefined;
}

export function isInside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

/**
 * The host path of `subPath` inside `volumePath`, created as a directory when missing (as the
 * kubelet does). Throws VolumeError on traversal, before anything is created.
 */
export function resolveSubPath(volume: string, volumePath: string, subPath: string): string {
  const problem = relativePathProblem(subPath);
  if (problem) {
    throw new VolumeError(
      volume,
      `subPath "${subPath}" ${problem}: use a path relative to the volume's root, without '..'`,
    );
  }
  const target = join(volumePath, subPath);
  const root = realpathSync(volumePath);
  // check every existing ancestor: a symlink may point out before the last component exists
  let probe = target;
  while (!existsSync(probe) && probe !== volumePath) probe = join(probe, "..");
  if (!isInside(root, realpathSync(probe))) {
    throw new VolumeError(
      volume,
      `subPath "${subPath}" resolves outside the volume (through a symlink): refusing to mount it`,
    );
  }
  if (!existsSync(target)) mkdirSync(target, { recursive: true, mode: 0o755 });
  if (!isInside(root, realpathSync(target))) {
    throw new VolumeError(volume, `subPath "${subPath}" resolves outside the volume: refusing to mount it`);
  }
  return target;
}
