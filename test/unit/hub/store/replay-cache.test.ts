/**
 * The shared watch replay (src/hub/store/replay-cache.ts) and the watch bus that reads
 * through it: pages read once and shared by identity, exact coverage, prefix filtering,
 * the hand-over from replay to live under concurrent writes (no gap, no duplicate), and a
 * byte budget whose evictions fall back to per-watcher log reads with the same results.
 * The log here is an in-memory array with commit-then-publish in one synchronous step, as
 * both real backends do.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { WatchEvent } from "../../../../src/hub/store/backend.js";
import { ReplayCache } from "../../../../src/hub/store/replay-cache.js";
import { WatchBus } from "../../../../src/hub/store/watch-bus.js";
import { silentLogger } from "../../../../src/lib/logger.js";

/** A revision log whose reads are counted; `write` commits and publishes like a flush. */
class Log {
  readonly rows: WatchEvent[] = [];
  reads = 0;
  bus: WatchBus | undefined;

  get revision(): number {
    return this.rows.length;
  }

  readEvents(prefix: string, after: number, limit: number): WatchEvent[] {
    this.reads++;
    const out: WatchEvent[] = [];
    for (let i = after; i < this.rows.length && out.length < limit; i++) {
      const e = this.rows[i]!;
      if (e.kv.key.startsWith(prefix)) out.push(e);
    }
    return out;
  }

  /** one group-commit flush of `keys` (revision = row number, starting at 1) */
  write(...keys: string[]): WatchEvent[] {
    const batch = keys.map((key): WatchEvent => {
      const revision = this.rows.length + 1;
      const e: WatchEvent = {
        type: "create",
        kv: { key, value: `v${revision}`, revision, createRevision: revision },
      };
      this.rows.push(e);
      return e;
    });
    this.bus?.publish(batch, this.revision);
    return batch;
  }
}

function revs(events: readonly WatchEvent[]): number[] {
  return events.map((e) => e.kv.revision);
}

/** revisions of the log's events under `prefix` in (from, to] */
function expected(log: Log, prefix: string, from: number, to = log.revision): number[] {
  return revs(log.rows.slice(from, to).filter((e) => e.kv.key.startsWith(prefix)));
}

