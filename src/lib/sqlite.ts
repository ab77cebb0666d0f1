/**
 * openDatabase: every SQLite connection of the program is opened here, so that the single
 * executable (Node SEA) can hand better-sqlite3 its native addon itself.
 *
 * Design notes
 * - Outside a SEA this is plain better-sqlite3: its `bindings` lookup finds the addon in
 *   node_modules.
 * - Inside a SEA there is no node_modules and `require()` resolves built-ins only. The addon
 *   travels as the SEA asset `better_sqlite3.node` (scripts/build-release.mjs). dlopen needs a
 *   real file, so the asset is written once to `better_sqlite3-<sha256 prefix>.node`: a new
 *   build with another addon gets another file, while restarts and concurrent processes of the
 *   same build reuse one. It is written to a temp file and renamed into place, so a process
 *   never loads a half-written file; an existing file is re-hashed before use, so a corrupt one
 *   is replaced rather than loaded.
 * - Where: the first of `nativeDir`, the database file's folder and os.tmpdir() in which
 *   writing and dlopen both succeed. A folder on a noexec mount accepts the write but fails the
 *   dlopen ("failed to map segment"), hence trying the next.
 * - The loaded addon object is kept for the life of the process: dlopen of one file yields one
 *   handle anyway, and better-sqlite3 initialises an addon object once. better-sqlite3 takes
 *   the object itself (`nativeBinding`), not a path, so it never calls require().
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { getAsset, isSea } from "node:sea";
import Database, { type Options } from "better-sqlite3";

/** The SEA asset key that scripts/build-release.mjs stores the addon under. */
export const ADDON_ASSET = "better_sqlite3.node";

export interface OpenDatabaseOptions extends Options {
  /** preferred folder for the extracted native addon (single executable only) */
  readonly nativeDir?: string;
}

/** What process.dlopen fills in: an addon's exports. */
type Addon = object;

let loaded: { addon: Addon; file: string } | undefined;

/** Opens (creating unless fileMustExist) a SQLite database with better-sqlite3. */
export function openDatabase(path: string, options: OpenDatabaseOptions = {}): Database {
  const { nativeDir, ...dbOptions } = options;
  if (!isSea()) return new Database(path, dbOptions);
  const dirs: string[] = [];
  if (nativeDir) dirs.push(nativeDir);
  if (path !== ":memory:" && path !== "") dirs.push(dirname(resolve(path)));
  dirs.push(tmpdir());
  loaded ??= loadAddon(new Uint8Array(getAsset(ADDON_ASSET)), dirs);
  return new Database(path, { ...dbOptions, nativeBinding: loaded.addon });
}

export class NativeAddonError extends Error {
  constructor(tried: string[], cause: unknown) {
    super(
      `cannot load the SQLite native addon bundled in this executable: writing and loading it failed in ` +
        `${tried.join(", ")} (last error: ${(cause as Error)?.message ?? String(cause)}). ` +
        "Give the process a writable folder that is not mounted noexec, e.g. its data dir or TMPDIR.",
      { cause },
    );
    this.name = "NativeAddonError";
  }
}

/** File name of an addon: its content hash, so different builds never collide. */
export function addonFileName(bytes: Uint8Array): string {
  return `better_sqlite3-${createHash("sha256").update(bytes).digest("hex").slice(0, 16)}.node`;
}

/**
 * Writes `bytes` as `<dir>/<addonFileName>` unless an identical file is already there, and
 * returns its path. Throws when the folder is not writable.
 */
export function extractAddon(bytes: Uint8Array, dir: string): string {
  const name = addonFileName(bytes);
  const file = join(dir, name);
  try {
    if (addonFileName(readFileSync(file)) === name) return file;
  } catch {
    // missing or unreadable: write it below
  }
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${name}.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSync(tmp, bytes, { mode: 0o755 });
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  return file;
}

/** Extracts and dlopens the addon from the first folder where both work. */
export function loadAddon(bytes: Uint8Array, dirs: readonly string[]): { addon: Addon; file: string } {
  let last: unknown;
  for (const dir of dirs) {
    try {
      const file = extractAddon(bytes, dir);
      const m: { exports: Addon } = { exports: {} };
      process.dlopen(m, file);
      return { addon: m.exports, file };
    } catch (e) {
      last = e;
    }
  }
  throw new NativeAddonError([...dirs], last);
}
