import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { refs } from "../../../../src/client/client.js";
import { DeploymentController } from "../../../../src/hub/controllers/deployment/deployment-controller.js";
import { buildNewReplicaSet } from "../../../../src/hub/controllers/deployment/revisions.js";
import { FakeClient } from "../../../helpers/fake-client.js";
import { controllerDeps } from "../../../helpers/fake-controller-deps.js";

const NOW = new Date("2026-01-01T01:00:00Z");
const KEY = "ns1/web";

const template = (image: string) => ({
  metadata: { labels: { app: "web" } },
  spec: { containers: [{ name: "c", image }] },
});

function deployment(image: string, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "ns1", generation: 1 },
    spec: {
      replicas: 4,
      selector: { matchLabels: { app: "web" } },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      template: template(image),
      ...spec,
    },
  };
}

async function setup(d: KubeObject) {
  const client = new FakeClient();
  const dep = client.seed(refs.deployments, d);
  const ctrl = new DeploymentController(
    controllerDeps(client, () => NOW),
    { concurrency: 0 },
  );
  await ctrl.start(new AbortController().signal);
  return { client, dep, ctrl };
}

/** an existing ReplicaSet of dep for image, as an earlier rollout would have left it */
function seedRS(client: FakeClient, dep: KubeObject, image: string, revision: number, replicas: number) {
  const d = { ...dep, spec: { ...(dep.spec as object), template: template(image) } };
  const rs = buildNewReplicaSet(d, undefined);
  rs.metadata.annotations = {
    "deployment.kubernetes.io/revision": String(revision),
    "deployment.kubernetes.io/desired-replicas": "4",
    "deployment.kubernetes.io/max-replicas": "5",
  };
  (rs.spec as { replicas: number }).replicas = replicas;
  rs.metadata.generation = 1;
  rs.status = { replicas, readyReplicas: replicas, availableReplicas: replicas, observedGeneration: 1 };
  return client.seed(refs.replicasets, rs);
}

const events = (c: FakeClient) =>
  c.actions.filter((a) => a.resource === "events").map((a) => `${a.object?.reason}: ${a.object?.message}`);

function condition(c: FakeClient, type: string) {
  const st = c.peek(refs.deployments, "ns1", "web")?.status as
    | { conditions?: { type: string }[] }
    | undefined;
  return st?.conditions?.find((x) => x.type === type);
}

