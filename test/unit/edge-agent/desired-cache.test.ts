import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { KubeObject } from "../../../src/api/object.js";
import { type CacheChange, DesiredCache } from "../../../src/edge-agent/cache/desired-cache.js";
import { DesiredView } from "../../../src/edge-agent/cache/desired-view.js";
import { DesiredKeyError } from "../../../src/edge-agent/cache/keys.js";

let dir: string;
let cache: DesiredCache;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ek-cache-"));
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
const pod = (name: string, node: string): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "apps" },
  spec: { nodeName: node, containers: [{ name: "c", image: "busybox" }] },
});
const dataOf = (key: string) =>
  (cache.getEntry(key)?.object as { data?: { v?: string } } | undefined)?.data?.v;

describe("DesiredCache", () => {
  it("starts empty at watermark 0 and records the watermark with each apply", () => {
    expect(cache.watermark()).toBe(0);
    cache.apply([{ op: "put", key: "core/configmaps/default/a", revision: 3, object: cm("a", "1") }], 5);
    expect(cache.watermark()).toBe(5);
    expect(cache.version("core/configmaps/default/a")).toBe(3);
    expect(cache.version("core/configmaps/default/b")).toBeUndefined();
  });

  it("keeps the newest revision per key: an older put or delete never wins", () => {
    const key = "core/configmaps/default/a";
    cache.apply([{ op: "put", key, revision: 10, object: cm("a", "new") }], 10);
    cache.apply([{ op: "put", key, revision: 7, object: cm("a", "old") }], 11);
    expect(dataOf(key)).toBe("new");
    cache.apply([{ op: "delete", key, revision: 9 }], 12);
    expect(cache.version(key)).toBe(10);
    cache.apply([{ op: "delete", key, revision: 13 }], 13);
    expect(cache.version(key)).toBeUndefined();
  });

  it("replace deletes keys missing from the snapshot and reports only what changed", () => {
    cache.apply(
      [
        { op: "put", key: "core/configmaps/default/a", revision: 1, object: cm("a", "1") },
        { op: "put", key: "core/configmaps/default/b", revision: 2, object: cm("b", "1") },
        { op: "put", key: "core/configmaps/default/c", revision: 3, object: cm("c", "1") },
      ],
      3,
    );
    const seen: CacheChange[] = [];
    cache.onChange((cs) => seen.push(...cs));
    cache.replace(
      [
        { key: "core/configmaps/default/a", revision: 1, object: cm("a", "1") }, // unchanged
        { key: "core/configmaps/default/b", revision: 8, object: cm("b", "2") }, // changed
        { key: "core/configmaps/default/d", revision: 9, object: cm("d", "1") }, // new
      ],
      9,
    );
    expect(cache.list("core/configmaps").map((e) => e.key)).toEqual([
      "core/configmaps/default/a",
      "core/configmaps/default/b",
      "core/configmaps/default/d",
    ]);
    expect(cache.watermark()).toBe(9);
    expect(seen.map((c) => `${c.type} ${c.key}`).sort()).toEqual([
      "delete core/configmaps/default/c",
      "put core/configmaps/default/b",
      "put core/configmaps/default/d",
    ]);
    // a snapshot equal to what is cached changes nothing downstream (no restarts after a reconnect)
    seen.length = 0;
    cache.replace(
      cache.list("core/configmaps").map((e) => ({ ...e })),
      10,
    );
    expect(seen).toEqual([]);
    expect(cache.watermark()).toBe(10);
  });

  it("applies a batch as one transaction: a bad key rolls back every change and the watermark", () => {
    cache.apply([{ op: "put", key: "core/configmaps/default/a", revision: 1, object: cm("a", "1") }], 1);
    const seen: CacheChange[] = [];
    cache.onChange((cs) => seen.push(...cs));
    expect(() =>
      cache.apply(
        [
          { op: "put", key: "core/configmaps/default/a", revision: 2, object: cm("a", "2") },
          { op: "put", key: "no-slashes", revision: 3, object: cm("x", "1") },
        ],
        3,
      ),
    ).toThrow(DesiredKeyError);
    expect(dataOf("core/configmaps/default/a")).toBe("1");
    expect(cache.watermark()).toBe(1);
    expect(seen).toEqual([]);
    expect(() => cache.replace([{ key: "bad", revision: 4, object: cm("x", "1") }], 4)).toThrow(
      DesiredKeyError,
    );
    expect(cache.list("core/configmaps")).toHaveLength(1);
    expect(cache.watermark()).toBe(1);
  });

  it("survives a restart: objects, revisions and the watermark come back from the file", () => {
    cache.apply(
      [
        { op: "put", key: "core/pods/apps/p1", revision: 4, object: pod("p1", "pi") },
        { op: "put", key: "core/nodes/pi", revision: 5, object: { kind: "Node", metadata: { name: "pi" } } },
      ],
      6,
    );
    cache.close();
    cache = new DesiredCache(join(dir, "cache.db"));
    expect(cache.watermark()).toBe(6);
    expect(cache.version("core/pods/apps/p1")).toBe(4);
    expect(cache.counts()).toEqual({ "core/pods": 1, "core/nodes": 1 });
    const ro = new DesiredCache(join(dir, "cache.db"), { readonly: true });
    expect(ro.watermark()).toBe(6);
    ro.close();
  });

  it("hands out copies: mutating a result leaves the cache unchanged", () => {
    cache.apply([{ op: "put", key: "core/configmaps/default/a", revision: 1, object: cm("a", "1") }], 1);
    const e = cache.getEntry("core/configmaps/default/a");
    if (!e) throw new Error("entry missing");
    (e.object as unknown as { data: { v: string } }).data.v = "mutated";
    expect(dataOf("core/configmaps/default/a")).toBe("1");
  });
});

describe("DesiredView", () => {
  it("lists this node's pods, finds referenced objects, and reports pod changes", () => {
    const view = new DesiredView(cache, "pi");
    const events: string[] = [];
    view.onPodChange((refs) => events.push(...refs.map((r) => `${r.name}:${r.pod ? "present" : "gone"}`)));
    cache.apply(
      [
        { op: "put", key: "core/pods/apps/p1", revision: 1, object: pod("p1", "pi") },
        { op: "put", key: "core/pods/apps/p2", revision: 2, object: pod("p2", "other") },
        { op: "put", key: "core/configmaps/default/a", revision: 3, object: cm("a", "1") },
        {
          op: "put",
          key: "core/persistentvolumes/pv1",
          revision: 4,
          object: { kind: "PersistentVolume", metadata: { name: "pv1" } },
        },
      ],
      4,
    );
    expect(view.pods().map((p) => p.metadata?.name)).toEqual(["p1"]);
    expect(view.pod("apps", "p2")).toBeUndefined();
    expect(view.configMap("default", "a")?.data).toEqual({ v: "1" });
    expect(view.persistentVolume("pv1")?.metadata?.name).toBe("pv1");
    expect(view.secret("default", "a")).toBeUndefined();
    cache.apply([{ op: "delete", key: "core/pods/apps/p1", revision: 5 }], 5);
    expect(events).toEqual(["p1:present", "p2:gone", "p1:gone"]);
  });
});
