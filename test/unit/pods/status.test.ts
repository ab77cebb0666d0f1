import type { Pod, PodStatus } from "kubernetes-types/core/v1";
import { describe, expect, it } from "vitest";
import { computePodStatus, type StatusInput, type Waiting } from "../../../src/edge-agent/pods/index.js";
import type { RuntimeContainerStatus, RuntimePod } from "../../../src/edge-agent/runtime/index.js";

const T0 = "2026-01-01T00:00:00Z";
const T1 = "2026-01-01T00:01:00Z";

function pod(restartPolicy = "Always", init = false): Pod {
  return {
    metadata: { name: "web", namespace: "ns", uid: "u" },
    spec: {
      restartPolicy,
      initContainers: init ? [{ name: "prep", image: "busybox:1" }] : undefined,
      containers: [
        { name: "a", image: "busybox:1" },
        { name: "b", image: "busybox:1" },
      ],
    },
  };
}

const running = (name: string, role: "init" | "app" = "app", restartCount = 0): RuntimeContainerStatus => ({
  name,
  role,
  state: { running: { startedAt: T0 } },
  restartCount,
  image: "busybox:1",
  imageID: "docker://sha256:abc",
  containerID: `docker://${name}${restartCount}`,
});
const exited = (name: string, exitCode: number, role: "init" | "app" = "app"): RuntimeContainerStatus => ({
  ...running(name, role),
  state: {
    terminated: {
      exitCode,
      reason: exitCode === 0 ? "Completed" : "Error",
      startedAt: T0,
      finishedAt: T1,
      containerID: `docker://${name}0`,
    },
  },
});

function input(
  p: Pod,
  containers: RuntimeContainerStatus[] | undefined,
  over: Partial<StatusInput> = {},
): StatusInput {
  const rt: RuntimePod | undefined = containers && { uid: "u", name: "web", namespace: "ns", containers };
  return {
    pod: p,
    runtime: rt,
    waiting: new Map<string, Waiting>(),
    probe: () => ({ started: true, ready: true }),
    podIP: "10.42.0.5",
    hostIP: "192.0.2.1",
    startTime: T0,
    now: T1,
    ...over,
  };
}

const cond = (s: Record<string, unknown>, type: string) =>
  (
    s.conditions as {
      type: string;
      status: string;
      reason?: string;
      message?: string;
      lastTransitionTime: string;
    }[]
  ).find((c) => c.type === type);

describe("computePodStatus", () => {
  it("is Pending with ContainerCreating before anything runs", () => {
    const s = computePodStatus(input(pod(), undefined));
    expect(s.phase).toBe("Pending");
    expect((s.containerStatuses as { state: unknown }[])[0]?.state).toEqual({
      waiting: { reason: "ContainerCreating" },
    });
    expect(cond(s, "Ready")).toMatchObject({
      status: "False",
      reason: "ContainersNotReady",
      message: "containers with unready status: [a b]",
    });
    expect(s).toMatchObject({
      podIP: "10.42.0.5",
      podIPs: [{ ip: "10.42.0.5" }],
      hostIP: "192.0.2.1",
      qosClass: "BestEffort",
    });
  });

  it("waits on init containers: PodInitializing, Initialized False, Failed only under Never", () => {
    const s = computePodStatus(input(pod("Always", true), [running("prep", "init")]));
    expect(s.phase).toBe("Pending");
    expect(cond(s, "Initialized")).toMatchObject({
      status: "False",
      reason: "ContainersNotInitialized",
      message: "containers with incomplete status: [prep]",
    });
    expect((s.containerStatuses as { state: unknown }[])[0]?.state).toEqual({
      waiting: { reason: "PodInitializing" },
    });
    expect(computePodStatus(input(pod("Never", true), [exited("prep", 1, "init")])).phase).toBe("Failed");
    expect(computePodStatus(input(pod("OnFailure", true), [exited("prep", 1, "init")])).phase).toBe(
      "Pending",
    );
  });

  it("is Running and Ready when everything runs and probes pass; ready follows the probe", () => {
    const s = computePodStatus(
      input(pod("Always", true), [exited("prep", 0, "init"), running("a"), running("b")]),
    );
    expect(s.phase).toBe("Running");
    expect(cond(s, "Initialized")?.status).toBe("True");
    expect(cond(s, "Ready")?.status).toBe("True");
    expect((s.initContainerStatuses as { ready: boolean }[])[0]?.ready).toBe(true);
    const notReady = computePodStatus(
      input(pod(), [running("a"), running("b")], { probe: (n) => ({ started: true, ready: n === "a" }) }),
    );
    expect(cond(notReady, "ContainersReady")).toMatchObject({
      status: "False",
      message: "containers with unready status: [b]",
    });
  });

  it("shows CrashLoopBackOff with the dead run in lastState, counted as stopped", () => {
    const waiting = new Map([
      [
        "a",
        { reason: "CrashLoopBackOff", message: "back-off 10s restarting failed container=a pod=web_ns(u)" },
      ],
    ]);
    const s = computePodStatus(
      input(pod(), [{ ...exited("a", 2), restartCount: 3 }, running("b")], { waiting }),
    );
    const a = (s.containerStatuses as Record<string, unknown>[])[0]!;
    expect(a).toMatchObject({
      state: { waiting: { reason: "CrashLoopBackOff" } },
      lastState: { terminated: { exitCode: 2, reason: "Error" } },
      restartCount: 3,
      ready: false,
      started: false,
      containerID: "docker://a0",
    });
    expect(s.phase).toBe("Running");
  });

  it.each([
    ["Always", [0, 0], "Running"],
    ["OnFailure", [0, 0], "Succeeded"],
    ["OnFailure", [0, 1], "Running"],
    ["Never", [0, 1], "Failed"],
    ["Never", [0, 0], "Succeeded"],
  ])("restartPolicy %s with exits %j is %s", (policy, codes, phase) => {
    const s = computePodStatus(input(pod(policy), [exited("a", codes[0]!), exited("b", codes[1]!)]));
    expect(s.phase).toBe(phase);
    if (phase !== "Running")
      expect(cond(s, "Ready")).toMatchObject({ status: "False", reason: "PodCompleted" });
  });

  it("keeps lastTransitionTime while a condition does not change, and a terminal phase sticks", () => {
    const first = computePodStatus(input(pod(), [running("a"), running("b")], { now: T0 }));
    const again = computePodStatus(
      input(pod(), [running("a"), running("b")], { now: T1, previous: first as PodStatus }),
    );
    expect(JSON.stringify(again)).toBe(JSON.stringify(first));
    const flipped = computePodStatus(
      input(pod(), [running("a"), running("b")], {
        now: T1,
        previous: first as PodStatus,
        probe: () => ({ started: true, ready: false }),
      }),
    );
    expect(cond(flipped, "Ready")?.lastTransitionTime).toBe(T1);
    expect(cond(flipped, "PodScheduled")?.lastTransitionTime).toBe(T0);
    const done = computePodStatus(
      input(pod(), [running("a"), running("b")], { previous: { phase: "Succeeded" } as PodStatus }),
    );
    expect(done.phase).toBe("Succeeded");
  });
});
