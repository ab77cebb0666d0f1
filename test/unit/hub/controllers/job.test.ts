import { describe, expect, it, vi } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { refs } from "../../../../src/client/client.js";
import { JobController } from "../../../../src/hub/controllers/job/job-controller.js";
import { controllerFixture, eventsOf } from "../../../helpers/fake-controller-deps.js";

const job = (spec: Record<string, unknown>): KubeObject => ({
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: { name: "pi", namespace: "ns1", uid: "job-uid-1" },
  spec: {
    selector: { matchLabels: { "batch.kubernetes.io/controller-uid": "job-uid-1" } },
    template: {
      metadata: {
        labels: {
          "batch.kubernetes.io/job-name": "pi",
          "job-name": "pi",
          "batch.kubernetes.io/controller-uid": "job-uid-1",
          "controller-uid": "job-uid-1",
        },
      },
      spec: { restartPolicy: "Never", containers: [{ name: "c", image: "perl" }] },
    },
    ...spec,
  },
});

const setup = (spec: Record<string, unknown>) =>
  controllerFixture((deps, informers) => new JobController(deps, informers), [[refs.jobs, job(spec)]]);
type F = Awaited<ReturnType<typeof setup>>;

const status = (f: F) =>
  f.client.objects(refs.jobs, "ns1")[0]?.status as Record<string, unknown> & {
    conditions?: { type: string; reason: string; message: string }[];
  };
const pods = (f: F) => f.client.objects(refs.pods, "ns1");
const activePods = (f: F) => pods(f).filter((p) => (p.status as { phase: string }).phase === "Pending");

async function finish(f: F, name: string, phase: "Succeeded" | "Failed") {
  await f.client.mutate(refs.pods, "ns1", name, (c) => ({ ...c, status: { phase } }), { status: true });
}

describe("Job reconcile", () => {
  it("runs completions with parallelism and completes with 1.32's conditions", async () => {
    const f = await setup({ completions: 3, parallelism: 2 });
    await f.c.reconcile("ns1/pi");
    expect(pods(f)).toHaveLength(2);
    const p = pods(f)[0]!;
    expect(p.metadata.generateName).toBe("pi-");
    expect(p.metadata.labels).toMatchObject({
      "batch.kubernetes.io/job-name": "pi",
      "controller-uid": "job-uid-1",
    });
    expect(p.metadata.ownerReferences?.[0]).toMatchObject({
      kind: "Job",
      name: "pi",
      uid: "job-uid-1",
      controller: true,
      blockOwnerDeletion: true,
    });
    expect(status(f)).toMatchObject({
      active: 2,
      succeeded: 0,
      failed: 0,
      startTime: "2024-01-01T00:00:00Z",
    });

    for (const q of activePods(f)) await finish(f, q.metadata.name!, "Succeeded");
    await f.c.reconcile("ns1/pi");
    expect(activePods(f)).toHaveLength(1); // only one more completion needed
    await finish(f, activePods(f)[0]!.metadata.name!, "Succeeded");
    f.clock.advance(5000);
    await f.c.reconcile("ns1/pi");
    const st = status(f);
    expect(st).toMatchObject({ active: 0, succeeded: 3, completionTime: "2024-01-01T00:00:05Z" });
    expect(st.conditions?.map((c) => [c.type, c.reason, c.message])).toEqual([
      ["SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods"],
      ["Complete", "CompletionsReached", "Reached expected number of succeeded pods"],
    ]);
    await vi.waitFor(() => expect(eventsOf(f.client)).toContain("Completed: Job completed"));
    const n = f.client.actions.length;
    await f.c.reconcile("ns1/pi");
    expect(f.client.actions.slice(n)).toEqual([]);
  });

  it("fails with BackoffLimitExceeded when failures exceed backoffLimit", async () => {
    const f = await setup({ backoffLimit: 1 });
    await f.c.reconcile("ns1/pi");
    await finish(f, activePods(f)[0]!.metadata.name!, "Failed");
    // the replacement waits out the pod-failure backoff (10 s after the first failure)
    expect(await f.c.reconcile("ns1/pi")).toEqual({ requeueAfterMs: 10_000 });
    expect(status(f)).toMatchObject({ failed: 1, active: 0 });
    f.clock.advance(10_000);
    await f.c.reconcile("ns1/pi");
    expect(status(f)).toMatchObject({ failed: 1, active: 1 }); // one retry allowed
    await finish(f, activePods(f)[0]!.metadata.name!, "Failed");
    await f.c.reconcile("ns1/pi");
    expect(status(f).conditions?.map((c) => [c.type, c.reason])).toEqual([
      ["FailureTarget", "BackoffLimitExceeded"],
      ["Failed", "BackoffLimitExceeded"],
    ]);
    expect(status(f).conditions?.[1]?.message).toBe("Job has reached the specified backoff limit");
    await vi.waitFor(() =>
      expect(eventsOf(f.client)).toContain(
        "BackoffLimitExceeded: Job has reached the specified backoff limit",
      ),
    );
  });

  it("activeDeadlineSeconds deletes running pods and fails with DeadlineExceeded", async () => {
    const f = await setup({ activeDeadlineSeconds: 30, parallelism: 2, completions: 4 });
    const r = await f.c.reconcile("ns1/pi");
    expect(r).toEqual({ requeueAfterMs: 30_050 });
    f.clock.advance(31_000);
    await f.c.reconcile("ns1/pi");
    expect(pods(f)).toHaveLength(0);
    expect(f.client.writes(undefined, "pods").filter((a) => a.verb === "delete")).toHaveLength(2);
    // interim condition while pods go; the terminal one once none is left
    expect(status(f).conditions?.map((c) => c.type)).toEqual(["FailureTarget"]);
    await f.c.reconcile("ns1/pi");
    expect(status(f).conditions?.map((c) => [c.type, c.reason])).toEqual([
      ["FailureTarget", "DeadlineExceeded"],
      ["Failed", "DeadlineExceeded"],
    ]);
  });

  it("deletes a finished job after ttlSecondsAfterFinished", async () => {
    const f = await setup({ ttlSecondsAfterFinished: 60 });
    await f.c.reconcile("ns1/pi");
    await finish(f, activePods(f)[0]!.metadata.name!, "Succeeded");
    await f.c.reconcile("ns1/pi");
    expect(await f.c.reconcile("ns1/pi")).toEqual({ requeueAfterMs: 60_050 });
    f.clock.advance(60_000);
    await f.c.reconcile("ns1/pi");
    expect(f.client.objects(refs.jobs, "ns1")).toHaveLength(0);
  });
});
