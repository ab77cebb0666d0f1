/**
 * UnschedulableReporter over the recording fake client: a pod that fits nowhere gets a
 * FailedScheduling event and PodScheduled=False; the condition is rewritten only when its
 * message changes, keeps its lastTransitionTime while it stays False, and a pod deleted
 * meanwhile is not an error. Also upstream's pre-filter FitError text.
 */
import type { PodCondition } from "kubernetes-types/core/v1";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { refs } from "../../../../src/client/client.js";
import { EventRecorder } from "../../../../src/hub/controllers/events.js";
import {
  preFilterFailureMessage,
  UnschedulableReporter,
} from "../../../../src/hub/scheduler/unschedulable.js";
import { silentLogger } from "../../../../src/lib/logger.js";
import { FakeClient } from "../../../helpers/fake-client.js";

function pendingPod(name: string): KubeObject {
  return {
    kind: "Pod",
    apiVersion: "v1",
    metadata: { name, namespace: "ns" },
    spec: { containers: [{ name: "c", image: "i" }] },
    status: { phase: "Pending", conditions: [{ type: "Initialized", status: "True" }] },
  };
}

function fixture(start: string) {
  const client = new FakeClient();
  const clock = { now: new Date(start) };
  const now = () => clock.now;
  const reporter = new UnschedulableReporter({
    client,
    events: new EventRecorder(client, silentLogger(), now),
    now,
    component: "default-scheduler",
  });
  const conditions = (name: string): PodCondition[] =>
    ((client.peek(refs.pods, "ns", name)?.status ?? {}) as { conditions?: PodCondition[] }).conditions ?? [];
  const scheduled = (name: string) => conditions(name).find((c) => c.type === "PodScheduled");
  return { client, clock, reporter, conditions, scheduled };
}

describe("UnschedulableReporter", () => {
  it("records FailedScheduling and sets PodScheduled=False with the same message, keeping other conditions", async () => {
    const f = fixture("2026-03-01T10:00:00.123Z");
    const pod = f.client.seed(refs.pods, pendingPod("p"));
    await f.reporter.report(pod, "0/1 nodes are available: 1 Too many pods.");
    const ev = f.client.objects(refs.events, "ns").find((e) => e.reason === "FailedScheduling");
    expect(ev?.type).toBe("Warning");
    expect(ev?.message).toBe("0/1 nodes are available: 1 Too many pods.");
    expect((ev?.source as { component?: string } | undefined)?.component).toBe("default-scheduler");
    expect(f.scheduled("p")).toEqual({
      type: "PodScheduled",
      status: "False",
      reason: "Unschedulable",
      message: "0/1 nodes are available: 1 Too many pods.",
      lastProbeTime: null,
      lastTransitionTime: "2026-03-01T10:00:00Z",
    });
    expect(f.conditions("p").map((c) => c.type)).toEqual(["Initialized", "PodScheduled"]);
    expect(f.client.writes("updateStatus", "pods")).toHaveLength(1);
  });

  it("leaves an unchanged condition alone and keeps lastTransitionTime when only the message changes", async () => {
    const f = fixture("2026-03-01T10:00:00Z");
    f.client.seed(refs.pods, pendingPod("p"));
    await f.reporter.report(f.client.peek(refs.pods, "ns", "p")!, "first");
    f.clock.now = new Date("2026-03-01T10:05:00Z");
    // the informer's copy of the pod now carries the condition: the same message writes nothing
    await f.reporter.report(f.client.peek(refs.pods, "ns", "p")!, "first");
    expect(f.client.writes("updateStatus", "pods")).toHaveLength(1);
    await f.reporter.report(f.client.peek(refs.pods, "ns", "p")!, "second");
    expect(f.client.writes("updateStatus", "pods")).toHaveLength(2);
    expect(f.scheduled("p")?.message).toBe("second");
    expect(f.scheduled("p")?.lastTransitionTime).toBe("2026-03-01T10:00:00Z");
  });

  it("does not fail for a pod deleted before its condition is written", async () => {
    const f = fixture("2026-03-01T10:00:00Z");
    const gone = { ...pendingPod("gone"), metadata: { name: "gone", namespace: "ns", uid: "uid-gone" } };
    await expect(f.reporter.report(gone, "0/0 nodes are available")).resolves.toBeUndefined();
    expect(f.client.writes("updateStatus", "pods")).toHaveLength(0);
  });
});

describe("preFilterFailureMessage", () => {
  it("counts every node as not helped by preemption", () => {
    expect(preFilterFailureMessage(2, 'persistentvolumeclaim "nope" not found')).toBe(
      '0/2 nodes are available: persistentvolumeclaim "nope" not found. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
    );
  });
});
