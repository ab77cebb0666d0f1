/**
 * Which parts of the node binary a running process has paged in: resident KB of the
 * executable's mappings, attributed to the nearest preceding symbol (`nm -C -n`), grouped into
 * V8 compiler / builtins / ICU / OpenSSL / node … (docs/hub-memory.md says what it found).
 *
 *   npx tsx bench/lib/binary-pages.ts PID [TOP=25]        (root: reads /proc/PID/pagemap)
 *
 * Design notes
 * - A third to a half of an idle hub's RSS is file-backed pages of /usr/bin/node (a bare node
 *   ≈31 MB of its ≈40 MB). They count in VmRSS like the heap does, and which ones are resident
 *   depends on what the process ran: TurboFan compiling start-up code pages in ≈3 MB of the
 *   compiler, Date#toISOString pages in ICU's time zone data. smaps only gives a total per
 *   mapping; pagemap's "present" bit per 4 KiB page, mapped to symbols, tells what is there.
 * - Stripped binaries have no local symbols: the groups then collapse into "other".
 * - Regions without symbols (node's embedded JS sources and code cache) show up under the
 *   last symbol before them, e.g. a vtable; compare against a bare `node` to read them.
 */
import { execFileSync } from "node:child_process";
import { closeSync, openSync, readFileSync, readlinkSync, readSync } from "node:fs";

const PAGE = 4096;

interface Sym {
  addr: number;
  name: string;
}

function symbols(binary: string): Sym[] {
  const out = execFileSync("nm", ["-C", "--defined-only", "-n", binary], {
    maxBuffer: 512 * 1024 * 1024,
    encoding: "utf8",
  });
  const syms: Sym[] = [];
  for (const line of out.split("\n")) {
    const m = /^([0-9a-f]+) \S (.*)$/.exec(line);
    if (m && !m[2]!.startsWith(".annobin")) syms.push({ addr: Number.parseInt(m[1]!, 16), name: m[2]! });
  }
  return syms;
}

const GROUPS: [string, string][] = [
  ["v8::internal::compiler", "v8 TurboFan"],
  ["v8::internal::maglev", "v8 Maglev"],
  ["v8::internal::baseline", "v8 Sparkplug"],
  ["Builtins_", "v8 builtins"],
  ["v8::internal::wasm", "v8 wasm"],
  ["v8::internal::interpreter", "v8 interpreter"],
  ["v8::", "v8 other"],
  ["icu_", "ICU code"],
  ["icudt", "ICU data"],
  ["node::", "node"],
  ["uv_", "libuv"],
  ["ossl_", "OpenSSL"],
  ["SSL", "OpenSSL"],
  ["ssl", "OpenSSL"],
  ["EVP_", "OpenSSL"],
  ["X509", "OpenSSL"],
  ["ASN1", "OpenSSL"],
  ["BN_", "OpenSSL"],
  ["std::", "libstdc++ inline"],
  ["ares_", "c-ares"],
  ["llhttp", "llhttp"],
];

function groupOf(name: string): string {
  for (const [prefix, g] of GROUPS) if (name.startsWith(prefix)) return g;
  return "other";
}

function main(): void {
  const pid = process.argv[2];
  const top = Number(process.argv[3] ?? 25);
  if (!pid) {
    console.error("usage: npx tsx bench/lib/binary-pages.ts PID [TOP]");
    process.exit(2);
  }
  const binary = readlinkSync(`/proc/${pid}/exe`);
  const maps = readFileSync(`/proc/${pid}/maps`, "utf8")
    .split("\n")
    .map((line) => line.split(/\s+/))
    .filter((f) => f[5] === binary);
  const base = Math.min(...maps.map((f) => Number.parseInt(f[0]!.split("-")[0]!, 16)));
  // thread-local and absolute symbols have small addresses: not in any page we look at
  const syms = symbols(binary).filter((s) => s.addr >= base);
  const bySymbol = new Map<string, number>();
  const byGroup = new Map<string, number>();
  const add = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + PAGE / 1024);
  const fd = openSync(`/proc/${pid}/pagemap`, "r");
  try {
    for (const f of maps) {
      // the mapping at file offset 0 holds the ELF headers, dynamic symbols and relocations
      const headers = f[2] === "00000000";
      const [lo, hi] = f[0]!.split("-").map((x) => Number.parseInt(x, 16)) as [number, number];
      // only the file's own load addresses (a non-PIE node); remapped copies have no symbols
      if (lo > 0x7fff_0000_0000 / 2) continue;
      const pages = (hi - lo) / PAGE;
      const buf = Buffer.alloc(pages * 8);
      readSync(fd, buf, 0, buf.length, (lo / PAGE) * 8);
      let j = 0;
      for (let i = 0; i < pages; i++) {
        if (buf.readBigUInt64LE(i * 8) >> 63n === 0n) continue;
        const va = lo + i * PAGE;
        while (j + 1 < syms.length && syms[j + 1]!.addr <= va) j++;
        const s = syms[j];
        const known = !headers && s !== undefined && s.addr <= va;
        add(bySymbol, known ? s.name.slice(0, 90) : "(ELF headers, dynamic symbols, relocations)");
        add(byGroup, known ? groupOf(s.name) : "ELF headers/dynsym");
      }
    }
  } finally {
    closeSync(fd);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  const total = [...byGroup.values()].reduce((a, b) => a + b, 0);
  console.log(`${binary}: ${total} KB resident`);
  for (const [g, kb] of sorted(byGroup)) console.log(`${String(kb).padStart(8)} KB  ${g}`);
  console.log("--- by symbol");
  for (const [n, kb] of sorted(bySymbol).slice(0, top)) console.log(`${String(kb).padStart(8)} KB  ${n}`);
}

main();
