import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { refs } from "../../../../src/client/client.js";
import { GarbageCollector } from "../../../../src/hub/controllers/gc/garbage-collector.js";
import { FakeClient } from "../../../helpers/fake-client.js";
import { controllerDeps } from "../../../helpers/fake-controller-deps.js";

async function setup(client: FakeClient) {
  const gc = new GarbageCollector(controllerDeps(client), { concurrency: 0 });
  await gc.start(new AbortController().signal);
  return gc;
}

function owned(
  name: string,
  kind: string,
  owner: KubeObject | { name: string; uid: string },
  block = true,
): KubeObject {
  const o = "metadata" in owner ? { name: owner.metadata.name!, uid: owner.metadata.uid! } : owner;
  const apiVersion = kind === "Pod" ? "apps/v1" : "apps/v1";
  const ownerKind = kind === "Pod" ? "ReplicaSet" : "Deployment";
  return {
    metadata: {
      name,
      namespace: "ns1",
      ownerReferences: [
        {
          apiVersion,
          kind: ownerKind,
          name: o.name,
          uid: o.uid,
          controller: true,
          blockOwnerDeletion: block,
        },
      ],
    },
  };
}

const rs = (name: string): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "ReplicaSet",
  metadata: { name, namespace: "ns1" },
});

describe("garbage collector", () => {
  it("deletes a dependent whose owner does not exist, after confirming with a live read", async () => {
    const client = new FakeClient();
    const pod = client.seed(refs.pods, owned("p1", "Pod", { name: "gone", uid: "uid-gone" }));
    const gc = await setup(client);
    await gc.attemptToDelete(pod.metadata.uid!);
    expect(client.writes("delete")).toEqual([
      expect.objectContaining({
        resource: "pods",
        name: "p1",
        options: { propagationPolicy: "Background", preconditions: { uid: pod.metadata.uid } },
      }),
    ]);
  });

  it("keeps a dependent whose owner exists with the same uid; an owner recreated with another uid is dangling", async () => {
    const client = new FakeClient();
    const owner = client.seed(refs.replicasets, rs("web"));
    const keep = client.seed(refs.pods, owned("keep", "Pod", owner));
    const stale = client.seed(refs.pods, owned("stale", "Pod", { name: "web", uid: "old-uid" }));
    const gc = await setup(client);
    await gc.attemptToDelete(keep.metadata.uid!);
    await gc.attemptToDelete(stale.metadata.uid!);
    expect(client.writes("delete").map((a) => a.name)).toEqual(["stale"]);
  });

  it("drops only the dangling reference of a dependent that still has a live owner", async () => {
    const client = new FakeClient();
    const owner = client.seed(refs.replicasets, rs("web"));
    const p = owned("p", "Pod", owner);
    p.metadata.ownerReferences = [
      ...(p.metadata.ownerReferences ?? []),
      { apiVersion: "apps/v1", kind: "ReplicaSet", name: "gone", uid: "uid-gone" },
    ];
    const pod = client.seed(refs.pods, p);
    const gc = await setup(client);
    await gc.attemptToDelete(pod.metadata.uid!);
    expect(client.writes("delete")).toEqual([]);
    expect(client.peek(refs.pods, "ns1", "p")?.metadata.ownerReferences?.map((r) => r.uid)).toEqual([
      owner.metadata.uid,
    ]);
  });

  it("does not guess away an owner of a kind it cannot resolve", async () => {
    const client = new FakeClient();
    const p = owned("p", "Pod", { name: "x", uid: "uid-x" });
    p.metadata.ownerReferences = [{ apiVersion: "example.com/v1", kind: "Widget", name: "x", uid: "uid-x" }];
    const pod = client.seed(refs.pods, p);
    const gc = await setup(client);
    await gc.attemptToDelete(pod.metadata.uid!);
    expect(client.writes()).toEqual([]);
  });

  it("orphan: removes the owner's reference from dependents, then the orphan finalizer", async () => {
    const client = new FakeClient();
    const owner = client.seed(refs.replicasets, rs("web"));
    client.seed(refs.pods, owned("p1", "Pod", owner));
    const gc = await setup(client);
    await client.delete(refs.replicasets, "ns1", "web", { propagationPolicy: "Orphan" });
    await gc.processOwner(owner.metadata.uid!);
    expect(client.peek(refs.pods, "ns1", "p1")?.metadata.ownerReferences).toBeUndefined();
    expect(client.peek(refs.replicasets, "ns1", "web")).toBeUndefined(); // last finalizer gone → deleted
  });

  it("foreground: deletes dependents first and removes the finalizer once no blocking dependent remains", async () => {
    const client = new FakeClient();
    const owner = client.seed(refs.replicasets, rs("web"));
    const pod = client.seed(refs.pods, owned("p1", "Pod", owner, true));
    pod.metadata.finalizers = ["example.com/hold"]; // the pod lingers while it terminates
    await client.update(refs.pods, "ns1", pod);
    const gc = await setup(client);
    await client.delete(refs.replicasets, "ns1", "web", { propagationPolicy: "Foreground" });
    await gc.processOwner(owner.metadata.uid!);
    expect(client.peek(refs.replicasets, "ns1", "web")?.metadata.finalizers).toEqual(["foregroundDeletion"]);
    await gc.attemptToDelete(pod.metadata.uid!);
    expect(client.writes("delete", "pods").map((a) => a.name)).toEqual(["p1"]);
    await gc.processOwner(owner.metadata.uid!);
    expect(client.peek(refs.replicasets, "ns1", "web")).toBeDefined(); // p1 still terminating: blocked
    await client.mutate(refs.pods, "ns1", "p1", (c) => ({
      ...c,
      metadata: { ...c.metadata, finalizers: [] },
    }));
    await gc.processOwner(owner.metadata.uid!);
    expect(client.peek(refs.replicasets, "ns1", "web")).toBeUndefined();
  });
});
