import { describe, expect, it } from "vitest";
import { CoalescingWriter } from "../../../../src/hub/apiserver/handlers/watch-writer.js";

/** A writer on a hand-driven clock: `tick(ms)` moves time and fires due timers. */
function rig(opts: { intervalMs?: number; maxPendingBytes?: number; accept?: () => boolean } = {}) {
  let now = 1000;
  const timers: { at: number; fn: () => void; id: number }[] = [];
  let nextId = 1;
  const writes: string[] = [];
  const w = new CoalescingWriter({
    intervalMs: opts.intervalMs ?? 10,
    maxPendingBytes: opts.maxPendingBytes ?? 1024,
    write: (d) => {
      writes.push(d.toString());
      return opts.accept ? opts.accept() : true;
    },
    now: () => now,
    setTimer: (fn, ms) => {
      const t = { at: now + ms, fn, id: nextId++ };
      timers.push(t);
      return t.id;
    },
    clearTimer: (id) => {
      const i = timers.findIndex((t) => t.id === id);
      if (i >= 0) timers.splice(i, 1);
    },
  });
  const tick = (ms: number) => {
    now += ms;
    for (const t of timers.filter((x) => x.at <= now).sort((a, b) => a.at - b.at)) {
      timers.splice(timers.indexOf(t), 1);
      t.fn();
    }
  };
  return { w, writes, tick, timers, send: (s: string) => w.send(Buffer.from(s)) };
}

describe("CoalescingWriter", () => {
  it("writes the first send after a quiet spell at once", () => {
    const r = rig();
    expect(r.send("a\n")).toBe(true);
    expect(r.writes).toEqual(["a\n"]);
    r.tick(50);
    r.send("b\n");
    expect(r.writes).toEqual(["a\n", "b\n"]);
  });

  it("joins what follows within the interval into one write, in order", () => {
    const r = rig();
    r.send("1\n");
    r.tick(2);
    r.send("2\n");
    r.tick(3);
    r.send("3\n");
    expect(r.writes).toEqual(["1\n"]);
    expect(r.timers).toHaveLength(1);
    r.tick(4); // 9 ms after the write: not yet
    expect(r.writes).toEqual(["1\n"]);
    r.tick(1); // 10 ms after it
    expect(r.writes).toEqual(["1\n", "2\n3\n"]);
    expect(r.timers).toHaveLength(0);
  });

  it("writes at once when the pending bytes reach the cap", () => {
    const r = rig({ maxPendingBytes: 8 });
    r.send("x\n");
    r.send("abcd\n");
    expect(r.writes).toEqual(["x\n"]);
    r.send("efgh\n"); // 10 bytes pending
    expect(r.writes).toEqual(["x\n", "abcd\nefgh\n"]);
    expect(r.timers).toHaveLength(0);
  });

  it("reports congestion from the last real write until drained", () => {
    let accept = false;
    const r = rig({ accept: () => accept });
    expect(r.send("a\n")).toBe(false);
    expect(r.send("b\n")).toBe(false); // still congested, queued
    r.w.drained();
    accept = true;
    expect(r.send("c\n")).toBe(true);
    r.tick(10);
    expect(r.writes).toEqual(["a\n", "b\nc\n"]);
  });

  it("hands back what is pending on close and writes nothing after", () => {
    const r = rig();
    r.send("a\n");
    r.send("b\n");
    r.send("c\n");
    const rest = r.w.close();
    expect(rest?.toString()).toBe("b\nc\n");
    expect(r.timers).toHaveLength(0);
    expect(r.send("d\n")).toBe(false);
    r.tick(100);
    expect(r.writes).toEqual(["a\n"]);
    expect(r.w.close()).toBeUndefined();
  });

  it("ignores empty sends", () => {
    const r = rig();
    expect(r.w.send(Buffer.alloc(0))).toBe(true);
    expect(r.writes).toEqual([]);
  });
});
