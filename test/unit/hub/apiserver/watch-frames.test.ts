import { afterEach, describe, expect, it, vi } from "vitest";
import { WatchFrames } from "../../../../src/hub/apiserver/handlers/watch-frames.js";
import type { WatchEvent } from "../../../../src/hub/store/backend.js";
import { MemoryBackend } from "../../../../src/hub/store/memory-backend.js";

/**
 * Fan-out shares work only if the store hands every whole-batch watcher the same array and
 * the frames are memoized on it; a narrower watcher must still get only its own events.
 */
describe("shared watch frames", () => {
  const stores: MemoryBackend[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.stop();
  });

  it("hands whole-batch watchers one array, encoded once, and filters narrower ones", async () => {
    const s = new MemoryBackend();
    stores.push(s);
    await s.start();
    const seen: Array<readonly WatchEvent[]> = [];
    const narrow: Array<readonly WatchEvent[]> = [];
    for (let i = 0; i < 3; i++) s.watch("/cm/", { fromRevision: 0, onEvents: (evs) => seen.push(evs) });
    s.watch("/cm/a", { fromRevision: 0, onEvents: (evs) => narrow.push(evs) });
    // one tick: one batch
    await Promise.all([s.create("/cm/a", '{"metadata":{"name":"a"}}'), s.create("/cm/b", '{"metadata":{}}')]);
    await vi.waitFor(() => expect(seen).toHaveLength(3));
    expect(seen[1]).toBe(seen[0]);
    expect(seen[2]).toBe(seen[0]);
    expect(narrow).toHaveLength(1);
    expect(narrow[0]!.map((e) => e.kv.key)).toEqual(["/cm/a"]);

    const frames = new WatchFrames();
    const buf = frames.batch(seen[0]!);
    expect(frames.batch(seen[1]!)).toBe(buf);
    expect(buf.toString()).toBe(
      '{"type":"ADDED","object":{"metadata":{"resourceVersion":"1","name":"a"}}}\n' +
        '{"type":"ADDED","object":{"metadata":{"resourceVersion":"2"}}}\n',
    );
    // the narrower watcher's line is the same bytes as the shared one's first line
    expect(frames.batch(narrow[0]!)).toBe(frames.event(seen[0]![0]!));
  });

  it("types updates and deletes as upstream does", async () => {
    const s = new MemoryBackend();
    stores.push(s);
    await s.start();
    const got: WatchEvent[] = [];
    s.watch("/x/", { fromRevision: 0, onEvents: (evs) => got.push(...evs) });
    const c = await s.create("/x/1", '{"metadata":{}}');
    await s.update("/x/1", '{"metadata":{},"v":2}', c.revision);
    await s.delete("/x/1");
    await vi.waitFor(() => expect(got).toHaveLength(3));
    const frames = new WatchFrames();
    expect(got.map((e) => JSON.parse(frames.event(e).toString()).type)).toEqual([
      "ADDED",
      "MODIFIED",
      "DELETED",
    ]);
  });
});
