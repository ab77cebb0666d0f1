/**
 * bench/lib/hub-settle.ts: "settled" is a window of quiet CPU and steady RSS. The process
 * watched is this test's own (idle while it awaits, so its CPU is quiet); the RSS is scripted.
 */
import { describe, expect, it } from "vitest";
import { waitHubSettled } from "../../../bench/lib/hub-settle.js";

const MB = 1024 * 1024;
const fast = { sampleMs: 100, windowMs: 300, timeoutMs: 3000 };

describe("waitHubSettled", () => {
  it("settles once the RSS stops moving, reporting the figure at the call and the settled one", async () => {
    // a reclaim: 500 MB for two samples, then 400 MB from there on
    const script = [500, 500, 500, 400];
    let n = 0;
    const r = await waitHubSettled({ pid: process.pid, rss: () => (script[n++] ?? 400) * MB }, fast);
    expect(r.settled).toBe(true);
    expect(r.rssAtCallMB).toBe(500);
    expect(r.rssMB).toBe(400);
    // the window restarted at the drop: at least one full window after it
    expect(r.waitedSeconds).toBeGreaterThanOrEqual(0.6);
  });

  it("gives up at the timeout while the RSS keeps shrinking", async () => {
    let rss = 900 * MB;
    const r = await waitHubSettled(
      {
        pid: process.pid,
        rss: () => {
          rss -= 5 * MB;
          return rss;
        },
      },
      { ...fast, timeoutMs: 800 },
    );
    expect(r.settled).toBe(false);
    expect(r.rssMB).toBeLessThan(r.rssAtCallMB);
  });
});
