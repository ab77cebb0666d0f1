/**
 * HeapReclaimer: the decision (a heap that grew, then a quiet loop, reclaims once; a busy loop
 * or small growth never does) with a fake probe, and the real probe's GC giving back a burst's
 * young generation and garbage in this very process.
 */
import { describe, expect, it } from "vitest";
import { type HeapProbe, HeapReclaimer, nodeHeapProbe } from "../../../src/lib/heap-reclaimer.js";
import { silentLogger } from "../../../src/lib/logger.js";

const MB = 1024 * 1024;

function fakeProbe(): HeapProbe & {
  committed: number;
  young: number;
  youngAfterCollect: number;
  elu: number;
  collects: number;
} {
  const p = {
    committed: 100 * MB,
    young: 0,
    youngAfterCollect: 0,
    elu: 0.9,
    collects: 0,
    sample: () => ({ committed: p.committed, youngCommitted: p.young }),
    loopUtilisation: () => p.elu,
    collect: () => {
      p.collects++;
      p.committed = 110 * MB;
      p.young = p.youngAfterCollect;
    },
  };
  return p;
}

describe("HeapReclaimer decision", () => {
  it("reclaims once after growth followed by quiet samples, then waits for new growth", () => {
    const probe = fakeProbe();
    let now = 0;
    const r = new HeapReclaimer({ probe, logger: silentLogger(), quietChecks: 3, now: () => now });
    r.start();
    r.stop();
    // a burst: the heap grows while the loop is busy
    probe.committed = 200 * MB;
    for (let i = 0; i < 5; i++, now += 2000) r.tick();
    expect(probe.collects).toBe(0);
    // quiet: the third quiet sample reclaims
    probe.elu = 0.05;
    r.tick();
    r.tick();
    expect(probe.collects).toBe(0);
    r.tick();
    expect(probe.collects).toBe(1);
    expect(r.stats.returnedBytes).toBe(90 * MB);
    // still quiet, no new growth: nothing more, however long
    for (let i = 0; i < 50; i++, now += 2000) r.tick();
    expect(probe.collects).toBe(1);
  });

  it("never reclaims for growth below the threshold or while the loop stays busy", () => {
    const probe = fakeProbe();
    let now = 0;
    const r = new HeapReclaimer({ probe, logger: silentLogger(), now: () => now });
    r.start();
    r.stop();
    probe.committed = 110 * MB;
    probe.elu = 0.01;
    for (let i = 0; i < 20; i++, now += 2000) r.tick();
    probe.committed = 300 * MB;
    probe.elu = 0.8;
    for (let i = 0; i < 20; i++, now += 2000) r.tick();
    expect(probe.collects).toBe(0);
  });
});

describe("HeapReclaimer and the young-generation limit", () => {
  it("reclaims a young generation a lifted burst left above the cap, even without committed growth", () => {
    const probe = fakeProbe();
    probe.committed = 140 * MB;
    probe.young = 1 * MB;
    let now = 0;
    let limit: number | undefined = 8 * MB;
    const r = new HeapReclaimer({
      probe,
      logger: silentLogger(),
      now: () => now,
      youngLimit: () => limit,
    });
    r.start();
    r.stop();
    // under load the cap is lifted (no limit) and V8 grows the space to 2 × 16 MiB; the heap as
    // a whole grows by less than the committed-growth trigger asks (16 MiB and 20 %)
    limit = undefined;
    probe.young = 32 * MB;
    probe.committed = 160 * MB;
    for (let i = 0; i < 5; i++, now += 2000) r.tick();
    expect(probe.collects).toBe(0);
    // quiet: the cap is back, the space is 24 MB over it, and the third quiet sample reclaims
    limit = 8 * MB;
    probe.elu = 0.05;
    probe.youngAfterCollect = 32 * MB; // this time V8 keeps the space after the GC
    for (let i = 0; i < 3; i++, now += 2000) r.tick();
    expect(probe.collects).toBe(1);
    // still over the limit: tried again, but not before minIntervalMs (30 s) has passed
    for (let i = 0; i < 13; i++, now += 2000) r.tick();
    expect(probe.collects).toBe(1);
    probe.youngAfterCollect = 1 * MB; // V8 shrinks it this time
    for (let i = 0; i < 3; i++, now += 2000) r.tick();
    expect(probe.collects).toBe(2);
  });

  it("leaves a young generation within the limit alone", () => {
    const probe = fakeProbe();
    probe.elu = 0.01;
    let now = 0;
    const r = new HeapReclaimer({ probe, logger: silentLogger(), now: () => now, youngLimit: () => 8 * MB });
    r.start();
    r.stop();
    probe.young = 8 * MB + 15 * MB; // over the limit, but by less than minGrowthBytes
    for (let i = 0; i < 20; i++, now += 2000) r.tick();
    expect(probe.collects).toBe(0);
  });
});

describe("nodeHeapProbe", () => {
  it("gives back old-space pages that a burst left sparse (a compacting collect)", () => {
    const probe = nodeHeapProbe();
    // promote a burst's objects to old space, then keep one in ten: every page keeps a live
    // object, which a non-compacting full GC would leave committed
    let all: { i: number; s: string }[] | undefined = Array.from({ length: 600_000 }, (_, i) => ({
      i,
      s: `v${i}`,
    }));
    probe.collect();
    probe.collect();
    const keep = all.filter((_, i) => i % 10 === 0);
    all = undefined;
    const before = probe.sample();
    probe.collect();
    const after = probe.sample();
    expect(keep).toHaveLength(60_000);
    expect(all).toBeUndefined();
    expect(after.committed).toBeLessThan(before.committed - 20 * MB);
  });
});
