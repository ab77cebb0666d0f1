import { describe, expect, it } from "vitest";
import { PointReadCache } from "../../../../src/hub/store/point-read-cache.js";

/** a log of rows that counts its reads */
function rows(values: Record<number, string>) {
  const reads: number[] = [];
  return {
    reads,
    read: (r: number) => {
      reads.push(r);
      const v = values[r];
      if (v === undefined) throw new Error(`row ${r} missing`);
      return v;
    },
  };
}

describe("PointReadCache", () => {
  it("reads a row once while it is among the recent ones", () => {
    const log = rows({ 1: "a", 2: "b" });
    const c = new PointReadCache();
    expect(c.get(1, log.read)).toBe("a");
    expect(c.get(1, log.read)).toBe("a");
    expect(c.get(2, log.read)).toBe("b");
    expect(log.reads).toEqual([1, 2]);
  });

  it("evicts the least recently used row beyond maxEntries", () => {
    const log = rows({ 1: "a", 2: "b", 3: "c" });
    const c = new PointReadCache({ maxEntries: 2 });
    c.get(1, log.read);
    c.get(2, log.read);
    c.get(1, log.read); // 1 is now newer than 2
    c.get(3, log.read); // evicts 2
    expect(c.size).toBe(2);
    c.get(1, log.read);
    c.get(2, log.read);
    expect(log.reads).toEqual([1, 2, 3, 2]);
  });

  it("does not keep values larger than maxValueChars", () => {
    const log = rows({ 1: "x".repeat(10), 2: "y" });
    const c = new PointReadCache({ maxValueChars: 5 });
    c.get(1, log.read);
    c.get(1, log.read);
    c.get(2, log.read);
    c.get(2, log.read);
    expect(log.reads).toEqual([1, 1, 2]);
  });

  it("lets a read error through and keeps nothing", () => {
    const log = rows({});
    const c = new PointReadCache();
    expect(() => c.get(7, log.read)).toThrow(/row 7 missing/);
    expect(c.size).toBe(0);
  });
});
