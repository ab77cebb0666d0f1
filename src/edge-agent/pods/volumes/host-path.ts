/**
 * hostPath volumes: the type checks of upstream's hostpath plugin. The path is the user's own
 * host path (the one volume kind that is not under the pod's directory); only the *OrCreate
 * types create anything, and only at that path.
 */
import { closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { VolumeError } from "./paths.js";

const CHECKS: Record<string, { test: (s: ReturnType<typeof statSync>) => boolean; what: string }> = {
  Directory: { test: (s) => s?.isDirectory() === true, what: "a directory" },
  DirectoryOrCreate: { test: (s) => s?.isDirectory() === true, what: "a directory" },
  File: { test: (s) => s?.isFile() === true, what: "a file" },
  FileOrCreate: { test: (s) => s?.isFile() === true, what: "a file" },
  Socket: { test: (s) => s?.isSocket() === true, what: "a socket file" },
  CharDevice: { test: (s) => s?.isCharacterDevice() === true, what: "a character device" },
  BlockDevice: { test: (s) => s?.isBlockDevice() === true, what: "a block device" },
};

/** Checks (and for *OrCreate creates) `path`; throws VolumeError with upstream's message. */
export function setupHostPath(volume: string, path: string, type: string | undefined): string {
  if (!path.startsWith("/")) throw new VolumeError(volume, `hostPath "${path}" must be an absolute path`);
  if (!type) return path;
  const check = CHECKS[type];
  if (!check) {
    throw new VolumeError(
      volume,
      `hostPath type "${type}" is not supported: use Directory, DirectoryOrCreate, File, FileOrCreate, Socket, CharDevice or BlockDevice`,
    );
  }
  if (!existsSync(path)) {
    if (type === "DirectoryOrCreate") mkdirSync(path, { recursive: true, mode: 0o755 });
    else if (type === "FileOrCreate") {
      mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
      closeSync(openSync(path, "a", 0o644));
    } else throw new VolumeError(volume, `hostPath type check failed: ${path} does not exist`);
  }
  if (!check.test(statSync(path))) {
    throw new VolumeError(volume, `hostPath type check failed: ${path} is not ${check.what}`);
  }
  return path;
}