describe("Deployment controller reconcile", () => {
  it("creates <deploy>-<hash> with the hash label, revision 1 and a ScalingReplicaSet event", async () => {
    const { client, ctrl, dep } = await setup(deployment("nginx:1"));
    await ctrl.reconcile(KEY);
    const [rs] = client.writes("create", "replicasets").map((a) => a.object!);
    const hash = rs!.metadata.labels?.["pod-template-hash"];
    expect(rs!.metadata.name).toBe(`web-${hash}`);
    expect(rs!.spec).toMatchObject({
      replicas: 4,
      selector: { matchLabels: { app: "web", "pod-template-hash": hash } },
      template: { metadata: { labels: { app: "web", "pod-template-hash": hash } } },
    });
    expect(rs!.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: "Deployment", name: "web", uid: dep.metadata.uid, controller: true }),
    ]);
    expect(rs!.metadata.annotations).toMatchObject({
      "deployment.kubernetes.io/revision": "1",
      "deployment.kubernetes.io/desired-replicas": "4",
      "deployment.kubernetes.io/max-replicas": "5",
    });
    expect(events(client)).toEqual([
      `ScalingReplicaSet: Scaled up replica set ${rs!.metadata.name} from 0 to 4`,
    ]);
    const d = client.peek(refs.deployments, "ns1", "web")!;
    expect(d.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("1");
    expect(condition(client, "Progressing")).toMatchObject({
      status: "True",
      reason: "NewReplicaSetCreated",
      message: `Created new replica set "${rs!.metadata.name}"`,
    });
    expect(condition(client, "Available")).toMatchObject({
      status: "False",
      reason: "MinimumReplicasUnavailable",
    });
  });

  it("rolls within maxSurge/maxUnavailable: surge one, then scale the old one down as new pods become available", async () => {
    const { client, ctrl, dep } = await setup(deployment("nginx:2"));
    const old = seedRS(client, dep, "nginx:1", 1, 4);
    await ctrl.reconcile(KEY);
    const created = client.writes("create", "replicasets")[0]!.object!;
    expect((created.spec as { replicas: number }).replicas).toBe(1);
    expect(created.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("2");
    expect(client.writes("update", "replicasets")).toEqual([]); // nothing available yet: old stays at 4
    // the new pod becomes available
    await client.mutate(
      refs.replicasets,
      "ns1",
      created.metadata.name!,
      (c) => ({ ...c, status: { replicas: 1, availableReplicas: 1 } }),
      { status: true },
    );
    client.actions.length = 0;
    await ctrl.reconcile(KEY);
    expect(
      (client.peek(refs.replicasets, "ns1", old.metadata.name!)?.spec as { replicas: number } | undefined)
        ?.replicas,
    ).toBe(3);
    expect(events(client)).toContain(
      `ScalingReplicaSet: Scaled down replica set ${old.metadata.name} from 4 to 3`,
    );
    expect(condition(client, "Progressing")).toMatchObject({ reason: "ReplicaSetUpdated" });
  });

  it("reuses the old ReplicaSet when the template goes back (rollout undo) and bumps its revision", async () => {
    const { client, ctrl, dep } = await setup(deployment("nginx:1"));
    const v1 = seedRS(client, dep, "nginx:1", 1, 0);
    seedRS(client, dep, "nginx:2", 2, 4);
    await ctrl.reconcile(KEY);
    expect(client.writes("create", "replicasets")).toEqual([]);
    const reused = client.peek(refs.replicasets, "ns1", v1.metadata.name!)!;
    expect(reused.metadata.annotations).toMatchObject({
      "deployment.kubernetes.io/revision": "3",
      "deployment.kubernetes.io/revision-history": "1",
    });
    expect((reused.spec as { replicas: number }).replicas).toBe(1);
    expect(
      client.peek(refs.deployments, "ns1", "web")?.metadata.annotations?.[
        "deployment.kubernetes.io/revision"
      ],
    ).toBe("3");
  });

  it("reports ProgressDeadlineExceeded when nothing moved for progressDeadlineSeconds", async () => {
    const d = deployment("nginx:2", { progressDeadlineSeconds: 30 });
    d.status = {
      observedGeneration: 1,
      replicas: 4,
      updatedReplicas: 4,
      conditions: [
        {
          type: "Progressing",
          status: "True",
          reason: "ReplicaSetUpdated",
          message: "stale",
          lastUpdateTime: "2026-01-01T00:58:00Z",
          lastTransitionTime: "2026-01-01T00:58:00Z",
        },
      ],
    };
    const { client, ctrl, dep } = await setup(d);
    const rs = seedRS(client, dep, "nginx:2", 1, 4);
    await client.mutate(
      refs.replicasets,
      "ns1",
      rs.metadata.name!,
      (c) => ({ ...c, status: { replicas: 4 } }),
      { status: true },
    );
    const r = await ctrl.reconcile(KEY);
    expect(condition(client, "Progressing")).toMatchObject({
      status: "False",
      reason: "ProgressDeadlineExceeded",
      message: `ReplicaSet "${rs.metadata.name}" has timed out progressing.`,
    });
    expect(r).toBeUndefined();
  });

  it("Recreate: old ReplicaSets to zero, and the new one only once no old pod runs", async () => {
    const { client, ctrl, dep } = await setup(deployment("nginx:2", { strategy: { type: "Recreate" } }));
    const old = seedRS(client, dep, "nginx:1", 1, 2);
    client.seed(refs.pods, {
      metadata: {
        name: "old-pod",
        namespace: "ns1",
        labels: old.metadata.labels,
        ownerReferences: [
          {
            apiVersion: "apps/v1",
            kind: "ReplicaSet",
            name: old.metadata.name!,
            uid: old.metadata.uid!,
            controller: true,
          },
        ],
      },
      status: { phase: "Running" },
    });
    await ctrl.reconcile(KEY);
    expect(
      (client.peek(refs.replicasets, "ns1", old.metadata.name!)?.spec as { replicas: number } | undefined)
        ?.replicas,
    ).toBe(0);
    await client.mutate(
      refs.replicasets,
      "ns1",
      old.metadata.name!,
      (c) => ({ ...c, status: { replicas: 0 } }),
      { status: true },
    );
    await ctrl.reconcile(KEY);
    expect(client.writes("create", "replicasets")).toEqual([]); // old-pod still running
    await client.delete(refs.pods, "ns1", "old-pod");
    await ctrl.reconcile(KEY);
    const created = client.writes("create", "replicasets")[0]?.object;
    expect((created?.spec as { replicas: number } | undefined)?.replicas).toBe(4);
  });

  it("paused: a template change makes no new ReplicaSet; Progressing says DeploymentPaused", async () => {
    const { client, ctrl, dep } = await setup(deployment("nginx:2", { paused: true }));
    seedRS(client, dep, "nginx:1", 1, 4);
    await ctrl.reconcile(KEY);
    expect(client.writes("create", "replicasets")).toEqual([]);
    expect(condition(client, "Progressing")).toMatchObject({
      status: "Unknown",
      reason: "DeploymentPaused",
      message: "Deployment is paused",
    });
  });

  it("scales the only active ReplicaSet on a replica change and cleans history beyond the limit", async () => {
    const { client, ctrl, dep } = await setup(
      deployment("nginx:3", { replicas: 6, revisionHistoryLimit: 1 }),
    );
    const r1 = seedRS(client, dep, "nginx:1", 1, 0);
    const r2 = seedRS(client, dep, "nginx:2", 2, 0);
    const r3 = seedRS(client, dep, "nginx:3", 3, 4);
    await ctrl.reconcile(KEY);
    expect(
      (client.peek(refs.replicasets, "ns1", r3.metadata.name!)?.spec as { replicas: number } | undefined)
        ?.replicas,
    ).toBe(6);
    expect(events(client)).toEqual([
      `ScalingReplicaSet: Scaled up replica set ${r3.metadata.name} from 4 to 6`,
    ]);
    // once complete, history beyond revisionHistoryLimit=1 goes (oldest revision first)
    await client.mutate(
      refs.replicasets,
      "ns1",
      r3.metadata.name!,
      (c) => ({
        ...c,
        status: { replicas: 6, availableReplicas: 6, readyReplicas: 6, observedGeneration: 2 },
      }),
      { status: true },
    );
    await ctrl.reconcile(KEY);
    await ctrl.reconcile(KEY);
    expect(client.writes("delete", "replicasets").map((a) => a.name)).toEqual([r1.metadata.name]);
    expect(client.peek(refs.replicasets, "ns1", r2.metadata.name!)).toBeDefined();
  });
});
