/**
 * lib/sqlite's single-executable path, exercised outside a SEA: the real better_sqlite3.node
 * from node_modules plays the SEA asset, is extracted by content hash and dlopened, and a
 * database opened with that binding works. (The SEA itself is covered by release.test.ts.)
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import {
  addonFileName,
  extractAddon,
  loadAddon,
  NativeAddonError,
  openDatabase,
} from "../../src/lib/sqlite.js";

const addonPath = createRequire(import.meta.url).resolve("better-sqlite3/build/Release/better_sqlite3.node");
const addonBytes = new Uint8Array(readFileSync(addonPath));

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "ek-sqlite-native-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) {
    rmSync(d, { recursive: true, force: true });
  }
});

describe("extractAddon", () => {
  it("names the file by content hash and leaves no temp file", () => {
    const dir = tempDir();
    const file = extractAddon(addonBytes, dir);
    expect(file).toBe(join(dir, addonFileName(addonBytes)));
    expect(addonFileName(addonBytes)).toMatch(/^better_sqlite3-[0-9a-f]{16}\.node$/);
    expect(readdirSync(dir)).toEqual([addonFileName(addonBytes)]);
    expect(Buffer.compare(readFileSync(file), addonBytes)).toBe(0);
    expect(statSync(file).mode & 0o111).not.toBe(0);
  });

  it("reuses an intact file and replaces a corrupt one", () => {
    const dir = tempDir();
    const file = extractAddon(addonBytes, dir);
    const before = statSync(file).mtimeMs;
    expect(extractAddon(addonBytes, dir)).toBe(file);
    expect(statSync(file).mtimeMs).toBe(before);
    writeFileSync(file, "truncated");
    extractAddon(addonBytes, dir);
    expect(Buffer.compare(readFileSync(file), addonBytes)).toBe(0);
  });

  it("gives different builds different files", () => {
    const other = new Uint8Array(addonBytes);
    other[other.length - 1] = (other[other.length - 1] ?? 0) ^ 0xff;
    expect(addonFileName(other)).not.toBe(addonFileName(addonBytes));
  });
});

describe("loadAddon", () => {
  it("falls through to the next folder and opens a working database with the loaded binding", () => {
    const unusable = join(tempDir(), "not-a-dir");
    writeFileSync(unusable, "a file where a folder should be");
    const good = tempDir();
    const { addon, file } = loadAddon(addonBytes, [unusable, good]);
    expect(file.startsWith(good)).toBe(true);
    const db = new Database(join(good, "t.db"), { nativeBinding: addon });
    try {
      db.exec("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('x')");
      expect(db.prepare("SELECT v FROM t").pluck().get()).toBe("x");
    } finally {
      db.close();
    }
  });

  it("explains what to do when no folder works", () => {
    const unusable = join(tempDir(), "not-a-dir");
    writeFileSync(unusable, "x");
    expect(() => loadAddon(addonBytes, [unusable])).toThrow(NativeAddonError);
    expect(() => loadAddon(addonBytes, [unusable])).toThrow(/writable folder that is not mounted noexec/);
  });
});

describe("openDatabase outside a SEA", () => {
  it("opens a file database with the options passed", () => {
    const dir = tempDir();
    const path = join(dir, "a.db");
    const w = openDatabase(path);
    w.exec("CREATE TABLE t (v INTEGER)");
    const r = openDatabase(path, { readonly: true, fileMustExist: true });
    try {
      expect(() => r.exec("INSERT INTO t VALUES (1)")).toThrow(/readonly/);
      expect(() => openDatabase(join(dir, "missing.db"), { fileMustExist: true })).toThrow();
      expect(readdirSync(dir).some((f) => f.endsWith(".node"))).toBe(false);
    } finally {
      r.close();
      w.close();
    }
  });
});
