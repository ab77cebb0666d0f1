/** The agent's outbox on a real SQLite file: coalescing, ordered drain, ack by sequence, restart. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Outbox } from "../../../src/transport/outbox.js";

let dir: string;
const open: Outbox[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ek-outbox-"));
});
afterEach(() => {
  for (const o of open.splice(0)) o.close();
  rmSync(dir, { recursive: true, force: true });
});

function outbox(): Outbox {
  const o = new Outbox(join(dir, "outbox.db"));
  open.push(o);
  return o;
}

describe("Outbox", () => {
  it("keeps only the newest status per key, in sequence order", () => {
    const o = outbox();
    const s1 = o.put("pod/a", { phase: "Pending" }, 3);
    const s2 = o.put("pod/b", { phase: "Running" });
    const s3 = o.put("pod/a", { phase: "Running" }, 4);
    expect(s1).toBeLessThan(s2);
    expect(s2).toBeLessThan(s3);
    expect(o.size()).toBe(2);
    expect(o.pending()).toEqual([
      { key: "pod/b", seq: s2, status: { phase: "Running" } },
      { key: "pod/a", seq: s3, status: { phase: "Running" }, observedRevision: 4 },
    ]);
  });

  it("removes only acknowledged updates; a newer status for an in-flight key survives the ack", () => {
    const o = outbox();
    const a1 = o.put("pod/a", 1);
    const b1 = o.put("pod/b", 1);
    const sent = o.pending();
    const a2 = o.put("pod/a", 2); // arrives while `sent` is in flight
    expect(o.ack(sent.at(-1)?.seq ?? 0)).toBe(1); // pod/b; pod/a's old row was already replaced
    expect(o.pending()).toEqual([{ key: "pod/a", seq: a2, status: 2 }]);
    expect([a1, b1].every((s) => s < a2)).toBe(true);
  });

  it("pages by count and bytes, always returning at least one", () => {
    const o = outbox();
    for (let i = 0; i < 10; i++) o.put(`k${i}`, "x".repeat(100));
    expect(o.pending(0, 3)).toHaveLength(3);
    expect(o.pending(0, 100, 250)).toHaveLength(2);
    expect(o.pending(0, 100, 1)).toHaveLength(1);
    const first = o.pending(0, 1)[0]?.seq ?? 0;
    expect(o.pending(first, 100).map((u) => u.key)).toEqual([
      "k1",
      "k2",
      "k3",
      "k4",
      "k5",
      "k6",
      "k7",
      "k8",
      "k9",
    ]);
  });

  it("survives a restart with its epoch and never reuses a sequence number", () => {
    const o1 = outbox();
    o1.put("pod/a", "x");
    const last = o1.put("pod/b", "y");
    const epoch = o1.epoch;
    o1.ack(last - 1);
    o1.close();
    open.length = 0;

    const o2 = outbox();
    expect(o2.epoch).toBe(epoch);
    expect(o2.pending()).toEqual([{ key: "pod/b", seq: last, status: "y" }]);
    o2.ack(last);
    expect(o2.size()).toBe(0);
    expect(o2.put("pod/c", "z")).toBeGreaterThan(last);
  });

  it("gets a new epoch when the file is new", () => {
    const a = outbox().epoch;
    const other = new Outbox(join(dir, "other.db"));
    open.push(other);
    expect(other.epoch).not.toBe(a);
  });
});
