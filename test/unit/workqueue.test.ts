import { describe, expect, it, vi } from "vitest";
import { WorkQueue } from "../../src/lib/workqueue.js";

describe("WorkQueue", () => {
  it("dedupes queued keys and never runs one key twice at once", async () => {
    const running = new Set<string>();
    const seen: string[] = [];
    let overlap = false;
    const q = new WorkQueue(
      async (k) => {
        if (running.has(k)) overlap = true;
        running.add(k);
        seen.push(k);
        await new Promise((r) => setImmediate(r));
        running.delete(k);
      },
      { concurrency: 4 },
    );
    q.add("a");
    q.add("a");
    q.add("b");
    q.add("a"); // a is active now: re-run once after
    await q.idle();
    expect(overlap).toBe(false);
    expect(seen.filter((k) => k === "a").length).toBe(2);
    expect(seen.filter((k) => k === "b").length).toBe(1);
  });

  it("retries failures with backoff until they succeed", async () => {
    let calls = 0;
    const errors: unknown[] = [];
    const q = new WorkQueue(
      async () => {
        calls++;
        if (calls < 3) throw new Error("not yet");
      },
      { baseDelayMs: 1, onError: (_k, e) => errors.push(e) },
    );
    q.add("x");
    await vi.waitFor(() => expect(calls).toBe(3), { timeout: 2000 });
    expect(errors).toHaveLength(2);
    q.stop();
  });
});
