/**
 * HeapReclaimer: the decision (a heap that grew, then a quiet loop, reclaims once; a busy loop
 * or small growth never does) with a fake probe, and the real probe's GC giving back a burst's
 * young generation and garbage in this very process.
 */
import { describe, expect, it, vi } from "vitest";
import { type HeapProbe, HeapReclaimer, nodeHeapProbe } from "../../../src/lib/heap-reclaimer.js";
import { silentLogger } from "../../../src/lib/logger.js";

const MB = 1024 * 1024;

function fakeProbe(): HeapProbe & {
  committed: number;
  young: number;
  elu: number;
  collects: number;
  scavenges: number;
} {
  const p = {
    committed: 100 * MB,
    young: 0,
    elu: 0.9,
    collects: 0,
    scavenges: 0,
    sample: () => ({ committed: p.committed, youngCommitted: p.young }),
    loopUtilisation: () => p.elu,
    collect: () => {
      p.collects++;
      p.committed = 110 * MB;
    },
    collectYoung: () => {
      p.scavenges++;
      p.young = 1 * MB;
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

describe("HeapReclaimer young generation release", () => {
  it("scavenges once when the loop is quiet and the young generation is large, then waits", () => {
    const probe = fakeProbe();
    let now = 0;
    const r = new HeapReclaimer({ probe, logger: silentLogger(), quietChecks: 3, now: () => now });
    r.start();
    r.stop();
    // no growth of the whole heap, but a 32 MB young generation V8 kept after some burst
    probe.young = 32 * MB;
    for (let i = 0; i < 5; i++, now += 2000) r.tick();
    expect(probe.scavenges).toBe(0);
    probe.elu = 0.05;
    for (let i = 0; i < 3; i++, now += 2000) r.tick();
    expect(probe.scavenges).toBe(1);
    expect(r.stats.youngReturnedBytes).toBe(31 * MB);
    expect(probe.collects).toBe(0);
    // V8 grew it again (allocation went on): not before minIntervalMs (30 s) has passed
    probe.young = 32 * MB;
    for (let i = 0; i < 10; i++, now += 2000) r.tick();
    expect(probe.scavenges).toBe(1);
    for (let i = 0; i < 10; i++, now += 2000) r.tick();
    expect(probe.scavenges).toBe(2);
  });

  it("leaves a small young generation and a busy loop alone, and prefers a full reclaim", () => {
    const probe = fakeProbe();
    let now = 0;
    const r = new HeapReclaimer({ probe, logger: silentLogger(), quietChecks: 3, now: () => now });
    r.start();
    r.stop();
    probe.young = 4 * MB;
    probe.elu = 0.05;
    for (let i = 0; i < 30; i++, now += 2000) r.tick();
    probe.young = 32 * MB;
    probe.elu = 0.9;
    for (let i = 0; i < 30; i++, now += 2000) r.tick();
    expect(probe.scavenges).toBe(0);
    // growth and a large young generation at once: the full reclaim runs, no scavenge beside it
    probe.committed = 200 * MB;
    probe.elu = 0.05;
    for (let i = 0; i < 3; i++, now += 2000) r.tick();
    expect(probe.collects).toBe(1);
    expect(probe.scavenges).toBe(0);
  });
});

describe("nodeHeapProbe", () => {
  it("a scavenge on a process that stopped allocating gives the young generation back", async () => {
    const probe = nodeHeapProbe();
    // a burst that survives scavenges long enough for V8 to grow the semi-spaces
    let keep: { i: number; s: string }[] = [];
    for (let i = 0; i < 3_000_000; i++) {
      keep.push({ i, s: `x${i}` });
      if (keep.length > 200_000) keep = [];
    }
    keep = [];
    const grown = probe.sample().youngCommitted;
    expect(grown).toBeGreaterThanOrEqual(16 * MB);
    // V8 shrinks only once its recent allocation rate is low: scavenge until it does
    await vi.waitFor(
      () => {
        probe.collectYoung();
        expect(probe.sample().youngCommitted).toBeLessThan(grown / 4);
      },
      { timeout: 30_000, interval: 1_000 },
    );
  }, 40_000);

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
