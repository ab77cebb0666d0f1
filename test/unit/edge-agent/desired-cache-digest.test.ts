/**
 * DesiredCache's set digest: it must equal the digest the hub computes over the same set
 * (digestOf, as DesiredIndex and the in-memory source hash), through every kind of apply, a
 * snapshot, a rolled-back transaction, a restart, and a cache file written before digests.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { KubeObject } from "../../../src/api/object.js";
import { DesiredCache } from "../../../src/edge-agent/cache/desired-cache.js";
import type { DesiredObject } from "../../../src/transport/envelope.js";
import { digestOf } from "../../helpers/desired-memory.js";

let dir: string;
let cache: DesiredCache;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ek-cache-digest-"));
  cache = new DesiredCache(join(dir, "cache.db"));
});
afterEach(() => {
  cache.close();
  rmSync(dir, { recursive: true, force: true });
});

const cm = (name: string, v: string): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "default" },
  data: { v },
});
const key = (name: string) => `core/configmaps/default/${name}`;
/** what the hub holds, as a list of entries */
const hubSet = (objs: Record<string, KubeObject>): DesiredObject[] =>
  Object.entries(objs).map(([name, object]) => ({ key: key(name), revision: 1, object }));
/** as the object arrives over the wire: parsed from the hub's JSON */
const wire = (o: KubeObject) => JSON.parse(JSON.stringify(o)) as KubeObject;

describe("DesiredCache digest", () => {
  it("follows puts, updates, stale and no-op changes and deletes like the hub's digest", () => {
    const empty = cache.digest();
    expect(empty).toBe(digestOf([]));
    cache.apply(
      [
        { op: "put", key: key("a"), revision: 2, object: wire(cm("a", "1")) },
        { op: "put", key: key("b"), revision: 3, object: wire(cm("b", "1")) },
      ],
      3,
    );
    expect(cache.digest()).toBe(digestOf(hubSet({ a: cm("a", "1"), b: cm("b", "1") })));
    cache.apply([{ op: "put", key: key("a"), revision: 4, object: wire(cm("a", "2")) }], 4);
    const ab = digestOf(hubSet({ a: cm("a", "2"), b: cm("b", "1") }));
    expect(cache.digest()).toBe(ab);
    // an older put, an older delete, the same object under a newer revision: the set is unchanged
    cache.apply(
      [
        { op: "put", key: key("a"), revision: 1, object: wire(cm("a", "old")) },
        { op: "delete", key: key("b"), revision: 2 },
        { op: "put", key: key("b"), revision: 5, object: wire(cm("b", "1")) },
        { op: "delete", key: key("never-there"), revision: 5 },
      ],
      5,
    );
    expect(cache.digest()).toBe(ab);
    cache.apply([{ op: "delete", key: key("a"), revision: 6 }], 6);
    expect(cache.digest()).toBe(digestOf(hubSet({ b: cm("b", "1") })));
    cache.apply([{ op: "delete", key: key("b"), revision: 7 }], 7);
    expect(cache.digest()).toBe(empty);
  });

  it("a snapshot sets the digest to the snapshot's; a failed transaction leaves it alone", () => {
    cache.apply([{ op: "put", key: key("gone"), revision: 1, object: wire(cm("gone", "1")) }], 1);
    const snap: DesiredObject[] = [
      { key: key("a"), revision: 5, object: wire(cm("a", "1")) },
      { key: "core/nodes/pi", revision: 6, object: wire({ kind: "Node", metadata: { name: "pi" } }) },
    ];
    cache.replace(snap, 6);
    const d = cache.digest();
    expect(d).toBe(digestOf(snap));
    cache.replace(snap, 7); // the same set again (a resync): same digest
    expect(cache.digest()).toBe(d);
    expect(() =>
      cache.apply(
        [
          { op: "put", key: key("a"), revision: 8, object: wire(cm("a", "2")) },
          { op: "put", key: "no-slashes", revision: 8, object: wire(cm("x", "1")) },
        ],
        8,
      ),
    ).toThrow();
    expect(cache.digest()).toBe(d);
    expect(() => cache.replace([{ key: "bad", revision: 9, object: cm("x", "1") }], 9)).toThrow();
    expect(cache.digest()).toBe(d);
  });

  it("hashes the JSON text both ends produce, whatever the object's key order or characters", () => {
    const odd: KubeObject = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "odd", namespace: "default", annotations: { "10": "x", b: "y", "2": "z" } },
      data: { "ü-ключ": 'line\nbreak \u2028 "quoted"', n: "1e3" },
    };
    cache.apply([{ op: "put", key: key("odd"), revision: 1, object: wire(odd) }], 1);
    expect(cache.digest()).toBe(digestOf([{ key: key("odd"), revision: 1, object: odd }]));
  });

  it("is kept in the file: a restart, and a cache written before digests, give the same digest", () => {
    cache.apply(
      [
        { op: "put", key: key("a"), revision: 2, object: wire(cm("a", "1")) },
        { op: "put", key: key("b"), revision: 3, object: wire(cm("b", "1")) },
      ],
      3,
    );
    const d = cache.digest();
    cache.close();
    cache = new DesiredCache(join(dir, "cache.db"));
    expect(cache.digest()).toBe(d);
    cache.close();
    const raw = new Database(join(dir, "cache.db"));
    raw.prepare("DELETE FROM cache_meta WHERE name = 'digest'").run();
    raw.close();
    cache = new DesiredCache(join(dir, "cache.db"));
    expect(cache.digest()).toBe(d);
    expect(d).not.toBe(digestOf([]));
  });
});