describe("ReplayCache", () => {
  it("reads a range once and hands the same page to every reader standing at its start", () => {
    const log = new Log();
    for (let i = 0; i < 20; i++) log.write(`/a/${i}`);
    const cache = new ReplayCache({ reader: log, pageSize: 5, budgetBytes: 1 << 20 });
    const p1 = cache.read("/a/", 3, log.revision);
    const p2 = cache.read("/a/", 3, log.revision);
    expect(revs(p1.events)).toEqual([4, 5, 6, 7, 8]);
    expect(p1.through).toBe(8);
    expect(p2.events).toBe(p1.events);
    expect(log.reads).toBe(1);
    // inside the page: the same event objects, only the array is its own
    const mid = cache.read("/a/", 5, log.revision);
    expect(revs(mid.events)).toEqual([6, 7, 8]);
    expect(mid.events[0]).toBe(p1.events[2]);
    expect(mid.through).toBe(8);
    expect(log.reads).toBe(1);
    expect(cache.stats.hits).toBe(2);
  });

  it("covers up to the committed revision on a short page, and filters by prefix", () => {
    const log = new Log();
    for (let i = 0; i < 10; i++) log.write(i % 2 ? `/b/${i}` : `/a/${i}`);
    const cache = new ReplayCache({ reader: log, pageSize: 100, budgetBytes: 1 << 20 });
    const p = cache.read("/a/", 0, log.revision);
    expect(revs(p.events)).toEqual([1, 3, 5, 7, 9]);
    expect(p.through).toBe(10);
    // a prefix that is a string prefix of another's keys gets only its own
    log.write("/aa/1");
    expect(revs(cache.read("/a/", 10, log.revision).events)).toEqual([]);
    expect(cache.read("/a/", 10, log.revision).through).toBe(11);
  });

  it("cuts a read that runs into a cached range at its start, so ranges never overlap", () => {
    const log = new Log();
    for (let i = 0; i < 30; i++) log.write(`/a/${i}`);
    const cache = new ReplayCache({ reader: log, pageSize: 10, budgetBytes: 1 << 20 });
    const later = cache.read("/a/", 12, log.revision); // (12, 22]
    const early = cache.read("/a/", 5, log.revision); // (5, 15] read, cut to (5, 12]
    expect(revs(early.events)).toEqual([6, 7, 8, 9, 10, 11, 12]);
    expect(early.through).toBe(12);
    const next = cache.read("/a/", 12, log.revision);
    expect(next.events).toBe(later.events);
    expect(log.reads).toBe(2);
    // a reader walking from 0 to the end sees every revision once
    const seen: number[] = [];
    let at = 0;
    while (at < log.revision) {
      const p = cache.read("/a/", at, log.revision);
      seen.push(...revs(p.events));
      at = p.through;
    }
    expect(seen).toEqual(expected(log, "/a/", 0));
  });

  it("stays within its byte budget by dropping the oldest ranges; what it cannot keep is read per reader", () => {
    const log = new Log();
    for (let i = 0; i < 40; i++) log.write(`/a/${i}`);
    // chunk overhead + 5 events of the newest pages (eventBytes: 64 + key "/a/3x" + value "v3x")
    const perPage = 256 + 5 * (64 + 5 + 3);
    const cache = new ReplayCache({ reader: log, pageSize: 5, budgetBytes: perPage * 2 });
    for (let at = 0; at < 40; at += 5) cache.read("/a/", at, log.revision);
    expect(cache.stats.bytes).toBeLessThanOrEqual(perPage * 2);
    expect(cache.stats.evictions).toBeGreaterThan(0);
    const reads = log.reads;
    // the newest pages are kept, the oldest were evicted and go back to the log
    expect(revs(cache.read("/a/", 35, log.revision).events)).toEqual([36, 37, 38, 39, 40]);
    expect(log.reads).toBe(reads);
    expect(revs(cache.read("/a/", 0, log.revision).events)).toEqual([1, 2, 3, 4, 5]);
    expect(log.reads).toBe(reads + 1);
    // a range older than everything kept does not push newer ranges out (readers move up the
    // log, so newer ranges are still needed by more of them): it is read per reader
    expect(revs(cache.read("/a/", 0, log.revision).events)).toEqual([1, 2, 3, 4, 5]);
    expect(log.reads).toBe(reads + 2);
    cache.read("/a/", 35, log.revision);
    expect(log.reads).toBe(reads + 2);

    const off = new ReplayCache({ reader: log, pageSize: 5, budgetBytes: 0 });
    const a = off.read("/a/", 0, log.revision);
    const b = off.read("/a/", 0, log.revision);
    expect(revs(b.events)).toEqual(revs(a.events));
    expect(b.events).not.toBe(a.events);
    expect(off.stats).toMatchObject({ hits: 0, logReads: 2, bytes: 0 });
  });

  it("drops ranges at or below a compaction, and ranges nobody read for idleMs", () => {
    vi.useFakeTimers();
    try {
      const log = new Log();
      for (let i = 0; i < 20; i++) log.write(`/a/${i}`);
      const cache = new ReplayCache({ reader: log, pageSize: 10, budgetBytes: 1 << 20, idleMs: 1000 });
      cache.read("/a/", 0, log.revision); // (0, 10]
      cache.read("/a/", 10, log.revision); // (10, 20]
      cache.compacted(10);
      expect(cache.stats.chunks).toBe(1);
      vi.advanceTimersByTime(600);
      cache.read("/a/", 12, log.revision); // keeps (10, 20] in use
      vi.advanceTimersByTime(600);
      expect(cache.stats.chunks).toBe(1);
      vi.advanceTimersByTime(2000);
      expect(cache.stats).toMatchObject({ chunks: 0, bytes: 0 });
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("WatchBus replay through the shared cache", () => {
  const buses: WatchBus[] = [];
  afterEach(() => {
    for (const b of buses.splice(0)) b.close(new Error("test over"));
  });

  function setup(opts: { pageSize: number; cacheBytes: number }): Log {
    const log = new Log();
    const bus = new WatchBus(
      {
        reader: log,
        logger: silentLogger(),
        replayPageSize: opts.pageSize,
        replayCacheBytes: opts.cacheBytes,
      },
      0,
    );
    log.bus = bus;
    buses.push(bus);
    return log;
  }

  /**
   * Watchers on two prefixes (one covering the other) from old revisions, some congested now
   * and then, while a writer commits a batch every turn; each must receive exactly its
   * prefix's events after its start, in order, across the switch to live.
   */
  async function raceReplayWithWrites(cacheBytes: number): Promise<{ log: Log; reads: number }> {
    const log = setup({ pageSize: 7, cacheBytes });
    for (let i = 0; i < 300; i++) log.write(i % 3 ? `/cm/ns1/o${i}` : `/cm/ns2/o${i}`);
    const watchers: { prefix: string; from: number; got: number[]; errors: Error[] }[] = [];
    const starts = [1, 1, 1, 1, 17, 17, 150, 150, 151, 299];
    for (const [i, from] of starts.entries()) {
      const prefix = i % 2 ? "/cm/ns1/" : "/cm/";
      const w = { prefix, from, got: [] as number[], errors: [] as Error[] };
      watchers.push(w);
      let calls = 0;
      const handle = log.bus!.watch(prefix, {
        fromRevision: from,
        onEvents: (evs) => {
          w.got.push(...revs(evs));
          // every third watcher is congested on every fifth batch: resumed a turn later
          if (i % 3 === 0 && ++calls % 5 === 0) {
            setImmediate(() => handle.resume());
            return false;
          }
          return true;
        },
        onError: (e) => w.errors.push(e),
      });
    }
    const readsBeforeWrites = log.reads;
    // writes racing the replays: one flush per turn, for 120 turns
    for (let t = 0; t < 120; t++) {
      log.write(`/cm/ns1/w${t}`, `/cm/ns2/w${t}`, `/other/w${t}`);
      await new Promise((r) => setImmediate(r));
    }
    for (const w of watchers) {
      await vi.waitFor(() => expect(w.got).toEqual(expected(log, w.prefix, w.from)));
      expect(w.errors).toEqual([]);
    }
    return { log, reads: log.reads - readsBeforeWrites };
  }

  it("hands every watcher its events in order, without gap or duplicate, while writes continue", async () => {
    const { log, reads } = await raceReplayWithWrites(1 << 20);
    // the same race with every watcher reading the log for itself
    const { reads: alone } = await raceReplayWithWrites(0);
    expect(reads).toBeLessThan(alone / 2);
    expect(log.bus!.replayStats.hits).toBeGreaterThan(reads);
  });

  it("gives the same result when the budget evicts everything and each watcher reads the log itself", async () => {
    // 200 bytes: less than one chunk's overhead, so no page is ever kept
    const { log } = await raceReplayWithWrites(200);
    expect(log.bus!.replayStats).toMatchObject({ hits: 0, bytes: 0 });
  });

  it("delivers one page array to watchers moving in step (so its frames are encoded once)", async () => {
    const log = setup({ pageSize: 10, cacheBytes: 1 << 20 });
    for (let i = 0; i < 35; i++) log.write(`/a/${i}`);
    const batches: (readonly WatchEvent[])[][] = [[], [], []];
    for (const got of batches) log.bus!.watch("/a/", { fromRevision: 5, onEvents: (evs) => got.push(evs) });
    await vi.waitFor(() => expect(batches.map((b) => revs(b.flat()).length)).toEqual([30, 30, 30]));
    expect(batches[0]!.length).toBe(3);
    for (let i = 0; i < 3; i++) {
      expect(batches[1]![i]).toBe(batches[0]![i]);
      expect(batches[2]![i]).toBe(batches[0]![i]);
    }
    // and then live, sharing the published batch
    const live = log.write("/a/live");
    await vi.waitFor(() => expect(batches[2]!.at(-1)).toBe(live));
    expect(batches[0]!.at(-1)).toBe(live);
  });
});
