import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { decodeStored, encodeForStorage } from "../../../../src/hub/apiserver/codec.js";
import { TableRows } from "../../../../src/hub/apiserver/handlers/table-rows.js";
import { buildTable, printerFor, type TablePrinter } from "../../../../src/hub/apiserver/printers/index.js";

const created = "2026-01-01T00:00:00Z";
const cm = (name: string, data: Record<string, string>, ts: string | undefined = created): string =>
  encodeForStorage({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: "ns", uid: `uid-${name}`, ...(ts ? { creationTimestamp: ts } : {}) },
    data,
  } as KubeObject);

/** what the list printed before rows were kept: the object parsed and its rows encoded */
function fresh(
  p: TablePrinter,
  value: string,
  revision: number,
  now: Date,
  include: "None" | "Metadata" | "Object" = "Metadata",
): string {
  const t = buildTable(p, [decodeStored(value, revision)], {
    includeObject: include,
    resourceVersion: "",
    now,
    noHeaders: true,
  });
  return (t.rows as unknown[]).map((r) => JSON.stringify(r)).join(",");
}

const at = (seconds: string) => new Date(Date.parse(created) + Number(seconds) * 1000);

describe("TableRows", () => {
  const configMaps = printerFor("", "configmaps");

  it("notes a row first, keeps it the second time, then prints only its age anew, byte for byte as a fresh print", () => {
    const rows = new TableRows(1 << 20);
    const v = cm("a", { k: "v", l: "w" });
    for (const seconds of ["5", "5", "61", "125", "4000", "90000", "9000000", "90000000"]) {
      const now = at(seconds);
      expect(rows.rows(configMaps, "Metadata", "/cm/ns/a", v, 7, now)).toBe(fresh(configMaps, v, 7, now));
    }
    expect(rows.stats()).toMatchObject({ hits: 6, misses: 2, entries: 1 });
    // an object without creationTimestamp: "<unknown>" is a fixed cell
    const nots = cm("b", {}, undefined);
    rows.rows(configMaps, "Metadata", "/cm/ns/b", nots, 8, at("5"));
    rows.rows(configMaps, "Metadata", "/cm/ns/b", nots, 8, at("6"));
    expect(rows.rows(configMaps, "Metadata", "/cm/ns/b", nots, 8, at("500"))).toBe(
      fresh(configMaps, nots, 8, at("500")),
    );
    expect(rows.stats()).toMatchObject({ hits: 7, misses: 4, entries: 2 });
  });

  it("prints anew for another revision, printer or includeObject, and never keeps includeObject=Object", () => {
    const rows = new TableRows(1 << 20);
    const v1 = cm("a", { k: "v" });
    const v2 = cm("a", { k: "v", x: "y" });
    const now = at("100");
    const twice = (p: TablePrinter, include: "None" | "Metadata" | "Object", v: string, rev: number) => {
      rows.rows(p, include, "/cm/ns/a", v, rev, now);
      return rows.rows(p, include, "/cm/ns/a", v, rev, now);
    };
    twice(configMaps, "Metadata", v1, 7);
    expect(twice(configMaps, "Metadata", v2, 9)).toBe(fresh(configMaps, v2, 9, now));
    expect(twice(configMaps, "None", v2, 9)).toBe(fresh(configMaps, v2, 9, now, "None"));
    const other: TablePrinter = { columns: configMaps.columns, rows: (o, n) => configMaps.rows(o, n) };
    expect(twice(other, "None", v2, 9)).toBe(fresh(other, v2, 9, now, "None"));
    expect(rows.stats()).toMatchObject({ hits: 0, misses: 8, entries: 1 });
    expect(rows.rows(other, "None", "/cm/ns/a", v2, 9, now)).toBe(fresh(other, v2, 9, now, "None"));
    expect(rows.stats()).toMatchObject({ hits: 1 });
    expect(twice(other, "Object", v2, 9)).toBe(fresh(other, v2, 9, now, "Object"));
    expect(twice(other, "Object", v2, 9)).toBe(fresh(other, v2, 9, now, "Object"));
    expect(rows.stats()).toMatchObject({ hits: 1, misses: 12 });
  });

  it("does not keep rows with another time-dependent cell, nor a printer's zero or several rows", () => {
    const rows = new TableRows(1 << 20);
    const v = cm("a", { k: "v" });
    const lastSeen: TablePrinter = {
      columns: configMaps.columns,
      // a LAST SEEN-like cell: time since a timestamp that is not the creation's
      rows: (o, now) => [
        [o.metadata.name, `${Math.trunc((now.getTime() - Date.parse(created) - 3000) / 1000)}s`],
      ],
    };
    let printed = 0;
    const counted: TablePrinter = {
      columns: lastSeen.columns,
      rows: (o, now) => {
        printed++;
        return lastSeen.rows(o, now);
      },
    };
    const none: TablePrinter = { columns: [], rows: () => [] };
    const two: TablePrinter = { columns: [], rows: (o) => [[o.metadata.name], ["second"]] };
    for (const s of ["10", "20", "30", "40"]) {
      expect(rows.rows(counted, "None", "/cm/ns/a", v, 7, at(s))).toBe(fresh(lastSeen, v, 7, at(s), "None"));
      expect(rows.rows(none, "None", "/cm/ns/b", v, 7, at(s))).toBe("");
      expect(rows.rows(two, "None", "/cm/ns/c", v, 7, at(s))).toBe(fresh(two, v, 7, at(s), "None"));
    }
    // printed once per list, plus the one probe of the second list that found it time-dependent
    expect(printed).toBe(5);
    expect(rows.stats()).toMatchObject({ hits: 0, misses: 12, entries: 1 });
  });

  it("stays within its budget, dropping the oldest entries first", () => {
    const one = new TableRows(1 << 20);
    one.rows(configMaps, "Metadata", "/cm/ns/0", cm("0", {}), 1, at("5"));
    one.rows(configMaps, "Metadata", "/cm/ns/0", cm("0", {}), 1, at("5"));
    const entry = one.stats().bytes;
    const rows = new TableRows(entry * 3 + 10);
    for (let i = 0; i < 5; i++) {
      rows.rows(configMaps, "Metadata", `/cm/ns/${i}`, cm(String(i), {}), 10 + i, at("5"));
      rows.rows(configMaps, "Metadata", `/cm/ns/${i}`, cm(String(i), {}), 10 + i, at("5"));
    }
    expect(rows.stats()).toMatchObject({ entries: 3, misses: 10 });
    expect(rows.stats().bytes).toBeLessThanOrEqual(entry * 3 + 10);
    // the newest three are kept
    rows.rows(configMaps, "Metadata", "/cm/ns/4", cm("4", {}), 14, at("6"));
    rows.rows(configMaps, "Metadata", "/cm/ns/2", cm("2", {}), 12, at("6"));
    rows.rows(configMaps, "Metadata", "/cm/ns/0", cm("0", {}), 10, at("6"));
    expect(rows.stats()).toMatchObject({ hits: 2, misses: 11 });
    // a budget of 0 keeps nothing
    const off = new TableRows(0);
    off.rows(configMaps, "Metadata", "/cm/ns/0", cm("0", {}), 1, at("5"));
    off.rows(configMaps, "Metadata", "/cm/ns/0", cm("0", {}), 1, at("5"));
    expect(off.stats()).toMatchObject({ entries: 0, bytes: 0 });
  });
});
