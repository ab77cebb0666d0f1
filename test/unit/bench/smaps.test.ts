import { describe, expect, it } from "vitest";
import { splitOf } from "../../../bench/lib/smaps.js";

const rollup = `00400000-7ffc00000000 ---p 00000000 00:00 0                              [rollup]
Rss:              150000 kB
Pss:              140000 kB
Anonymous:        100000 kB
`;

/** one smaps entry: range, permissions, path and its resident kB */
const entry = (range: string, perms: string, path: string, rssKb: number) =>
  `${range} ${perms} 00000000 00:00 0   ${path}\nSize: 4 kB\nRss: ${rssKb} kB\nAnonymous: ${rssKb} kB\n`;

describe("bench smaps split", () => {
  it("separates anonymous from file memory and finds the main heap and 64 MiB malloc arenas", () => {
    const smaps = [
      entry("55d000000000-55d000400000", "r-xp", "/usr/bin/node", 30000),
      entry("55d001000000-55d005000000", "rw-p", "[heap]", 60000),
      // an arena: 64 MiB-aligned, 8 MiB read-write, then a PROT_NONE tail up to 64 MiB
      entry("7f0c00000000-7f0c00800000", "rw-p", "", 7000),
      entry("7f0c00800000-7f0c04000000", "---p", "", 0),
      // a second arena with all 64 MiB writable
      entry("7f1000000000-7f1004000000", "rw-p", "", 2000),
      // anonymous memory that is no arena: not aligned, or not 64 MiB
      entry("7f2000100000-7f2004100000", "rw-p", "", 5000),
      entry("7f3000000000-7f3000200000", "rw-p", "", 1000),
    ].join("");
    const s = splitOf(rollup, smaps);
    expect(s.rss).toBe(150000 * 1024);
    expect(s.anonymous).toBe(100000 * 1024);
    expect(s.file).toBe(50000 * 1024);
    expect(s.mainHeap).toBe(60000 * 1024);
    expect(s.arenas).toEqual({ count: 2, rss: 9000 * 1024 });
  });

  it("reads a process that is gone as zeros", () => {
    expect(splitOf("", "")).toEqual({
      anonymous: 0,
      file: 0,
      rss: 0,
      mainHeap: 0,
      arenas: { count: 0, rss: 0 },
    });
  });
});
