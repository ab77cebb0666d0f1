/**
 * Atomic projection of a file set into a volume directory, as upstream's AtomicWriter does for
 * configMap, secret, downwardAPI and projected volumes.
 *
 * Design notes
 * - Layout inside the volume:
 *     ..2024_05_01_10_00_00.123456/   the current payload (real files, with their modes)
 *     ..data -> ..2024_05_01_…         one symlink, swapped with rename(2)
 *     key    -> ..data/key             one user-visible symlink per top-level path
 *   The container bind-mounts the volume directory; all links are relative, so they resolve
 *   inside the container. A new payload is written into a fresh timestamped directory and
 *   `..data` is renamed over in one step: a reader sees the old set or the new set, never a mix.
 *   That is how updates of a ConfigMap reach a running container.
 * - Nothing is written when the payload equals what is there (SD cards wear out).
 * - Paths come from user objects: each is checked (relative, no '..') before anything is written.
 */
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { relativePathProblem } from "./paths.js";

export interface FileProjection {
  data: Buffer;
  /** permission bits, e.g. 0o644 */
  mode: number;
}

export type Payload = Map<string, FileProjection>;

const DATA_LINK = "..data";
const DATA_TMP = "..data_tmp";

function readTree(root: string, rel = ""): Payload {
  const out: Payload = new Map();
  for (const ent of readdirSync(join(root, rel), { withFileTypes: true })) {
    const p = rel === "" ? ent.name : `${rel}/${ent.name}`;
    if (ent.isDirectory()) for (const [k, v] of readTree(root, p)) out.set(k, v);
    else if (ent.isFile()) {
      const full = join(root, p);
      out.set(p, { data: readFileSync(full), mode: statSync(full).mode & 0o7777 });
    }
  }
  return out;
}

function samePayload(a: Payload, b: Payload): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w || w.mode !== v.mode || !w.data.equals(v.data)) return false;
  }
  return true;
}

function tsName(now: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return (
    `..${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_` +
    `${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}.`
  );
}

const topLevel = (payload: Iterable<string>) => new Set([...payload].map((p) => p.split("/")[0]!));

/** Projects `payload` into `dir`; resolves true when something changed on disk. */
export function writeAtomic(dir: string, payload: Payload): boolean {
  for (const p of payload.keys()) {
    const problem = relativePathProblem(p);
    if (problem || p.startsWith(".."))
      throw new Error(`invalid file path "${p}" in volume: ${problem ?? "must not start with '..'"}`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const link = join(dir, DATA_LINK);
  const oldTs = existsSync(link) ? readlinkSync(link) : undefined;
  const oldPayload = oldTs ? readTree(join(dir, oldTs)) : new Map();
  if (oldTs && samePayload(oldPayload, payload)) {
    ensureUserLinks(dir, payload.keys());
    return false;
  }
  const tsDir = mkdtempSync(join(dir, tsName(new Date())));
  chmodSync(tsDir, 0o755);
  for (const [p, f] of payload) {
    const full = join(tsDir, p);
    mkdirSync(dirname(full), { recursive: true, mode: 0o755 });
    writeFileSync(full, f.data, { mode: f.mode });
    chmodSync(full, f.mode);
  }
  const tmp = join(dir, DATA_TMP);
  rmSync(tmp, { force: true });
  symlinkSync(basename(tsDir), tmp);
  renameSync(tmp, link);
  ensureUserLinks(dir, payload.keys());
  const keep = topLevel(payload.keys());
  for (const name of topLevel(oldPayload.keys())) {
    if (!keep.has(name)) rmSync(join(dir, name), { force: true });
  }
  if (oldTs && oldTs !== basename(tsDir)) rmSync(join(dir, oldTs), { recursive: true, force: true });
  return true;
}

function ensureUserLinks(dir: string, paths: Iterable<string>): void {
  for (const name of topLevel(paths)) {
    const p = join(dir, name);
    let present = false;
    try {
      present = lstatSync(p).isSymbolicLink() && readlinkSync(p) === `${DATA_LINK}/${name}`;
      if (!present) unlinkSync(p);
    } catch {
      // absent: created below
    }
    if (!present) symlinkSync(`${DATA_LINK}/${name}`, p);
  }
}
