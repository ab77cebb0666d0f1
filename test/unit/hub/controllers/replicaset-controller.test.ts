import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { refs } from "../../../../src/client/client.js";
import { Expectations } from "../../../../src/hub/controllers/replicaset/expectations.js";
import { ReplicaSetController } from "../../../../src/hub/controllers/replicaset/replicaset-controller.js";
import { FakeClient } from "../../../helpers/fake-client.js";
import { controllerDeps } from "../../../helpers/fake-controller-deps.js";

const NOW = new Date("2026-01-01T01:00:00Z");

async function setup(replicas: number, minReadySeconds = 0) {
  const client = new FakeClient();
  const rs = client.seed(refs.replicasets, {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name: "web-abc", namespace: "ns1", generation: 2 },
    spec: {
      replicas,
      minReadySeconds,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web", tier: "fe" } },
        spec: { containers: [{ name: "c", image: "i" }] },
      },
    },
  });
  // no workers: the test drives reconcile(key) itself
  const ctrl = new ReplicaSetController(
    controllerDeps(client, () => NOW),
    { concurrency: 0 },
  );
  await ctrl.start(new AbortController().signal);
  return { client, rs, ctrl };
}

function podOf(
  rs: KubeObject,
  name: string,
  o: { ready?: boolean; since?: string; labels?: Record<string, string> } = {},
) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "ns1",
      labels: o.labels ?? { app: "web", tier: "fe" },
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: rs.metadata.name!,
          uid: rs.metadata.uid!,
          controller: true,
        },
      ],
    },
    spec: { nodeName: "n1" },
    status: {
      phase: "Running",
      conditions: [
        {
          type: "Ready",
          status: o.ready === false ? "False" : "True",
          lastTransitionTime: o.since ?? "2026-01-01T00:00:00Z",
        },
      ],
    },
  } as KubeObject;
}

