/**
 * ObjectStore.update without a resourceVersion (upstream AllowUnconditionalUpdate) applies to
 * whatever is current: a write that lands between its read and its compare-and-swap makes it
 * retry, never answer 409 (bench/api's churn of unconditional PUTs saw rare 409s before). With a
 * resourceVersion, the same race must still be a 409. The race is made deterministic with the
 * admission hook, which runs between the read and the write.
 */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { builtinResources } from "../../../../src/hub/apiserver/builtin-resources.js";
import { ObjectStore } from "../../../../src/hub/apiserver/object-store.js";
import { ResourceRegistry } from "../../../../src/hub/apiserver/registry.js";
import { MemoryBackend } from "../../../../src/hub/store/memory-backend.js";

const registry = new ResourceRegistry(builtinResources());
const cm = registry.byKind("", "ConfigMap")!;

async function racedStore(races: number) {
  const backend = new MemoryBackend();
  await backend.start();
  let left = races;
  let store: ObjectStore | undefined;
  store = new ObjectStore({
    backend,
    // another writer gets in after the read, `races` times
    admit: async (info, obj, old) => {
      if (info !== cm || !old || left <= 0 || obj.metadata.labels?.racer === "yes") return;
      left--;
      await store!.guaranteedUpdate(cm, "default", "c", (cur) => ({
        ...cur,
        metadata: { ...cur.metadata, labels: { racer: "yes" } },
        data: { ...(cur.data as Record<string, string>), racer: String(left) },
      }));
    },
  });
  await store.create(registry.byKind("", "Namespace")!, undefined, {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "default" },
  });
  await store.create(cm, "default", {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "c", labels: { racer: "yes" } },
    data: { v: "0" },
  });
  return store;
}

const put = (rv?: string): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "c", ...(rv ? { resourceVersion: rv } : {}) },
  data: { v: "mine" },
});

describe("unconditional update under a concurrent write", () => {
  it("retries and applies to the current object instead of answering 409", async () => {
    const store = await racedStore(3);
    const out = await store.update(cm, "default", "c", put());
    expect(out.data).toEqual({ v: "mine" });
    const now = await store.get(cm, "default", "c");
    expect(now.data).toEqual({ v: "mine" });
    expect(now.metadata.resourceVersion).toBe(out.metadata.resourceVersion);
  });

  it("still answers 409 when the request named a resourceVersion that the race made stale", async () => {
    const store = await racedStore(1);
    const rv = (await store.get(cm, "default", "c")).metadata.resourceVersion;
    await expect(store.update(cm, "default", "c", put(rv))).rejects.toMatchObject({ code: 409 });
  });
});
