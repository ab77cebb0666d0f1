/**
 * The store contract as a test suite, registered once per Backend implementation
 * (test/unit/store-memory.test.ts, test/integration/store-sqlite.test.ts), in the spirit of
 * MQTT.js's abstract store tests: both backends must pass the same cases.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  type Backend,
  CompactedError,
  ConflictError,
  KeyExistsError,
  type KeyValue,
  NotFoundError,
  StoreClosedError,
  type WatchEvent,
  WatchOverflowError,
} from "../../src/hub/store/index.js";

export interface ContractOptions {
  /** small pages make watch replay cross page boundaries */
  readonly replayPageSize?: number;
  readonly watchBacklogBytes?: number;
  /** bytes of replay pages shared between watchers (0 = every watcher reads the log) */
  readonly replayCacheBytes?: number;
}

export type BackendFactory = (opts: ContractOptions) => Backend;

/** Collects events; `calls` counts onEvents invocations. */
export function recorder() {
  const events: WatchEvent[] = [];
  const errors: Error[] = [];
  let calls = 0;
  return {
    events,
    errors,
    get calls() {
      return calls;
    },
    onEvents: (evs: readonly WatchEvent[]) => {
      calls++;
      events.push(...evs);
    },
    onError: (e: Error) => {
      errors.push(e);
    },
    revisions: () => events.map((e) => e.kv.revision),
  };
}

