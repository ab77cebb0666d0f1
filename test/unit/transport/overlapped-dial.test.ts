/**
 * OverlappedDialer with fake timers and a fake dialer: stagger, in-flight cap, first wins,
 * attempts that end while their dials go on (adopted by the next, or held and announced),
 * errors that end an attempt, cancellation.
 */
import type { Socket } from "node:net";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type Dialer, TcpConnectTimeoutError } from "../../../src/transport/dialer.js";
import { OverlappedDialer } from "../../../src/transport/overlapped-dial.js";
import { classifyFailure } from "../../../src/transport/reconnect-policy.js";

const target = { host: "127.0.0.1", port: 1 };

interface FakeDial {
  startedAt: number;
  aborted: boolean;
  connect(): Socket & { destroyed: boolean };
  fail(err: Error): void;
}

/** a dialer whose dials stay pending (a black hole) until the test connects or fails them */
function fakeDialer(): { dial: Dialer; dials: FakeDial[]; inFlight: () => number } {
  const dials: FakeDial[] = [];
  const dial: Dialer = (_t, signal) =>
    new Promise<Socket>((resolve, reject) => {
      const d: FakeDial = {
        startedAt: Date.now(),
        aborted: false,
        connect: () => {
          const s = {
            destroyed: false,
            destroy: () => {
              s.destroyed = true;
            },
          };
          resolve(s as unknown as Socket);
          return s as unknown as Socket & { destroyed: boolean };
        },
        fail: reject,
      };
      signal.addEventListener("abort", () => {
        d.aborted = true;
        reject(signal.reason);
      });
      dials.push(d);
    });
  return { dial, dials, inFlight: () => dials.filter((d) => !d.aborted).length };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

const plan = (spanMs = 30_000) => ({ timeoutMs: 3500, spanMs });

describe("OverlappedDialer", () => {
  it("starts a dial every stagger while earlier ones wait, at most maxInFlight", async () => {
    const f = fakeDialer();
    const od = new OverlappedDialer(f.dial, () => 0.5);
    const p = od.attempt(target, plan());
    await vi.advanceTimersByTimeAsync(0);
    expect(f.dials.length).toBe(1);
    await vi.advanceTimersByTimeAsync(500);
    expect(f.dials.length).toBe(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(f.dials.map((d) => d.startedAt - 1_000_000)).toEqual([0, 500, 1000, 1500]);
    await vi.advanceTimersByTimeAsync(1500);
    // the cap: still 4, none has timed out yet
    expect(f.dials.length).toBe(4);
    expect(od.pending).toBe(4);
    // the first times out at 3.5 s: a new one takes its place at once
    await vi.advanceTimersByTimeAsync(500);
    expect(f.dials[0]?.aborted).toBe(true);
    expect(f.dials.length).toBe(5);
    expect(f.dials[4]?.startedAt).toBe(1_003_500);
    // the third connects: it wins, every other pending dial is aborted
    const third = f.dials[2];
    if (!third) throw new Error("no third dial");
    const s = third.connect();
    expect(await p).toBe(s);
    expect(f.dials.filter((d) => d !== third).every((d) => d.aborted)).toBe(true);
    expect(od.pending).toBe(0);
  });

  it("destroys a socket that connects after the winner", async () => {
    const f = fakeDialer();
    const p = new OverlappedDialer(f.dial, () => 0).attempt(target, plan());
    await vi.advanceTimersByTimeAsync(450);
    const [a, b] = f.dials;
    if (!a || !b) throw new Error("expected two dials");
    // both SYN-ACKs in one tick: b's dialer resolved before the abort could reach it
    const sa = a.connect();
    const sb = b.connect();
    expect(await p).toBe(sa);
    await vi.advanceTimersByTimeAsync(0);
    expect(sa.destroyed).toBe(false);
    expect(sb.destroyed).toBe(true);
  });

  it("ends an attempt after its span as unreachable, keeping its dials for the next attempt", async () => {
    const f = fakeDialer();
    const od = new OverlappedDialer(f.dial, () => 0.5);
    const e = await Promise.all([
      od.attempt(target, plan(2000)).catch((x: unknown) => x),
      vi.advanceTimersByTimeAsync(2000),
    ]).then(([x]) => x);
    expect(e).toBeInstanceOf(TcpConnectTimeoutError);
    expect(classifyFailure(e as Error)).toBe("unreachable");
    expect(f.dials.length).toBe(4);
    expect(f.dials.some((d) => d.aborted)).toBe(false);
    // between attempts the dials run on but no new one starts
    await vi.advanceTimersByTimeAsync(1000);
    expect(f.dials.length).toBe(4);
    // the next attempt adopts them: one that connects now wins it
    const next = od.attempt(target, plan(2000));
    const s = f.dials[3]?.connect();
    expect(await next).toBe(s);
  });

  it("holds a socket that connected between attempts and announces it", async () => {
    const f = fakeDialer();
    let ready = 0;
    const od = new OverlappedDialer(
      f.dial,
      () => 0.5,
      () => ready++,
    );
    const first = od.attempt(target, plan(1000)).catch((x: unknown) => x);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await first).toBeInstanceOf(TcpConnectTimeoutError);
    const s = f.dials[1]?.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(ready).toBe(1);
    expect(f.dials[0]?.aborted).toBe(true);
    expect(await od.attempt(target, plan(1000))).toBe(s);
    expect(f.dials.length).toBe(2);
  });

  it("ends the attempt at once with an error that is not a timeout", async () => {
    const f = fakeDialer();
    const od = new OverlappedDialer(f.dial, () => 0.5);
    const p = od.attempt(target, plan()).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1100);
    expect(f.dials.length).toBe(3);
    f.dials[1]?.fail(Object.assign(new Error("refused"), { code: "ECONNREFUSED" }));
    const e = (await p) as Error & { code?: string };
    expect(e.code).toBe("ECONNREFUSED");
    expect(classifyFailure(e)).toBe("answered");
    // EdgeLink then aborts the rest (the hub answered: back off)
    od.abort();
    expect(f.dials[0]?.aborted && f.dials[2]?.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(5000);
    expect(f.dials.length).toBe(3);
  });

  it("a slow link connects on the first dial before the second starts", async () => {
    const f = fakeDialer();
    const p = new OverlappedDialer(f.dial, () => 0).attempt(target, plan());
    await vi.advanceTimersByTimeAsync(300);
    const s = f.dials[0]?.connect();
    expect(await p).toBe(s);
    await vi.advanceTimersByTimeAsync(5000);
    expect(f.dials.length).toBe(1);
  });

  it("cancels with the caller's reason and aborts every dial", async () => {
    const f = fakeDialer();
    const cancel = new AbortController();
    const od = new OverlappedDialer(f.dial);
    const p = od.attempt(target, plan(), cancel.signal).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1500);
    cancel.abort(new Error("edge link stopped"));
    expect(((await p) as Error).message).toBe("edge link stopped");
    expect(f.dials.every((d) => d.aborted)).toBe(true);
    await vi.advanceTimersByTimeAsync(5000);
    expect(f.inFlight()).toBe(0);
    expect(od.pending).toBe(0);
  });
});
