/**
 * Job pod-failure backoff and podFailurePolicy: the pure helpers, then the controller with
 * a recording fake client and a clock moved by hand (no waiting in real time).
 */
import { describe, expect, it, vi } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { refs } from "../../../../src/client/client.js";
import {
  backoffDelayMs,
  backoffRecord,
  podFinishedAt,
  remainingBackoffMs,
} from "../../../../src/hub/controllers/job/job-backoff.js";
import { JobController } from "../../../../src/hub/controllers/job/job-controller.js";
import { matchPodFailurePolicy } from "../../../../src/hub/controllers/job/pod-failure-policy.js";
import { controllerFixture, eventsOf } from "../../../helpers/fake-controller-deps.js";

const T0 = Date.parse("2024-01-01T00:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

function finished(name: string, phase: "Succeeded" | "Failed", atMs: number, exitCode = 1): KubeObject {
  return {
    kind: "Pod",
    metadata: { name, namespace: "ns1", creationTimestamp: iso(T0) },
    status: {
      phase,
      containerStatuses: [
        {
          name: "main",
          state: { terminated: { exitCode: phase === "Succeeded" ? 0 : exitCode, finishedAt: iso(atMs) } },
        },
      ],
    },
  };
}

describe("pod-failure backoff (pure)", () => {
  it("doubles from 10 s and caps at upstream's 10 min", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelayMs(n) / 1000)).toEqual([
      0, 10, 20, 40, 80, 160, 320, 600, 600,
    ]);
  });

  it("takes the finish time from containers, then Ready=False, then deletion, then creation", () => {
    const p = finished("a", "Failed", T0 + 7000);
    expect(podFinishedAt(p)).toBe(T0 + 7000);
    const noContainers: KubeObject = {
      kind: "Pod",
      metadata: { name: "b", creationTimestamp: iso(T0) },
      status: {
        phase: "Failed",
        conditions: [{ type: "Ready", status: "False", lastTransitionTime: iso(T0 + 3000) }],
      },
    };
    expect(podFinishedAt(noContainers)).toBe(T0 + 3000);
    const deleted: KubeObject = {
      kind: "Pod",
      metadata: {
        name: "c",
        creationTimestamp: iso(T0),
        deletionTimestamp: iso(T0 + 60_000),
        deletionGracePeriodSeconds: 30,
      },
      status: { phase: "Failed" },
    };
    expect(podFinishedAt(deleted)).toBe(T0 + 30_000);
    expect(podFinishedAt({ kind: "Pod", metadata: { creationTimestamp: iso(T0) } })).toBe(T0);
  });

  it("counts only failures after the newest success, from the newest failure", () => {
    const pods = [
      finished("f1", "Failed", T0 + 1000),
      finished("s1", "Succeeded", T0 + 2000),
      finished("f2", "Failed", T0 + 3000),
      finished("f3", "Failed", T0 + 5000),
    ];
    const r = backoffRecord(pods);
    expect(r).toEqual({ failuresAfterLastSuccess: 2, lastFailureTime: T0 + 5000 });
    expect(remainingBackoffMs(r, T0 + 5000)).toBe(20_000);
    expect(remainingBackoffMs(r, T0 + 24_000)).toBe(1000);
    expect(remainingBackoffMs(r, T0 + 25_000)).toBe(0);
    expect(remainingBackoffMs(backoffRecord([finished("s", "Succeeded", T0)]), T0)).toBe(0);
  });
});

describe("podFailurePolicy matching", () => {
  const policy = {
    rules: [
      { action: "Ignore" as const, onPodConditions: [{ type: "DisruptionTarget" }] },
      {
        action: "FailJob" as const,
        onExitCodes: { containerName: "main", operator: "In" as const, values: [42] },
      },
      { action: "Count" as const, onExitCodes: { operator: "NotIn" as const, values: [1] } },
    ],
  };
  it("tries rules in order and words FailJob as upstream", () => {
    expect(matchPodFailurePolicy(policy, finished("p", "Failed", T0, 42))).toEqual({
      action: "FailJob",
      message: "Container main for pod ns1/p failed with exit code 42 matching FailJob rule at index 1",
    });
    expect(matchPodFailurePolicy(policy, finished("p", "Failed", T0, 7))).toEqual({ action: "Count" });
    expect(matchPodFailurePolicy(policy, finished("p", "Failed", T0, 1))).toBeUndefined();
    const disrupted = finished("d", "Failed", T0, 42);
    (disrupted.status as { conditions?: unknown[] }).conditions = [
      { type: "DisruptionTarget", status: "True" },
    ];
    expect(matchPodFailurePolicy(policy, disrupted)).toEqual({ action: "Ignore" });
    // exit code 0 never matches, even with NotIn
    expect(matchPodFailurePolicy(policy, finished("ok", "Succeeded", T0))).toBeUndefined();
  });
});

const job = (spec: Record<string, unknown>): KubeObject => ({
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: { name: "bo", namespace: "ns1", uid: "job-uid-bo" },
  spec: {
    template: {
      metadata: { labels: { "batch.kubernetes.io/controller-uid": "job-uid-bo" } },
      spec: { restartPolicy: "Never", containers: [{ name: "main", image: "busybox" }] },
    },
    ...spec,
  },
});

const setup = (spec: Record<string, unknown>) =>
  controllerFixture((deps, informers) => new JobController(deps, informers), [[refs.jobs, job(spec)]]);
