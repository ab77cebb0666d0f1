import { describe, expect, it, vi } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { refs } from "../../../../src/client/client.js";
import { StatefulSetController } from "../../../../src/hub/controllers/statefulset/statefulset-controller.js";
import { controllerFixture, eventsOf, markRunningReady } from "../../../helpers/fake-controller-deps.js";

const sts = (replicas: number, extra: Record<string, unknown> = {}, image = "db:1"): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  metadata: { name: "web", namespace: "ns1", generation: 1 },
  spec: {
    replicas,
    serviceName: "web-svc",
    selector: { matchLabels: { app: "web" } },
    template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image }] } },
    volumeClaimTemplates: [
      {
        metadata: { name: "www" },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
      },
    ],
    ...extra,
  },
});

const setup = (set: KubeObject) =>
  controllerFixture(
    (deps, informers) => new StatefulSetController(deps, informers),
    [[refs.statefulsets, set]],
  );

type F = Awaited<ReturnType<typeof setup>>;
const podNames = (f: F) =>
  f.client
    .objects(refs.pods, "ns1")
    .map((p) => p.metadata.name)
    .sort();

const makeReady = (f: F, name: string) => markRunningReady(f.client, "ns1", name);

async function setSpec(f: F, spec: Record<string, unknown>) {
  const cur = f.client.objects(refs.statefulsets, "ns1")[0]!;
  f.client.seed(refs.statefulsets, {
    ...cur,
    metadata: { ...cur.metadata, generation: (cur.metadata.generation ?? 1) + 1 },
    spec: { ...(cur.spec as object), ...spec },
  });
}

describe("StatefulSet reconcile", () => {
  it("OrderedReady: creates claims then pod N only after N-1 is Running and Ready", async () => {
    const f = await setup(sts(3));
    await f.c.reconcile("ns1/web");
    expect(podNames(f)).toEqual(["web-0"]);
    const claims = f.client.objects(refs.persistentvolumeclaims, "ns1");
    expect(claims.map((c) => c.metadata.name)).toEqual(["www-web-0"]);
    expect(claims[0]!.metadata.labels).toEqual({ app: "web" });
    expect(claims[0]!.metadata.ownerReferences).toBeUndefined();
    const order = f.client
      .writes()
      .filter((a) => a.verb === "create")
      .map((a) => a.resource);
    expect(order.indexOf("persistentvolumeclaims")).toBeLessThan(order.indexOf("pods"));

    const p0 = f.client.objects(refs.pods, "ns1")[0]!;
    expect(p0.metadata.labels).toMatchObject({
      app: "web",
      "statefulset.kubernetes.io/pod-name": "web-0",
      "apps.kubernetes.io/pod-index": "0",
    });
    expect(p0.metadata.labels?.["controller-revision-hash"]).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(p0.spec).toMatchObject({
      hostname: "web-0",
      subdomain: "web-svc",
      volumes: [{ name: "www", persistentVolumeClaim: { claimName: "www-web-0" } }],
    });

    await f.c.reconcile("ns1/web");
    expect(podNames(f)).toEqual(["web-0"]); // web-0 is Pending: wait
    await makeReady(f, "web-0");
    await f.c.reconcile("ns1/web");
    expect(podNames(f)).toEqual(["web-0", "web-1"]);
    await makeReady(f, "web-1");
    await f.c.reconcile("ns1/web");
    await makeReady(f, "web-2");
    await f.c.reconcile("ns1/web");
    const st = f.client.objects(refs.statefulsets, "ns1")[0]!.status as Record<string, unknown>;
    expect(st).toMatchObject({
      replicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      currentReplicas: 3,
      updatedReplicas: 3,
      observedGeneration: 1,
    });
    expect(st.currentRevision).toBe(st.updateRevision);
    await vi.waitFor(() =>
      expect(eventsOf(f.client)).toContain(
        "SuccessfulCreate: create Pod web-2 in StatefulSet web successful",
      ),
    );
    expect(eventsOf(f.client)).toContain(
      "SuccessfulCreate: create Claim www-web-1 Pod web-1 in StatefulSet web success",
    );
  });

  it("Parallel creates all at once; scale down removes the highest ordinal and keeps claims", async () => {
    const f = await setup(sts(3, { podManagementPolicy: "Parallel" }));
    await f.c.reconcile("ns1/web");
    expect(podNames(f)).toEqual(["web-0", "web-1", "web-2"]);
    for (const n of ["web-0", "web-1", "web-2"]) await makeReady(f, n);
    await setSpec(f, { replicas: 1, podManagementPolicy: "OrderedReady" });
    await f.c.reconcile("ns1/web");
    expect(podNames(f)).toEqual(["web-0", "web-1"]);
    await f.c.reconcile("ns1/web");
    expect(podNames(f)).toEqual(["web-0"]);
    expect(f.client.objects(refs.persistentvolumeclaims, "ns1")).toHaveLength(3);
  });

  it("rolls a new template in reverse ordinal order down to the partition", async () => {
    const f = await setup(sts(3, { podManagementPolicy: "Parallel" }));
    await f.c.reconcile("ns1/web");
    for (const n of ["web-0", "web-1", "web-2"]) await makeReady(f, n);
    await f.c.reconcile("ns1/web");
    const oldRev = (f.client.objects(refs.statefulsets, "ns1")[0]!.status as { currentRevision: string })
      .currentRevision;
    await setSpec(f, {
      template: {
        metadata: { labels: { app: "web" } },
        spec: { containers: [{ name: "c", image: "db:2" }] },
      },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 1 } },
    });
    await f.c.reconcile("ns1/web");
    expect(podNames(f)).toEqual(["web-0", "web-1"]); // web-2 deleted first
    await f.c.reconcile("ns1/web"); // recreated from the update revision
    const img = (n: string) =>
      (
        f.client.objects(refs.pods, "ns1").find((p) => p.metadata.name === n)!.spec as {
          containers: { image: string }[];
        }
      ).containers[0]!.image;
    expect(img("web-2")).toBe("db:2");
    await makeReady(f, "web-2");
    await f.c.reconcile("ns1/web");
    await f.c.reconcile("ns1/web");
    await makeReady(f, "web-1");
    await f.c.reconcile("ns1/web");
    expect([img("web-0"), img("web-1"), img("web-2")]).toEqual(["db:1", "db:2", "db:2"]);
    const st = f.client.objects(refs.statefulsets, "ns1")[0]!.status as Record<string, unknown>;
    expect(st).toMatchObject({ currentRevision: oldRev, updatedReplicas: 2, currentReplicas: 1 });
    expect(st.updateRevision).not.toBe(oldRev);
  });
});
