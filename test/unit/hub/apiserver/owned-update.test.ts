/**
 * ownedUpdate (the hub's lease renewals) must store exactly what guaranteedUpdate stores for the
 * same change, keep optimistic concurrency, skip no-op writes, and refuse a caller that touches
 * metadata, while skipping defaults, validation and admission.
 */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { refs } from "../../../../src/client/client.js";
import { builtinResources } from "../../../../src/hub/apiserver/builtin-resources.js";
import { ObjectStore } from "../../../../src/hub/apiserver/object-store.js";
import { ownedUpdate } from "../../../../src/hub/apiserver/owned-update.js";
import { ResourceRegistry } from "../../../../src/hub/apiserver/registry.js";
import { LocalClient } from "../../../../src/hub/local-client.js";
import type { KeyValue } from "../../../../src/hub/store/backend.js";
import { MemoryBackend } from "../../../../src/hub/store/memory-backend.js";

const registry = new ResourceRegistry(builtinResources());
const lease = registry.byKind("coordination.k8s.io", "Lease")!;
const deployment = registry.byKind("apps", "Deployment")!;
const NS = "kube-node-lease";

/** a backend whose next update() first lets another writer in (a race between read and write) */
class RacingBackend extends MemoryBackend {
  race: (() => Promise<void>) | undefined;
  override async update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    const race = this.race;
    this.race = undefined;
    if (race) await race();
    return super.update(key, value, expectedRevision);
  }
}

async function storeWith(admitted: string[] = []) {
  const backend = new RacingBackend();
  await backend.start();
  const store = new ObjectStore({
    backend,
    admit: async (info) => {
      admitted.push(info.kind);
    },
  });
  for (const name of ["default", NS]) {
    await store.create(registry.byKind("", "Namespace")!, undefined, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name },
    });
  }
  await store.create(lease, NS, {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: "n1", namespace: NS },
    spec: { holderIdentity: "n1", leaseDurationSeconds: 40, renewTime: "2026-11-26T10:00:00.000000Z" },
  });
  admitted.length = 0;
  return { backend, store, key: store.key(lease, NS, "n1") };
}

const renewTo = (time: string) => (cur: KubeObject) => {
  cur.spec = Object.assign((cur.spec as object | undefined) ?? {}, { renewTime: time });
  return cur;
};

describe("ownedUpdate", () => {
  it("stores the bytes guaranteedUpdate stores for the same renewal, without validation or admission", async () => {
    const admitted: string[] = [];
    const a = await storeWith(admitted);
    const before = (await a.backend.get(a.key))!;
    const out = await ownedUpdate(a.store, lease, NS, "n1", renewTo("2026-11-26T10:00:15.000000Z"));
    const owned = (await a.backend.get(a.key))!;
    expect(admitted).toEqual([]);
    expect(out.metadata.resourceVersion).toBe(String(owned.revision));
    expect(owned.revision).toBeGreaterThan(before.revision);

    // the generic path from the same stored bytes
    const b = await storeWith(admitted);
    await b.backend.update(b.key, before.value, (await b.backend.get(b.key))!.revision);
    await b.store.guaranteedUpdate(lease, NS, "n1", renewTo("2026-11-26T10:00:15.000000Z"));
    expect(admitted).toEqual(["Lease"]);
    expect(owned.value).toBe((await b.backend.get(b.key))!.value);
    expect(JSON.parse(owned.value).spec.renewTime).toBe("2026-11-26T10:00:15.000000Z");
  });

  it("writes nothing when nothing changed: no revision, no watch event", async () => {
    const { backend, store, key } = await storeWith();
    const before = (await backend.get(key))!;
    const events: string[] = [];
    const w = backend.watch(key, {
      fromRevision: before.revision,
      onEvents: (e) => events.push(...e.map((x) => x.type)),
    });
    const out = await ownedUpdate(store, lease, NS, "n1", renewTo("2026-11-26T10:00:00.000000Z"));
    expect(out.metadata.resourceVersion).toBe(String(before.revision));
    expect((await backend.get(key))!.revision).toBe(before.revision);
    await ownedUpdate(store, lease, NS, "n1", renewTo("2026-11-26T10:00:30.000000Z"));
    await expect.poll(() => events).toEqual(["update"]);
    w.cancel();
  });

  it("retries on the current object when another write lands between its read and its write", async () => {
    const { backend, store, key } = await storeWith();
    backend.race = async () => {
      await store.guaranteedUpdate(lease, NS, "n1", (cur) => ({
        ...cur,
        spec: { ...(cur.spec as object), holderIdentity: "other" },
      }));
    };
    let calls = 0;
    await ownedUpdate(store, lease, NS, "n1", (cur) => {
      calls++;
      return renewTo("2026-11-26T10:01:00.000000Z")(cur);
    });
    expect(calls).toBe(2);
    const spec = JSON.parse((await backend.get(key))!.value).spec;
    expect(spec).toMatchObject({ holderIdentity: "other", renewTime: "2026-11-26T10:01:00.000000Z" });
  });

  it("refuses a change to metadata and writes nothing", async () => {
    const { backend, store, key } = await storeWith();
    const before = (await backend.get(key))!;
    await expect(
      ownedUpdate(store, lease, NS, "n1", (cur) => {
        cur.metadata.labels = { sneaky: "yes" };
        return cur;
      }),
    ).rejects.toThrow(/changed metadata: metadata belongs to the store, write it with mutate\(\)/);
    expect((await backend.get(key))!).toEqual(before);
  });

  it("answers NotFound for a missing object", async () => {
    const { store } = await storeWith();
    await expect(ownedUpdate(store, lease, NS, "gone", renewTo("x"))).rejects.toMatchObject({ code: 404 });
  });

  it("bumps generation when spec changes on a kind that tracks it", async () => {
    const { store } = await storeWith();
    const d = await store.create(deployment, "default", {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "d" },
      spec: {
        selector: { matchLabels: { app: "d" } },
        template: {
          metadata: { labels: { app: "d" } },
          spec: { containers: [{ name: "c", image: "busybox" }] },
        },
      },
    });
    expect(d.metadata.generation).toBe(1);
    const out = await ownedUpdate(store, deployment, "default", "d", (cur) => {
      (cur.spec as { replicas: number }).replicas = 3;
      return cur;
    });
    expect(out.metadata.generation).toBe(2);
  });

  it("is what LocalClient.mutate takes with ownedFields (and not for status writes)", async () => {
    const admitted: string[] = [];
    const { backend, store, key } = await storeWith(admitted);
    const client = new LocalClient(store, registry);
    await client.mutate(refs.leases, NS, "n1", renewTo("2026-11-26T10:02:00.000000Z"), { ownedFields: true });
    expect(admitted).toEqual([]);
    expect(JSON.parse((await backend.get(key))!.value).spec.renewTime).toBe("2026-11-26T10:02:00.000000Z");
    await client.mutate(refs.leases, NS, "n1", renewTo("2026-11-26T10:02:15.000000Z"));
    expect(admitted).toEqual(["Lease"]);
  });
});
