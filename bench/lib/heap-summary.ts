/**
 * Summarises a V8 heap snapshot (.heapsnapshot, as Chrome DevTools reads it) without a browser:
 * self size and count per (node type, constructor name), largest first, plus the total. What a
 * benchmark's hub holds at a glance; open the file in DevTools for retainers.
 *
 *   npx tsx bench/lib/heap-summary.ts FILE.heapsnapshot [TOP=40]
 *
 * Parsing a snapshot takes about 3× its size in memory: run it on the bench machine, not on a Pi.
 */
import { readFileSync } from "node:fs";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface HeapRow {
  type: string;
  name: string;
  count: number;
  selfBytes: number;
}

export function summarise(file: string): { totalBytes: number; rows: HeapRow[] } {
  const snap = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const f = snap.snapshot.meta.node_fields;
  const width = f.length;
  const iType = f.indexOf("type");
  const iName = f.indexOf("name");
  const iSize = f.indexOf("self_size");
  const types = snap.snapshot.meta.node_types[0];
  const rows = new Map<string, HeapRow>();
  let totalBytes = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType]!] ?? "?";
    // strings are grouped as one row each kind: their text is data, not a class
    const raw = snap.strings[snap.nodes[i + iName]!] ?? "";
    const name = type === "string" || type === "concatenated string" || type === "sliced string" ? "" : raw;
    const size = snap.nodes[i + iSize]!;
    totalBytes += size;
    const k = `${type}\0${name}`;
    const r = rows.get(k);
    if (r) {
      r.count++;
      r.selfBytes += size;
    } else rows.set(k, { type, name: name.slice(0, 80), count: 1, selfBytes: size });
  }
  return { totalBytes, rows: [...rows.values()].sort((a, b) => b.selfBytes - a.selfBytes) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: npx tsx bench/lib/heap-summary.ts FILE.heapsnapshot [TOP]");
    process.exit(2);
  }
  const top = Number(process.argv[3] ?? 40);
  const { totalBytes, rows } = summarise(file);
  const mb = (b: number) => (b / 1048576).toFixed(1).padStart(8);
  console.log(`total self size ${mb(totalBytes)} MB`);
  for (const r of rows.slice(0, top)) {
    console.log(`${mb(r.selfBytes)} MB ${String(r.count).padStart(9)}  ${r.type} ${r.name}`);
  }
}
