/**
 * Crash safety: a child process writes through SqliteBackend and is SIGKILLed mid-stream;
 * the file it leaves must reopen with every acknowledged write, no torn row, and revisions
 * that only go up.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterEach, expect, it, vi } from "vitest";
import { SqliteBackend } from "../../src/hub/store/index.js";

const writer = fileURLToPath(new URL("../helpers/store-crash-writer.ts", import.meta.url));
// node itself runs the writer (tsx as a loader, not as a wrapper process), so SIGKILL hits the
// process that holds the database, not a launcher whose child would keep writing

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

it("keeps every acknowledged write when the writer is SIGKILLed mid-stream", async () => {
  const dir = mkdtempSync(join(tmpdir(), "edgekube-crash-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "state.db");

  const child = spawn(process.execPath, ["--import", "tsx", writer, path], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  cleanup.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const acked = new Map<string, { revision: number; value: string }>();
  const ackedRevisions: number[] = [];
  let acks = 0;
  createInterface({ input: child.stdout }).on("line", (line) => {
    const m = /^ack (\S+) (\d+) (.*)$/.exec(line);
    if (!m) return;
    acks++;
    ackedRevisions.push(Number(m[2]));
    acked.set(m[1]!, { revision: Number(m[2]), value: m[3]! });
  });
  const exited = new Promise<string | null>((resolve) =>
    child.on("exit", (_code, signal) => resolve(signal)),
  );

  await vi.waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`writer exited early: ${stderr}`);
      expect(acks).toBeGreaterThan(3000);
    },
    { timeout: 30_000, interval: 20 },
  );
  child.kill("SIGKILL");
  expect(await exited).toBe("SIGKILL");

  // the raw file first: intact, and every row chains to an older row of the same key
  const raw = new Database(path);
  expect(raw.pragma("integrity_check", { simple: true })).toBe("ok");
  const broken = raw
    .prepare(
      `SELECT COUNT(*) FROM kv AS k LEFT JOIN kv AS p ON p.id = k.prev_revision
       WHERE k.prev_revision >= k.id OR k.create_revision > k.id
          OR (k.prev_revision > 0 AND (p.id IS NULL OR p.name != k.name))`,
    )
    .pluck()
    .get();
  expect(broken).toBe(0);
  const ids = new Set<number>();
  for (const row of raw.prepare("SELECT id, value FROM kv").raw().iterate()) {
    const [id, value] = row as [number, string];
    ids.add(id);
    expect(() => JSON.parse(value)).not.toThrow();
  }
  // nothing compacts in the writer, so every acknowledged revision is still a row
  expect(ackedRevisions.filter((r) => !ids.has(r))).toEqual([]);
  raw.close();

  const store = new SqliteBackend({ path, compactIntervalMs: 0, checkpointIntervalMs: 0 });
  cleanup.push(() => void store.stop());
  await store.start();
  expect(acked.size).toBe(40);
  let maxAcked = 0;
  for (const [key, ack] of acked) {
    const kv = await store.get(key);
    expect(kv, key).toBeDefined();
    // the last acknowledged write is there; at most writes committed but not yet printed follow it
    expect(kv!.revision).toBeGreaterThanOrEqual(ack.revision);
    if (kv!.revision === ack.revision) expect(kv!.value).toBe(ack.value);
    maxAcked = Math.max(maxAcked, ack.revision);
  }
  expect(store.currentRevision()).toBeGreaterThanOrEqual(maxAcked);
  const next = await store.update("/crash/0", "{}", (await store.get("/crash/0"))!.revision);
  expect(next.revision).toBe(store.currentRevision());
  expect(next.revision).toBeGreaterThan(maxAcked);
});
