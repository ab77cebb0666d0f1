import { describe, expect, it } from "vitest";
import { Backoff, goDuration } from "../../../src/edge-agent/pods/index.js";

describe("Backoff (CrashLoopBackOff timing)", () => {
  it("restarts the first failure at once, then waits 10s doubling to 5m", () => {
    let now = 1_000_000;
    const b = new Backoff(() => now);
    expect(b.remaining("p/app", now)).toBe(0);
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      const failedAt = now;
      const wait = b.remaining("p/app", failedAt);
      now += wait;
      delays.push(b.next("p/app", failedAt, 1000));
      now += 1000; // runs a second, then fails again
    }
    expect(delays).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  });

  it("counts the wait from the failure time and says how much is left", () => {
    let now = 0;
    const b = new Backoff(() => now, { baseMs: 100 });
    b.next("k", 0);
    now = 500;
    expect(b.remaining("k", 480)).toBe(80);
    now = 580;
    expect(b.remaining("k", 480)).toBe(0);
  });

  it("resets after a container ran for 10 minutes, or after a long quiet period", () => {
    let now = 0;
    const b = new Backoff(() => now);
    for (let i = 0; i < 4; i++) b.next("k", now);
    expect(b.delay("k")).toBe(80_000);
    expect(b.next("k", now, 600_000)).toBe(10_000);
    b.next("k", now);
    now += 2 * 300_000 + 1;
    expect(b.remaining("k", now)).toBe(0);
    expect(b.next("k", now)).toBe(10_000);
  });

  it("forgets a pod's keys", () => {
    const b = new Backoff(() => 0);
    b.next("uid1/app/a", 0);
    b.next("uid2/app/a", 0);
    b.forgetPrefix("uid1/");
    expect(b.delay("uid1/app/a")).toBeUndefined();
    expect(b.delay("uid2/app/a")).toBe(10_000);
  });

  it("formats durations as Go does", () => {
    expect([400, 1600, 10_000, 80_000, 160_000, 300_000, 3_600_000].map(goDuration)).toEqual([
      "400ms",
      "1.6s",
      "10s",
      "1m20s",
      "2m40s",
      "5m0s",
      "1h0m0s",
    ]);
  });
});