describe("ReplicaSet controller reconcile", () => {
  it("creates the missing pods from the template with a controller reference, then only status", async () => {
    const { client, rs, ctrl } = await setup(3);
    await ctrl.reconcile("ns1/web-abc");
    const created = client.writes("create", "pods");
    expect(created).toHaveLength(3);
    const p = created[0]!.object!;
    expect(p.metadata.name).toMatch(/^web-abc-/);
    expect(p.metadata.labels).toEqual({ app: "web", tier: "fe" });
    expect(p.metadata.ownerReferences).toEqual([
      {
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        name: "web-abc",
        uid: rs.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    const events = client.actions.filter((a) => a.resource === "events").map((a) => a.object?.reason);
    expect(events).toEqual(["SuccessfulCreate", "SuccessfulCreate", "SuccessfulCreate"]);
    // status counts the pods this reconcile saw (none yet); the next reconcile counts 3 and creates nothing
    client.actions.length = 0;
    await ctrl.reconcile("ns1/web-abc");
    expect(client.writes("create", "pods")).toHaveLength(0);
    const st = client.peek(refs.replicasets, "ns1", "web-abc")?.status;
    expect(st).toEqual({ replicas: 3, fullyLabeledReplicas: 3, observedGeneration: 2 });
    client.actions.length = 0;
    await ctrl.reconcile("ns1/web-abc");
    expect(client.writes()).toEqual([]); // idempotent: nothing differs
  });

  it("deletes the least valuable pods first when scaled down and reports ready/available", async () => {
    const { client, rs, ctrl } = await setup(1, 600);
    client.seed(refs.pods, podOf(rs, "old-ready", { since: "2026-01-01T00:00:00Z" }));
    client.seed(refs.pods, podOf(rs, "new-ready", { since: "2026-01-01T00:59:00Z" }));
    client.seed(refs.pods, podOf(rs, "not-ready", { ready: false }));
    const r = await ctrl.reconcile("ns1/web-abc");
    expect(client.writes("delete", "pods").map((a) => a.name)).toEqual(["not-ready", "new-ready"]);
    const events = client.actions
      .filter((a) => a.resource === "events")
      .map((a) => `${a.object?.reason}: ${a.object?.message}`);
    expect(events.sort()).toEqual([
      "SuccessfulDelete: Deleted pod: new-ready",
      "SuccessfulDelete: Deleted pod: not-ready",
    ]);
    expect(client.peek(refs.replicasets, "ns1", "web-abc")?.status).toMatchObject({
      replicas: 3,
      readyReplicas: 2,
      availableReplicas: 1, // new-ready has been ready for 60 s of the 600 s minReadySeconds
    });
    // new-ready becomes available 540 s from now: look again then
    expect(r).toEqual({ requeueAfterMs: 540_050 });
  });

  it("adopts matching orphans and releases pods whose labels stopped matching", async () => {
    const { client, rs, ctrl } = await setup(2);
    const orphan = podOf(rs, "orphan");
    orphan.metadata.ownerReferences = [];
    client.seed(refs.pods, orphan);
    client.seed(refs.pods, podOf(rs, "moved", { labels: { app: "other" } }));
    client.seed(refs.pods, podOf(rs, "kept"));
    await ctrl.reconcile("ns1/web-abc");
    expect(client.peek(refs.pods, "ns1", "orphan")?.metadata.ownerReferences?.[0]?.uid).toBe(rs.metadata.uid);
    expect(client.peek(refs.pods, "ns1", "moved")?.metadata.ownerReferences).toBeUndefined();
    expect(client.writes("create", "pods")).toHaveLength(0); // orphan + kept = 2
  });

  it("records FailedCreate and the ReplicaFailure condition when pods cannot be created", async () => {
    const { client, ctrl } = await setup(2);
    client.failCreate.set("pods", new Error('pods "web-abc-" is forbidden: exceeded quota'));
    await expect(ctrl.reconcile("ns1/web-abc")).rejects.toThrow(/FailedCreate/);
    const st = client.peek(refs.replicasets, "ns1", "web-abc")?.status as { conditions?: unknown[] };
    expect(st.conditions).toEqual([
      expect.objectContaining({ type: "ReplicaFailure", status: "True", reason: "FailedCreate" }),
    ]);
    const ev = client.actions.find((a) => a.resource === "events")?.object;
    expect(ev).toMatchObject({ type: "Warning", reason: "FailedCreate" });
    expect(String(ev?.message)).toMatch(/^Error creating: .*exceeded quota/);
  });

  it("does not act again on a cache that has not yet seen its last creations (expectations)", async () => {
    const { client, ctrl } = await setup(2);
    const exp = new Expectations(60_000, { now: () => 0 });
    exp.expectCreations("k", 2);
    exp.creationObserved("k");
    expect(exp.satisfied("k")).toBe(false);
    exp.creationObserved("k");
    expect(exp.satisfied("k")).toBe(true);
    let clock = 0;
    const stale = new Expectations(1000, { now: () => clock });
    stale.expectDeletions("k", ["ns/p"]);
    expect(stale.satisfied("k")).toBe(false);
    clock = 2000; // a lost watch event must not wedge the ReplicaSet
    expect(stale.satisfied("k")).toBe(true);
    // in the controller: the informer lags, so a second reconcile still sees no pods
    client.holdEvents = true;
    await ctrl.reconcile("ns1/web-abc");
    await ctrl.reconcile("ns1/web-abc");
    expect(client.writes("create", "pods")).toHaveLength(2);
    client.holdEvents = false;
    client.flush();
    await ctrl.reconcile("ns1/web-abc");
    expect(client.writes("create", "pods")).toHaveLength(2);
  });

  it("treats a ReplicaSet that is gone as done", async () => {
    const { client, ctrl } = await setup(1);
    await expect(ctrl.reconcile("ns1/nope")).resolves.toBeUndefined();
    expect(client.writes()).toEqual([]);
  });
});
