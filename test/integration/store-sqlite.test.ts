/**
 * SqliteBackend against real SQLite files: the shared contract, plus what only a file can
 * show: restart keeps everything, the list snapshot, and a bounded file under churn.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CompactedError, SqliteBackend, type SqliteBackendOptions } from "../../src/hub/store/index.js";
import { recorder, registerStoreContract } from "../helpers/store-contract.js";

const dirs: string[] = [];
function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), "edgekube-store-"));
  dirs.push(dir);
  return join(dir, "state.db");
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

registerStoreContract(
  "SqliteBackend",
  (opts) => new SqliteBackend({ path: tempDb(), compactIntervalMs: 0, checkpointIntervalMs: 0, ...opts }),
);

describe("SqliteBackend on disk", () => {
  const open: SqliteBackend[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((b) => b.stop()));
  });
  async function start(opts: SqliteBackendOptions): Promise<SqliteBackend> {
    const b = new SqliteBackend({ compactIntervalMs: 0, checkpointIntervalMs: 0, ...opts });
    open.push(b);
    await b.start();
    return b;
  }

  it("keeps keys, revisions, tombstones and the compact revision across a restart", async () => {
    const path = tempDb();
    const a = await start({ path });
    const x = await a.create("/r/x", '{"x":1}');
    const y = await a.create("/r/y", '{"y":1}');
    const x2 = await a.update("/r/x", '{"x":2}', x.revision);
    await a.delete("/r/y", y.revision);
    await a.compact(a.currentRevision());
    const z = await a.create("/r/z", '{"z":1}');
    const pending = a.update("/r/z", '{"z":2}', z.revision);
    await a.stop(); // stop flushes the pending write
    const z2 = await pending;

    const b = await start({ path });
    expect(b.currentRevision()).toBe(z2.revision);
    expect(b.compactRevision()).toBe(4);
    expect(await b.get("/r/x")).toEqual(x2);
    expect(await b.get("/r/y")).toBeUndefined();
    expect((await b.list("/r/")).items).toEqual([x2, z2]);
    expect(() => b.watch("/r/", { fromRevision: 3, onEvents: () => {} })).toThrow(CompactedError);
    const rec = recorder();
    b.watch("/r/", { fromRevision: 4, ...rec });
    await vi.waitFor(() => expect(rec.events.map((e) => e.type)).toEqual(["create", "update"]));
    // numbering continues; a deleted key can be created again; conflicts still use revisions
    const y2 = await b.create("/r/y", '{"y":2}');
    expect(y2.revision).toBe(z2.revision + 1);
    await expect(b.update("/r/x", "{}", x.revision)).rejects.toThrow(/modified/);
  });

  it("never reuses a revision, even when compaction removed the newest row", async () => {
    const path = tempDb();
    const a = await start({ path });
    await a.create("/t", "1");
    const d = await a.delete("/t");
    await a.compact(d.revision);
    await a.stop();
    const b = await start({ path });
    expect(b.currentRevision()).toBe(d.revision);
    expect((await b.create("/t", "2")).revision).toBe(d.revision + 1);
  });

  it("lists 10,000 values in key order, consistent with the revision it reports", async () => {
    const s = await start({ path: tempDb() });
    const value = JSON.stringify({ kind: "ConfigMap", data: { pad: "x".repeat(800) } });
    const batch: Promise<unknown>[] = [];
    for (let i = 0; i < 10_000; i++)
      batch.push(s.create(`/registry/cm/ns/c${String(i).padStart(5, "0")}`, value));
    await Promise.all(batch);
    const writes = Promise.all(
      Array.from({ length: 50 }, (_, i) => s.create(`/registry/cm/ns/late${i}`, value)),
    );
    const list = await s.list("/registry/cm/");
    await writes;
    expect(list.revision).toBe(list.items.length);
    expect(list.items.every((kv, i) => i === 0 || list.items[i - 1]!.key < kv.key)).toBe(true);
    expect((await s.list("/registry/cm/")).items).toHaveLength(10_050);
  });

  it("stays bounded in size under churn with compaction and checkpoints on", async () => {
    const path = tempDb();
    const s = await start({
      path,
      retainRevisions: 500,
      compactIntervalMs: 20,
      checkpointIntervalMs: 20,
      walAutocheckpointPages: 500,
    });
    const sizeOf = (file: string) => {
      try {
        return statSync(file).size;
      } catch {
        return 0;
      }
    };
    const peak = { db: 0, wal: 0 };
    const value = (i: number) => JSON.stringify({ i, pad: "y".repeat(1000) });
    const revs = new Map<string, number>();
    for (let k = 0; k < 20; k++) revs.set(`/churn/${k}`, (await s.create(`/churn/${k}`, value(0))).revision);
    for (let round = 1; round <= 300; round++) {
      const ups = [...revs].map(([key, rev]) => s.update(key, value(round), rev));
      for (const kv of await Promise.all(ups)) revs.set(kv.key, kv.revision);
      if (round % 10 === 0) {
        // Between bursts, wait for the background timer to compact to its target, so the
        // bound below depends on the retention rule and not on how fast this machine writes
        // (a slow run once let 200-write bursts outpace a 20 ms timer and read 2.57 MB).
        await vi.waitFor(
          () => expect(s.compactRevision()).toBeGreaterThanOrEqual(s.currentRevision() - 600),
          {
            timeout: 10_000,
          },
        );
        peak.db = Math.max(peak.db, sizeOf(path));
        peak.wal = Math.max(peak.wal, sizeOf(`${path}-wal`));
      }
    }
    // 6,000 writes of ~1 KB: without compaction the log alone would be > 6 MB
    await vi.waitFor(() => expect(s.compactRevision()).toBeGreaterThanOrEqual(s.currentRevision() - 600), {
      timeout: 10_000,
    });
    await vi.waitFor(() => expect(statSync(`${path}-wal`).size).toBe(0), { timeout: 10_000 });
    // the db holds ~500 retained revisions plus free pages (without compaction the log alone
    // would pass 6 MB), and the WAL never outgrows the autocheckpoint threshold (500 pages) by much
    expect(peak.db).toBeLessThan(2.5 * 1024 * 1024);
    expect(sizeOf(path)).toBeLessThan(2.5 * 1024 * 1024);
    expect(peak.wal).toBeLessThan(500 * 4096 * 1.5);
    expect(await s.count("/churn/")).toBe(20);
  });
});
