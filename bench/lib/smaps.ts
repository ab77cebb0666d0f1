/**
 * Where a process's resident memory sits, from the kernel's view (/proc/PID/smaps_rollup and
 * /proc/PID/smaps), to split a hub's RSS that V8's own figures do not explain.
 *
 * Design notes
 * - smaps_rollup gives the totals: anonymous (heap, malloc, V8) vs file-backed (the node
 *   binary, shared libraries, SQLite's mmap'ed WAL index) resident bytes.
 * - glibc gives every thread that mallocs (libuv's threadpool: WebCrypto/node:crypto async jobs,
 *   zlib, fs; V8's platform workers) its own arena, reserved as a 64 MiB anonymous mapping
 *   (HEAP_MAX_SIZE on 64-bit) and split into a read-write part and a PROT_NONE rest. Memory freed
 *   there stays resident until the arena's top is trimmed, so arenas are where "garbage that is
 *   never returned" hides. We count mappings whose read-write part and PROT_NONE neighbour add up
 *   to 64 MiB and sum their resident bytes.
 * - Everything is best effort: a process that is gone reads as zeros.
 */
import { readFileSync } from "node:fs";

const KB = 1024;
const ARENA_BYTES = 64 * 1024 * KB;

export interface SmapsSplit {
  /** resident anonymous bytes (malloc, V8 heap, stacks) */
  anonymous: number;
  /** resident file-backed bytes (binary, libraries, mmap'ed files) */
  file: number;
  rss: number;
  /** glibc's main arena (brk `[heap]`): the main thread's malloc (OpenSSL, SQLite, libuv) */
  mainHeap: number;
  /** glibc malloc arenas of non-main threads: how many, and their resident bytes */
  arenas: { count: number; rss: number };
}

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

const kbField = (text: string, name: string) =>
  Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0) * KB;

interface Mapping {
  start: number;
  end: number;
  perms: string;
  path: string;
  rss: number;
}

function mappings(text: string): Mapping[] {
  const out: Mapping[] = [];
  let cur: Mapping | undefined;
  for (const line of text.split("\n")) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      cur = {
        start: Number.parseInt(head[1] ?? "0", 16),
        end: Number.parseInt(head[2] ?? "0", 16),
        perms: head[3] ?? "",
        path: head[4] ?? "",
        rss: 0,
      };
      out.push(cur);
    } else if (cur && line.startsWith("Rss:")) {
      cur.rss = kbField(line, "Rss");
    }
  }
  return out;
}

/** The resident split of process `pid` (zeros when it is gone). */
export function smapsSplit(pid: number): SmapsSplit {
  return splitOf(read(`/proc/${pid}/smaps_rollup`), read(`/proc/${pid}/smaps`));
}

/** The split from the texts of smaps_rollup and smaps. */
export function splitOf(rollup: string, smaps: string): SmapsSplit {
  const maps = mappings(smaps);
  let count = 0;
  let rss = 0;
  let mainHeap = 0;
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i];
    if (!m) continue;
    if (m.path === "[heap]") mainHeap += m.rss;
    if (m.path !== "" || !m.perms.startsWith("rw")) continue;
    // an arena heap is 64 MiB aligned: its rw part, then a PROT_NONE tail up to 64 MiB
    if (m.start % ARENA_BYTES !== 0) continue;
    const next = maps[i + 1];
    const reserved =
      next && next.start === m.end && next.perms.startsWith("---") && next.path === ""
        ? next.end - m.start
        : m.end - m.start;
    if (reserved !== ARENA_BYTES) continue;
    count++;
    rss += m.rss;
  }
  return {
    anonymous: kbField(rollup, "Anonymous"),
    file: kbField(rollup, "Rss") - kbField(rollup, "Anonymous"),
    rss: kbField(rollup, "Rss"),
    mainHeap,
    arenas: { count, rss },
  };
}