export function registerStoreContract(name: string, factory: BackendFactory): void {
  describe(`store contract: ${name}`, () => {
    const open: Backend[] = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((b) => b.stop()));
    });
    async function store(opts: ContractOptions = {}): Promise<Backend> {
      const b = factory(opts);
      open.push(b);
      await b.start();
      return b;
    }

    it("creates, gets, updates and deletes with revisions as resourceVersions", async () => {
      const s = await store();
      expect(s.currentRevision()).toBe(0);
      const c = await s.create("/r/pods/a", '{"v":1}');
      expect(c).toEqual({ key: "/r/pods/a", value: '{"v":1}', revision: 1, createRevision: 1 });
      expect(await s.get("/r/pods/a")).toEqual(c);
      expect(await s.get("/r/pods/missing")).toBeUndefined();
      const u = await s.update("/r/pods/a", '{"v":2}', c.revision);
      expect(u).toEqual({ key: "/r/pods/a", value: '{"v":2}', revision: 2, createRevision: 1 });
      const d = await s.delete("/r/pods/a", u.revision);
      expect(d).toEqual({ key: "/r/pods/a", value: '{"v":2}', revision: 3, createRevision: 1 });
      expect(await s.get("/r/pods/a")).toBeUndefined();
      expect(s.currentRevision()).toBe(3);
      const again = await s.create("/r/pods/a", '{"v":3}');
      expect(again).toEqual({ key: "/r/pods/a", value: '{"v":3}', revision: 4, createRevision: 4 });
    });

    it("rejects KeyExists, NotFound and Conflict (with the current value)", async () => {
      const s = await store();
      const c = await s.create("/k", "one");
      await expect(s.create("/k", "two")).rejects.toBeInstanceOf(KeyExistsError);
      await expect(s.update("/nope", "x", 1)).rejects.toBeInstanceOf(NotFoundError);
      await expect(s.delete("/nope")).rejects.toBeInstanceOf(NotFoundError);
      const u = await s.update("/k", "two", c.revision);
      const err = await s.update("/k", "three", c.revision).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConflictError);
      expect((err as ConflictError).current).toEqual(u);
      await expect(s.delete("/k", c.revision)).rejects.toBeInstanceOf(ConflictError);
      expect(await s.get("/k")).toEqual(u);
      // unconditional delete, then the key is gone for update/delete
      await s.delete("/k");
      await expect(s.update("/k", "x", 0)).rejects.toBeInstanceOf(NotFoundError);
      await expect(s.delete("/k")).rejects.toBeInstanceOf(NotFoundError);
    });

    it("resolves writes of one tick in order, in one batch, with monotonic revisions", async () => {
      const s = await store();
      const rec = recorder();
      s.watch("/", { fromRevision: 0, ...rec });
      const results = await Promise.allSettled([
        s.create("/b/x", "1"),
        s.create("/b/x", "dup"),
        s.create("/b/y", "1"),
        s.update("/b/x", "2", 1),
        s.update("/b/x", "stale", 1),
        s.delete("/b/y", 2),
      ]);
      expect(results.map((r) => r.status)).toEqual([
        "fulfilled",
        "rejected",
        "fulfilled",
        "fulfilled",
        "rejected",
        "fulfilled",
      ]);
      const revs = results.flatMap((r) => (r.status === "fulfilled" ? [r.value.revision] : []));
      expect(revs).toEqual([1, 2, 3, 4]);
      expect(results[1]).toMatchObject({ status: "rejected", reason: expect.any(KeyExistsError) });
      expect(results[4]).toMatchObject({ status: "rejected", reason: expect.any(ConflictError) });
      await vi.waitFor(() => expect(rec.events).toHaveLength(4));
      expect(rec.calls).toBe(1);
      expect(rec.events.map((e) => e.type)).toEqual(["create", "create", "update", "delete"]);
    });

    it("lists by prefix in key order with limit, startAfter and remaining", async () => {
      const s = await store();
      for (const k of ["/a/3", "/a/1", "/a/5", "/a/2", "/a/4", "/b/1", "/a"]) await s.create(k, `v${k}`);
      await s.delete("/a/4");
      await s.update("/a/2", "new", 4);
      const all = await s.list("/a/");
      expect(all.items.map((i) => i.key)).toEqual(["/a/1", "/a/2", "/a/3", "/a/5"]);
      expect(all.items[1]).toEqual({ key: "/a/2", value: "new", revision: 9, createRevision: 4 });
      expect(all).toMatchObject({ revision: 9, more: false, remaining: 0 });
      const p1 = await s.list("/a/", { limit: 2 });
      expect(p1.items.map((i) => i.key)).toEqual(["/a/1", "/a/2"]);
      expect(p1).toMatchObject({ more: true, remaining: 2, revision: 9 });
      const p2 = await s.list("/a/", { limit: 2, startAfter: "/a/2" });
      expect(p2.items.map((i) => i.key)).toEqual(["/a/3", "/a/5"]);
      expect(p2).toMatchObject({ more: false, remaining: 0 });
      expect((await s.list("")).items.map((i) => i.key)).toEqual([
        "/a",
        "/a/1",
        "/a/2",
        "/a/3",
        "/a/5",
        "/b/1",
      ]);
      expect(await s.count("/a/")).toBe(4);
      expect(await s.count("/zz/")).toBe(0);
    });

    it("scans what list returns, item by item, with the same paging and revision", async () => {
      const s = await store();
      for (const k of ["/s/3", "/s/1", "/s/5", "/s/2", "/s/4", "/t/1"]) await s.create(k, `{"k":"${k}"}`);
      await s.delete("/s/4");
      await s.update("/s/2", '{"k":"new ✓"}', 4);
      const visit = async (opts: { limit?: number; startAfter?: string }) => {
        const seen: Array<[string, string, number]> = [];
        const revs: number[] = [];
        const r = await s.scan("/s/", { ...opts, onRevision: (rev) => revs.push(rev) }, (k, v, rev) =>
          seen.push([k, v, rev]),
        );
        const l = await s.list("/s/", opts);
        expect(seen).toEqual(l.items.map((i) => [i.key, i.value, i.revision]));
        expect(revs).toEqual([r.revision]);
        expect(r).toEqual({
          revision: l.revision,
          count: l.items.length,
          lastKey: l.items[l.items.length - 1]?.key ?? "",
          more: l.more,
          remaining: l.remaining,
        });
        return r;
      };
      expect(await visit({})).toMatchObject({ count: 4, lastKey: "/s/5", more: false, revision: 8 });
      expect(await visit({ limit: 2 })).toMatchObject({
        count: 2,
        lastKey: "/s/2",
        more: true,
        remaining: 2,
      });
      expect(await visit({ limit: 2, startAfter: "/s/2" })).toMatchObject({ count: 2, more: false });
      expect(await visit({ startAfter: "/s/5" })).toMatchObject({ count: 0, lastKey: "" });
    });

    it("a scan its visitor pauses is still the list at its revision, whatever is written and compacted meanwhile", async () => {
      const s = await store();
      for (let i = 0; i < 8; i++) await s.create(`/p/${i}`, `v${i}`);
      await s.delete("/p/6");
      const before = await s.list("/p/");
      const seen: Array<[string, string, number]> = [];
      let writes = 0;
      const r = await s.scan("/p/", { limit: 6 }, (k, v, rev) => {
        seen.push([k, v, rev]);
        // between items: rewrite, delete and add keys not visited yet, then compact to now
        return (async () => {
          const n = Number(k.slice(3));
          const next = `/p/${n + 1}`;
          const cur = await s.get(next);
          if (cur) await s.update(next, `${cur.value}+`, cur.revision);
          else await s.create(next, "new");
          const after = await s.get(`/p/${n + 2}`);
          if (after) await s.delete(after.key);
          await s.create(`/p/${n}a`, "between");
          writes += 3;
          await s.compact(s.currentRevision());
        })();
      });
      expect(writes).toBe(18);
      expect(r.revision).toBe(before.revision);
      expect(seen).toEqual(before.items.slice(0, 6).map((i) => [i.key, i.value, i.revision]));
      expect(r).toMatchObject({ count: 6, lastKey: before.items[5]?.key, more: true, remaining: 1 });
      // once the scan is over, compaction catches up
      await s.compact(s.currentRevision());
      expect(s.compactRevision()).toBe(s.currentRevision());
    });

    it("tells a list's revision before its items, consistent with them under concurrent writes", async () => {
      const s = await store();
      for (let i = 0; i < 5; i++) await s.create(`/r/${i}`, `v${i}`);
      const seen: number[] = [];
      const r = await s.list("/r/", { onRevision: (rev) => seen.push(rev) });
      expect(seen).toEqual([r.revision]);
      expect(r.revision).toBe(5);
      // writes issued before the list settles are either wholly in it (and its revision) or not
      const w1 = s.create("/r/5", "v5");
      const listed = s.list("/r/", { onRevision: (rev) => seen.push(rev) });
      const w2 = s.create("/r/6", "v6");
      const [l] = await Promise.all([listed, w1, w2]);
      expect(seen[1]).toBe(l.revision);
      const newest = Math.max(...l.items.map((i) => i.revision));
      expect(newest).toBeLessThanOrEqual(l.revision);
      expect(l.items).toHaveLength(l.revision);
    });

    it("watch from a revision replays the log then continues live without gaps or duplicates", async () => {
      const s = await store({ replayPageSize: 3 });
      for (let i = 0; i < 10; i++) await s.create(`/w/${i}`, `v${i}`);
      const rec = recorder();
      s.watch("/w/", { fromRevision: 4, ...rec });
      // writes racing the replay
      const writes: Promise<KeyValue>[] = [];
      for (let i = 0; i < 10; i++) writes.push(s.update(`/w/${i}`, `u${i}`, i + 1));
      await Promise.all(writes);
      for (let i = 0; i < 5; i++) await s.delete(`/w/${i}`);
      const want = Array.from({ length: 21 }, (_, i) => i + 5);
      await vi.waitFor(() => expect(rec.revisions()).toEqual(want));
      expect(rec.errors).toEqual([]);
    });

    for (const replayCacheBytes of [undefined, 0]) {
      it(`watchers replaying the same range share it and each gets every event in order (replay cache ${replayCacheBytes ?? "default"})`, async () => {
        const s = await store({ replayPageSize: 4, replayCacheBytes });
        for (let i = 0; i < 30; i++) await s.create(i % 2 ? `/s/a/${i}` : `/s/b/${i}`, `v${i}`);
        const starts: [string, number][] = [
          ["/s/", 3],
          ["/s/", 3],
          ["/s/a/", 3],
          ["/s/", 10],
          ["/s/a/", 11],
          ["/s/", 29],
        ];
        const recs = starts.map(([prefix, from]) => {
          const rec = recorder();
          s.watch(prefix, { fromRevision: from, ...rec });
          return rec;
        });
        // writes racing the replays, some in one flush
        const writes: Promise<KeyValue>[] = [];
        for (let i = 0; i < 30; i++) {
          writes.push(s.update(i % 2 ? `/s/a/${i}` : `/s/b/${i}`, `u${i}`, i + 1));
          if (i % 4 === 0) await new Promise((r) => setImmediate(r));
        }
        await s.create("/t/outside", "x");
        // revision → key: the creates, then the updates as they committed
        const byRev = new Map<number, string>();
        for (let r = 1; r <= 30; r++) byRev.set(r, r % 2 === 0 ? "/s/a/" : "/s/b/");
        for (const kv of await Promise.all(writes)) byRev.set(kv.revision, kv.key);
        for (const [i, rec] of recs.entries()) {
          const [prefix, from] = starts[i]!;
          const want = [...byRev].filter(([r, key]) => r > from && key.startsWith(prefix)).map(([r]) => r);
          expect(want.length).toBeGreaterThan(10);
          await vi.waitFor(() => expect(rec.revisions()).toEqual(want));
          expect(rec.errors).toEqual([]);
        }
      });
    }

    it("filters watch events by prefix and starts from now when fromRevision is 0", async () => {
      const s = await store();
      await s.create("/p/old", "x");
      const rec = recorder();
      s.watch("/p/", { fromRevision: 0, ...rec });
      await s.create("/q/1", "x");
      await s.create("/p/1", "y");
      await s.create("/pp/1", "z");
      await vi.waitFor(() => expect(rec.events.map((e) => e.kv.key)).toEqual(["/p/1"]));
    });

    it("update and delete events carry prev; delete carries the last value at the delete revision", async () => {
      const s = await store();
      const rec = recorder();
      await s.create("/other", "first, so that the watched history starts above revision 1");
      s.watch("/e/", { fromRevision: 0, ...rec });
      const c = await s.create("/e/x", "one");
      const u = await s.update("/e/x", "two", c.revision);
      const d = await s.delete("/e/x", u.revision);
      const check = (events: WatchEvent[]) => {
        expect(events).toEqual([
          { type: "create", kv: c },
          { type: "update", kv: u, prev: c },
          { type: "delete", kv: d, prev: u },
        ]);
      };
      await vi.waitFor(() => expect(rec.events).toHaveLength(3));
      check(rec.events);
      // the same events replayed from the log
      const replay = recorder();
      s.watch("/e/", { fromRevision: c.revision - 1, ...replay });
      await vi.waitFor(() => expect(replay.events).toHaveLength(3));
      check(replay.events);
    });

    it("compaction keeps live rows, answers CompactedError below it and replays above it", async () => {
      const s = await store();
      const keep = await s.create("/c/keep", "k");
      let x = await s.create("/c/x", "0");
      for (let i = 1; i <= 5; i++) x = await s.update("/c/x", String(i), x.revision);
      const gone = await s.create("/c/gone", "g");
      await s.delete("/c/gone");
      const upTo = s.currentRevision();
      const later = await s.update("/c/x", "6", x.revision);
      await s.compact(upTo);
      expect(s.compactRevision()).toBe(upTo);
      expect(() => s.watch("/c/", { fromRevision: upTo - 1, onEvents: () => {} })).toThrow(CompactedError);
      expect(await s.get("/c/keep")).toEqual(keep);
      expect(await s.get("/c/gone")).toBeUndefined();
      expect((await s.list("/c/")).items.map((i) => i.key)).toEqual(["/c/keep", "/c/x"]);
      const rec = recorder();
      s.watch("/c/", { fromRevision: upTo, ...rec });
      await vi.waitFor(() => expect(rec.events).toEqual([{ type: "update", kv: later, prev: x }]));
      // a compacted-away tombstone does not block re-creating the key
      const again = await s.create(gone.key, "g2");
      expect(again.createRevision).toBe(again.revision);
    });

    it("pauses a congested watcher, resumes it in order, and ends it past the backlog cap", async () => {
      const s = await store({ watchBacklogBytes: 4096 });
      const got: number[] = [];
      let open = false;
      const w = s.watch("/bp/", {
        fromRevision: 0,
        onEvents: (evs) => {
          got.push(...evs.map((e) => e.kv.revision));
          return open;
        },
      });
      await s.create("/bp/1", "a");
      await s.create("/bp/2", "b");
      await s.create("/bp/3", "c");
      expect(got).toEqual([1]);
      open = true;
      w.resume();
      expect(got).toEqual([1, 2, 3]);
      const errors: Error[] = [];
      s.watch("/bp/", { fromRevision: 0, onEvents: () => false, onError: (e) => errors.push(e) });
      for (let i = 0; i < 10; i++) await s.create(`/bp/big${i}`, "x".repeat(1000));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(WatchOverflowError);
      expect(errors[0]!.message).toMatch(/list again/);
    });

    it("cancel stops delivery; stop ends watchers and refuses writes", async () => {
      const s = await store();
      const a = recorder();
      const b = recorder();
      const wa = s.watch("/", { fromRevision: 0, ...a });
      s.watch("/", { fromRevision: 0, ...b });
      await s.create("/1", "x");
      wa.cancel();
      wa.cancel();
      await s.create("/2", "x");
      expect(a.revisions()).toEqual([1]);
      expect(b.revisions()).toEqual([1, 2]);
      const pending = s.create("/3", "x");
      await s.stop();
      await s.stop();
      await expect(pending).resolves.toMatchObject({ revision: 3 });
      expect(b.errors).toHaveLength(1);
      expect(b.errors[0]).toBeInstanceOf(StoreClosedError);
      expect(a.errors).toEqual([]);
      await expect(s.create("/4", "x")).rejects.toBeInstanceOf(StoreClosedError);
    });
  });
}