type F = Awaited<ReturnType<typeof setup>>;

const pods = (f: F) => f.client.objects(refs.pods, "ns1");
const pending = (f: F) => pods(f).filter((p) => (p.status as { phase?: string })?.phase === "Pending");
const created = (f: F) => f.client.writes(undefined, "pods").filter((a) => a.verb === "create").length;
const jobStatus = (f: F) =>
  f.client.objects(refs.jobs, "ns1")[0]?.status as {
    failed?: number;
    active?: number;
    conditions?: { type: string; reason: string; message: string }[];
  };

/** fail the running pod now (container finishedAt = the fake clock) with an exit code */
async function failPod(f: F, exitCode = 1, conditions: unknown[] = []) {
  const name = pending(f)[0]?.metadata.name;
  if (!name) throw new Error("no running pod to fail");
  const at = iso(f.clock.now.getTime());
  await f.client.mutate(
    refs.pods,
    "ns1",
    name,
    (c) => ({
      ...c,
      status: {
        phase: "Failed",
        conditions,
        containerStatuses: [{ name: "main", state: { terminated: { exitCode, finishedAt: at } } }],
      },
    }),
    { status: true },
  );
}

describe("Job controller with pod-failure backoff", () => {
  it("waits 10 s, then 20 s, before replacing failed pods, and fails at backoffLimit", async () => {
    const f = await setup({ backoffLimit: 2 });
    await f.c.reconcile("ns1/bo");
    expect(created(f)).toBe(1);

    await failPod(f);
    expect(await f.c.reconcile("ns1/bo")).toEqual({ requeueAfterMs: 10_000 });
    expect(created(f)).toBe(1);
    f.clock.advance(9_999);
    expect(await f.c.reconcile("ns1/bo")).toEqual({ requeueAfterMs: 1 });
    expect(created(f)).toBe(1);
    f.clock.advance(1);
    await f.c.reconcile("ns1/bo");
    expect(created(f)).toBe(2);
    expect(jobStatus(f)).toMatchObject({ failed: 1, active: 1 });

    await failPod(f);
    expect(await f.c.reconcile("ns1/bo")).toEqual({ requeueAfterMs: 20_000 });
    f.clock.advance(20_000);
    await f.c.reconcile("ns1/bo");
    expect(created(f)).toBe(3);

    await failPod(f);
    await f.c.reconcile("ns1/bo");
    expect(created(f)).toBe(3); // 3 failures > backoffLimit 2: no more pods
    expect(jobStatus(f).conditions?.map((c) => [c.type, c.reason])).toEqual([
      ["FailureTarget", "BackoffLimitExceeded"],
      ["Failed", "BackoffLimitExceeded"],
    ]);
  });

  it("a FailJob rule fails the Job at once with reason PodFailurePolicy", async () => {
    const f = await setup({
      backoffLimit: 6,
      podFailurePolicy: { rules: [{ action: "FailJob", onExitCodes: { operator: "In", values: [42] } }] },
    });
    await f.c.reconcile("ns1/bo");
    const name = pending(f)[0]!.metadata.name!;
    await failPod(f, 42);
    await f.c.reconcile("ns1/bo");
    expect(created(f)).toBe(1);
    const failed = jobStatus(f).conditions?.find((c) => c.type === "Failed");
    expect(failed).toMatchObject({
      reason: "PodFailurePolicy",
      message: `Container main for pod ns1/${name} failed with exit code 42 matching FailJob rule at index 0`,
    });
    await vi.waitFor(() =>
      expect(eventsOf(f.client).some((e) => e.startsWith("PodFailurePolicy: "))).toBe(true),
    );
  });

  it("an Ignore rule neither counts the failure nor delays the replacement", async () => {
    const f = await setup({
      backoffLimit: 0,
      podFailurePolicy: { rules: [{ action: "Ignore", onPodConditions: [{ type: "DisruptionTarget" }] }] },
    });
    await f.c.reconcile("ns1/bo");
    await failPod(f, 137, [{ type: "DisruptionTarget", status: "True" }]);
    expect(await f.c.reconcile("ns1/bo")).toBeUndefined();
    expect(created(f)).toBe(2);
    expect(jobStatus(f)).toMatchObject({ failed: 0, active: 1 });
    expect(jobStatus(f).conditions).toBeUndefined();
  });

  it("restartPolicy OnFailure: container restarts reaching backoffLimit fail the Job", async () => {
    const f = await setup({
      backoffLimit: 2,
      template: {
        metadata: { labels: { "batch.kubernetes.io/controller-uid": "job-uid-bo" } },
        spec: { restartPolicy: "OnFailure", containers: [{ name: "main", image: "busybox" }] },
      },
    });
    await f.c.reconcile("ns1/bo");
    const name = pending(f)[0]!.metadata.name!;
    await f.client.mutate(
      refs.pods,
      "ns1",
      name,
      (c) => ({ ...c, status: { phase: "Running", containerStatuses: [{ name: "main", restartCount: 2 }] } }),
      { status: true },
    );
    await f.c.reconcile("ns1/bo"); // interim FailureTarget; the running pod is deleted
    await f.c.reconcile("ns1/bo");
    expect(jobStatus(f).conditions?.map((c) => [c.type, c.reason])).toEqual([
      ["FailureTarget", "BackoffLimitExceeded"],
      ["Failed", "BackoffLimitExceeded"],
    ]);
  });
});
