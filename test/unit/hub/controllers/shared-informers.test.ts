import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import {
  type ClientWatch,
  type ClientWatchEvent,
  type ResourceRef,
  refs,
} from "../../../../src/client/client.js";
import { SharedInformers } from "../../../../src/hub/controllers/shared-informers.js";
import { SharedObjects } from "../../../../src/hub/shared-objects.js";
import type { KeyValue } from "../../../../src/hub/store/backend.js";
import { FakeClient } from "../../../helpers/fake-client.js";

/** counts lists and open watches per resource */
class CountingClient extends FakeClient {
  lists = new Map<string, number>();
  openWatches = new Map<string, number>();

  override async list(ref: ResourceRef, ns?: string) {
    this.lists.set(ref.resource, (this.lists.get(ref.resource) ?? 0) + 1);
    return super.list(ref, ns);
  }

  override watch(
    ref: ResourceRef,
    ns: string | undefined,
    rv: string,
    onEvents: (e: ClientWatchEvent[]) => void,
  ): ClientWatch {
    const w = super.watch(ref, ns, rv, onEvents);
    const n = () => this.openWatches.get(ref.resource) ?? 0;
    this.openWatches.set(ref.resource, n() + 1);
    let open = true;
    return {
      cancel: () => {
        if (open) this.openWatches.set(ref.resource, n() - 1);
        open = false;
        w.cancel();
      },
    };
  }
}

function pod(name: string, extra: Partial<KubeObject["metadata"]> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "ns", ...extra },
    spec: { containers: [{ name: "c", image: "busybox" }] },
  };
}

const managed = [{ manager: "kubectl", operation: "Apply", apiVersion: "v1", fieldsType: "FieldsV1" }];

describe("SharedInformers", () => {
  it("lists each resource once and hands every consumer the same read-only objects", async () => {
    const c = new CountingClient();
    c.seed(refs.pods, pod("a", { managedFields: managed }));
    const f = new SharedInformers(c);
    const one = f.informer(refs.pods);
    const two = f.informer(refs.pods);
    await Promise.all([one.start(), two.start(), f.acquire(refs.pods)]);
    expect(c.lists.get("pods")).toBe(1);
    expect(c.openWatches.get("pods")).toBe(1);
    const a = one.get("ns/a");
    expect(a).toBeDefined();
    expect(two.get("ns/a")).toBe(a);
    expect(f.cached("", "pods", "ns/a")).toBe(a);
    expect(a?.metadata.managedFields).toBeUndefined();
  });

  it("stops delivering to a consumer that stopped; the watch ends with its last user", async () => {
    const c = new CountingClient();
    const f = new SharedInformers(c);
    const one = f.informer(refs.pods);
    const two = f.informer(refs.pods);
    const seen = { one: [] as string[], two: [] as string[] };
    one.addHandlers({ onAdd: (o) => seen.one.push(o.metadata.name ?? "") });
    two.addHandlers({ onAdd: (o) => seen.two.push(o.metadata.name ?? "") });
    await one.start();
    await two.start();
    await c.create(refs.pods, "ns", pod("a"));
    one.stop();
    await c.create(refs.pods, "ns", pod("b"));
    expect(seen.one).toEqual(["a"]);
    expect(seen.two).toEqual(["a", "b"]);
    expect(c.openWatches.get("pods")).toBe(1);
    two.stop();
    expect(c.openWatches.get("pods")).toBe(0);
    // a later consumer restarts the same informer with a fresh list
    const three = f.informer(refs.pods);
    await three.start();
    expect(three.list().map((o) => o.metadata.name)).toEqual(["a", "b"]);
    expect(c.lists.get("pods")).toBe(2);
  });

  it("keeps informers running while the owner holds the factory, until stop()", async () => {
    const c = new CountingClient();
    const f = new SharedInformers(c);
    f.register(refs.pods);
    await f.start();
    const h = f.informer(refs.pods);
    await h.start();
    h.stop();
    expect(c.openWatches.get("pods")).toBe(1);
    // registered while held: started at once
    f.register(refs.nodes);
    await f.start();
    expect(c.openWatches.get("nodes")).toBe(1);
    f.stop();
    expect(c.openWatches.get("pods")).toBe(0);
    expect(c.openWatches.get("nodes")).toBe(0);
  });

  it("awaitWrite resolves once the cache has caught up with a write", async () => {
    const c = new CountingClient();
    const f = new SharedInformers(c);
    await f.acquire(refs.pods);
    const written = await c.create(refs.pods, "ns", pod("a"));
    await expect(f.awaitWrite(refs.pods, written)).resolves.toBeUndefined();
    expect(f.peek(refs.pods)?.get("ns/a")?.metadata.resourceVersion).toBe(written.metadata.resourceVersion);
  });
});

function kv(key: string, revision: number, obj: object): KeyValue {
  return { key, value: JSON.stringify(obj), revision, createRevision: revision };
}

describe("SharedObjects", () => {
  const stored = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "a", namespace: "ns", managedFields: managed },
  };

  it("decodes one event once, without managedFields", () => {
    const objects = new SharedObjects();
    const e = kv("/registry/core/pods/ns/a", 7, stored);
    const o = objects.decode(e);
    expect(objects.decode(e)).toBe(o);
    expect(o.metadata.resourceVersion).toBe("7");
    expect(o.metadata.managedFields).toBeUndefined();
    // another row of the same write, without a cache to ask: a private decode
    expect(objects.decode(kv("/registry/core/pods/ns/a", 7, stored))).not.toBe(o);
  });

  it("reuses the cached object only at exactly the same revision", () => {
    const objects = new SharedObjects();
    const cachedObj = objects.decode(kv("/registry/apps/deployments/ns/a", 7, stored));
    const asked: string[] = [];
    objects.setLookup((group, resource, key) => {
      asked.push(`${group}|${resource}|${key}`);
      return cachedObj;
    });
    expect(objects.decode(kv("/registry/apps/deployments/ns/a", 7, stored))).toBe(cachedObj);
    expect(objects.decode(kv("/registry/apps/deployments/ns/a", 8, stored))).not.toBe(cachedObj);
    expect(asked[0]).toBe("apps|deployments|ns/a");
    objects.setLookup((group, resource, key) => {
      asked.push(`${group}|${resource}|${key}`);
      return undefined;
    });
    objects.decode(kv("/registry/core/nodes/n1", 9, { ...stored, kind: "Node" }));
    expect(asked.at(-1)).toBe("|nodes|n1");
  });
});
