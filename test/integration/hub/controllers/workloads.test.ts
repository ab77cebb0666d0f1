/**
 * The workload controllers on a running hub (real SQLite store, LocalClient, informers) with
 * simulated nodes: KubeletSim registers nodes, binds pods (no scheduler in these tests) and
 * moves them to Running/Ready or Succeeded/Failed.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { refs } from "../../../../src/client/client.js";
import { startHub, type TestHub } from "../../../helpers/hub.js";
import { KubeletSim } from "../../../helpers/kubelet-sim.js";

let th: TestHub;
let sim: KubeletSim;
const client = () => th.hub.client!;
const WAIT = { timeout: 20_000, interval: 50 };

async function ns(name: string): Promise<string> {
  await client().create(refs.namespaces, undefined, {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name },
  });
  return name;
}

const podsOf = async (namespace: string) => (await client().list(refs.pods, namespace)).items;
const container = [{ name: "c", image: "busybox" }];

beforeAll(async () => {
  th = await startHub();
  sim = new KubeletSim(client());
  await sim.start();
});

afterAll(async () => {
  sim?.stop();
  await th?.stop();
});

describe("workload controllers on a hub", () => {
  it("DaemonSet: one pod per labelled node, following node add and removal", async () => {
    const n = await ns("it-ds");
    for (const name of ["ds-a", "ds-b"]) await sim.addNode({ name, labels: { "it-ds": "yes" } });
    await sim.addNode({ name: "ds-other" });
    await client().create(refs.daemonsets, n, {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "agent" },
      spec: {
        selector: { matchLabels: { app: "agent" } },
        template: {
          metadata: { labels: { app: "agent" } },
          spec: { nodeSelector: { "it-ds": "yes" }, containers: container },
        },
      },
    });
    const nodesOfPods = async () =>
      (await podsOf(n))
        .filter((p) => !p.metadata.deletionTimestamp)
        .map((p) => (p.spec as { nodeName?: string }).nodeName)
        .sort();
    await vi.waitFor(async () => expect(await nodesOfPods()).toEqual(["ds-a", "ds-b"]), WAIT);
    await vi.waitFor(async () => {
      const ds = await client().get(refs.daemonsets, n, "agent");
      expect(ds?.status).toMatchObject({
        desiredNumberScheduled: 2,
        numberReady: 2,
        numberAvailable: 2,
        updatedNumberScheduled: 2,
      });
    }, WAIT);
    await sim.addNode({ name: "ds-c", labels: { "it-ds": "yes" } });
    await vi.waitFor(async () => expect(await nodesOfPods()).toEqual(["ds-a", "ds-b", "ds-c"]), WAIT);
    await sim.removeNode("ds-a");
    await vi.waitFor(async () => expect(await nodesOfPods()).toEqual(["ds-b", "ds-c"]), WAIT);
  });

  it("StatefulSet: ordered start with claims, then scale down from the highest ordinal", async () => {
    const n = await ns("it-sts");
    await sim.addNode({ name: "sts-node" });
    await client().create(refs.statefulsets, n, {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "db" },
      spec: {
        replicas: 3,
        serviceName: "db",
        selector: { matchLabels: { app: "db" } },
        template: { metadata: { labels: { app: "db" } }, spec: { containers: container } },
        volumeClaimTemplates: [
          {
            metadata: { name: "data" },
            spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
          },
        ],
      },
    });
    await vi.waitFor(async () => {
      const st = (await client().get(refs.statefulsets, n, "db"))?.status as Record<string, unknown>;
      expect(st).toMatchObject({ replicas: 3, readyReplicas: 3 });
    }, WAIT);
    const pods = await podsOf(n);
    expect(pods.map((p) => p.metadata.name).sort()).toEqual(["db-0", "db-1", "db-2"]);
    const claims = (await client().list(refs.persistentvolumeclaims, n)).items
      .map((c) => c.metadata.name)
      .sort();
    expect(claims).toEqual(["data-db-0", "data-db-1", "data-db-2"]);
    const events = (await client().list(refs.events, n)).items
      .filter((e) => e.reason === "SuccessfulCreate" && String(e.message).startsWith("create Pod"))
      .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion))
      .map((e) => e.message);
    // OrderedReady: created one after another, in ordinal order
    expect(events).toEqual([0, 1, 2].map((i) => `create Pod db-${i} in StatefulSet db successful`));

    await client().mutate(refs.statefulsets, n, "db", (s) => ({
      ...s,
      spec: { ...(s.spec as object), replicas: 1 },
    }));
    await vi.waitFor(
      async () => expect((await podsOf(n)).map((p) => p.metadata.name)).toEqual(["db-0"]),
      WAIT,
    );
    expect((await client().list(refs.persistentvolumeclaims, n)).items).toHaveLength(3);
  });

  it("Job: pods run to completion and the Job turns Complete", async () => {
    const n = await ns("it-job");
    await sim.addNode({ name: "job-node" });
    const job: KubeObject = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "calc" },
      spec: {
        completions: 2,
        parallelism: 2,
        template: {
          metadata: { annotations: { "sim.edgekube.io/exit": "0" } },
          spec: { restartPolicy: "Never", containers: container },
        },
      },
    };
    await client().create(refs.jobs, n, job);
    await vi.waitFor(async () => {
      const st = (await client().get(refs.jobs, n, "calc"))?.status as {
        succeeded?: number;
        conditions?: { type: string }[];
      };
      expect(st.succeeded).toBe(2);
      expect(st.conditions?.map((c) => c.type)).toEqual(["SuccessCriteriaMet", "Complete"]);
    }, WAIT);
    const pods = await podsOf(n);
    expect(pods).toHaveLength(2);
    expect(pods[0]!.metadata.labels?.["batch.kubernetes.io/job-name"]).toBe("calc");
  });

  it("Job: failing pods exhaust backoffLimit (after the pod-failure backoff)", async () => {
    const n = await ns("it-job-fail");
    await client().create(refs.jobs, n, {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "boom" },
      spec: {
        backoffLimit: 1,
        template: {
          metadata: { annotations: { "sim.edgekube.io/exit": "1" } },
          spec: { restartPolicy: "Never", containers: container },
        },
      },
    });
    await vi.waitFor(
      async () => {
        const st = (await client().get(refs.jobs, n, "boom"))?.status as {
          failed?: number;
          conditions?: { type: string; reason: string }[];
        };
        expect(st.conditions?.find((c) => c.type === "Failed")?.reason).toBe("BackoffLimitExceeded");
        expect(st.failed).toBe(2);
        // the replacement of the first failed pod waits out upstream's 10 s pod-failure backoff
      },
      { ...WAIT, timeout: 45_000 },
    );
  });
});
