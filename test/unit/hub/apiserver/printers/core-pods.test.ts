import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../../src/api/object.js";
import { printerFor } from "../../../../../src/hub/apiserver/printers/index.js";
import { ago, DAY, HOUR, MIN, NOW, obj } from "./fixtures.js";

const pods = printerFor("", "pods");

function pod(
  spec: Record<string, unknown>,
  status: Record<string, unknown>,
  meta: Record<string, unknown> = {},
): KubeObject {
  return obj(
    "v1",
    "Pod",
    "p1",
    { spec: { containers: [{ name: "app", image: "busybox" }], ...spec }, status },
    meta,
  );
}

/** NAME READY STATUS RESTARTS AGE (the priority-0 cells). */
function row(p: KubeObject): unknown[] {
  const r = pods.rows(p, NOW)[0];
  if (!r) throw new Error("printer returned no row");
  return r.slice(0, 5);
}

const running = { running: { startedAt: ago(DAY) } };

describe("pod printer columns", () => {
  it("matches upstream names, types and priorities", () => {
    expect(pods.columns.map((c) => [c.name, c.type, c.priority])).toEqual([
      ["Name", "string", 0],
      ["Ready", "string", 0],
      ["Status", "string", 0],
      ["Restarts", "string", 0],
      ["Age", "string", 0],
      ["IP", "string", 1],
      ["Node", "string", 1],
      ["Nominated Node", "string", 1],
      ["Readiness Gates", "string", 1],
    ]);
    expect(pods.columns[0]?.format).toBe("name");
  });
});

describe("pod STATUS / READY / RESTARTS", () => {
  it("prints a ready running pod", () => {
    const p = pod(
      {},
      {
        phase: "Running",
        containerStatuses: [{ name: "app", ready: true, restartCount: 0, state: running }],
      },
    );
    expect(row(p)).toEqual(["p1", "1/1", "Running", "0", "3d"]);
  });

  it("suffixes RESTARTS with the time of the last termination", () => {
    const p = pod(
      {},
      {
        phase: "Running",
        containerStatuses: [
          {
            name: "app",
            ready: true,
            restartCount: 5,
            state: running,
            lastState: { terminated: { exitCode: 1, finishedAt: ago(5 * MIN) } },
          },
        ],
      },
    );
    expect(row(p)).toEqual(["p1", "1/1", "Running", "5 (5m ago)", "3d"]);
  });

  it("shows the waiting reason of a crash-looping container", () => {
    const p = pod(
      {},
      {
        phase: "Running",
        containerStatuses: [
          {
            name: "app",
            ready: false,
            restartCount: 7,
            state: { waiting: { reason: "CrashLoopBackOff" } },
            lastState: { terminated: { exitCode: 2, reason: "Error", finishedAt: ago(30 * 1000) } },
          },
        ],
      },
    );
    expect(row(p)).toEqual(["p1", "0/1", "CrashLoopBackOff", "7 (30s ago)", "3d"]);
  });

  it("lets the first container's reason win (containers are walked last to first)", () => {
    const p = pod(
      { containers: [{ name: "a" }, { name: "b" }] },
      {
        phase: "Pending",
        containerStatuses: [
          { name: "a", ready: false, restartCount: 0, state: { waiting: { reason: "ImagePullBackOff" } } },
          { name: "b", ready: false, restartCount: 0, state: { waiting: { reason: "ContainerCreating" } } },
        ],
      },
    );
    expect(row(p)).toEqual(["p1", "0/2", "ImagePullBackOff", "0", "3d"]);
  });

  it("prints Completed for a succeeded pod and marks the row completed", () => {
    const p = pod(
      {},
      {
        phase: "Succeeded",
        containerStatuses: [
          {
            name: "app",
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 0, reason: "Completed" } },
          },
        ],
      },
    );
    expect(row(p)).toEqual(["p1", "0/1", "Completed", "0", "3d"]);
    expect(pods.conditions?.(p)).toEqual([
      {
        type: "Completed",
        status: "True",
        reason: "Succeeded",
        message: "The pod has completed successfully.",
      },
    ]);
  });

  it("marks a failed pod's row and keeps status.reason (Evicted)", () => {
    const p = pod({}, { phase: "Failed", reason: "Evicted", message: "low on memory" });
    expect(row(p)).toEqual(["p1", "0/1", "Evicted", "0", "3d"]);
    expect(pods.conditions?.(p)?.[0]?.reason).toBe("Failed");
    expect(pods.conditions?.(pod({}, { phase: "Running" }))).toBeUndefined();
  });

  it("turns Completed back into Running / NotReady while another container still runs", () => {
    const statuses = [
      {
        name: "a",
        ready: false,
        restartCount: 0,
        state: { terminated: { exitCode: 0, reason: "Completed" } },
      },
      { name: "b", ready: true, restartCount: 0, state: running },
    ];
    const spec = { containers: [{ name: "a" }, { name: "b" }] };
    const ready = pod(spec, {
      phase: "Running",
      conditions: [{ type: "Ready", status: "True" }],
      containerStatuses: statuses,
    });
    const notReady = pod(spec, {
      phase: "Running",
      conditions: [{ type: "Ready", status: "False" }],
      containerStatuses: statuses,
    });
    expect(row(ready)).toEqual(["p1", "1/2", "Running", "0", "3d"]);
    expect(row(notReady)).toEqual(["p1", "1/2", "NotReady", "0", "3d"]);
  });

  it("prints ExitCode:N and Signal:N for terminations without a reason", () => {
    const exit = pod(
      {},
      {
        phase: "Failed",
        containerStatuses: [{ name: "app", restartCount: 0, state: { terminated: { exitCode: 3 } } }],
      },
    );
    const signal = pod(
      {},
      {
        phase: "Failed",
        containerStatuses: [
          { name: "app", restartCount: 0, state: { terminated: { exitCode: 137, signal: 9 } } },
        ],
      },
    );
    expect(row(exit)[2]).toBe("ExitCode:3");
    expect(row(signal)[2]).toBe("Signal:9");
  });

  it("prints Init:i/n while init containers run", () => {
    const spec = { initContainers: [{ name: "i1" }, { name: "i2" }] };
    const first = pod(spec, {
      phase: "Pending",
      initContainerStatuses: [
        { name: "i1", restartCount: 0, state: running },
        { name: "i2", restartCount: 0, state: { waiting: { reason: "PodInitializing" } } },
      ],
      containerStatuses: [
        { name: "app", restartCount: 0, state: { waiting: { reason: "PodInitializing" } } },
      ],
    });
    const second = pod(spec, {
      phase: "Pending",
      initContainerStatuses: [
        { name: "i1", restartCount: 0, state: { terminated: { exitCode: 0, reason: "Completed" } } },
        { name: "i2", restartCount: 0, state: running },
      ],
    });
    expect(row(first)).toEqual(["p1", "0/1", "Init:0/2", "0", "3d"]);
    expect(row(second)).toEqual(["p1", "0/1", "Init:1/2", "0", "3d"]);
  });

  it("prints Init:<reason> and counts init restarts while initialising", () => {
    const spec = { initContainers: [{ name: "i1" }] };
    const crash = pod(spec, {
      phase: "Pending",
      initContainerStatuses: [
        {
          name: "i1",
          restartCount: 4,
          state: { waiting: { reason: "CrashLoopBackOff" } },
          lastState: { terminated: { exitCode: 1, reason: "Error", finishedAt: ago(2 * MIN) } },
        },
      ],
    });
    expect(row(crash)).toEqual(["p1", "0/1", "Init:CrashLoopBackOff", "4 (2m ago)", "3d"]);
    const failed = (terminated: Record<string, unknown>) =>
      row(
        pod(spec, {
          phase: "Pending",
          initContainerStatuses: [{ name: "i1", restartCount: 0, state: { terminated } }],
        }),
      )[2];
    expect(failed({ exitCode: 1, reason: "Error" })).toBe("Init:Error");
    expect(failed({ exitCode: 2 })).toBe("Init:ExitCode:2");
    expect(failed({ exitCode: 137, signal: 9 })).toBe("Init:Signal:9");
  });

  it("counts restartable init containers (sidecars) in READY and RESTARTS", () => {
    const p = pod(
      { initContainers: [{ name: "proxy", restartPolicy: "Always" }] },
      {
        phase: "Running",
        conditions: [{ type: "Initialized", status: "True" }],
        initContainerStatuses: [
          {
            name: "proxy",
            started: true,
            ready: true,
            restartCount: 2,
            state: running,
            lastState: { terminated: { exitCode: 1, finishedAt: ago(10 * MIN) } },
          },
        ],
        containerStatuses: [
          {
            name: "app",
            ready: true,
            restartCount: 1,
            state: running,
            lastState: { terminated: { exitCode: 1, finishedAt: ago(3 * MIN) } },
          },
        ],
      },
    );
    expect(row(p)).toEqual(["p1", "2/2", "Running", "3 (3m ago)", "3d"]);
  });

  it("drops ordinary init container restarts once the pod is initialised", () => {
    const p = pod(
      { initContainers: [{ name: "i1" }] },
      {
        phase: "Running",
        initContainerStatuses: [
          { name: "i1", restartCount: 3, state: { terminated: { exitCode: 0, reason: "Completed" } } },
        ],
        containerStatuses: [{ name: "app", ready: true, restartCount: 0, state: running }],
      },
    );
    expect(row(p)).toEqual(["p1", "1/1", "Running", "0", "3d"]);
  });

  it("prints Terminating for a deleted running pod, Unknown for a lost node, and keeps terminal phases", () => {
    const deleting = { deletionTimestamp: ago(10 * 1000) };
    const runningPod = pod(
      {},
      {
        phase: "Running",
        containerStatuses: [{ name: "app", ready: true, restartCount: 0, state: running }],
      },
      deleting,
    );
    expect(row(runningPod)[2]).toBe("Terminating");
    expect(row(pod({}, { phase: "Running", reason: "NodeLost" }, deleting))[2]).toBe("Unknown");
    const done = pod(
      {},
      {
        phase: "Succeeded",
        containerStatuses: [
          { name: "app", restartCount: 0, state: { terminated: { exitCode: 0, reason: "Completed" } } },
        ],
      },
      deleting,
    );
    expect(row(done)[2]).toBe("Completed");
  });

  it("prints SchedulingGated from the PodScheduled condition", () => {
    const p = pod(
      { schedulingGates: [{ name: "wait" }] },
      {
        phase: "Pending",
        conditions: [{ type: "PodScheduled", status: "False", reason: "SchedulingGated" }],
      },
    );
    expect(row(p)).toEqual(["p1", "0/1", "SchedulingGated", "0", "3d"]);
  });

  it("prints a pod without status like upstream prints an empty phase", () => {
    const p = obj("v1", "Pod", "bare", { spec: { containers: [{ name: "app" }] } });
    expect(row(p)).toEqual(["bare", "0/1", "", "0", "3d"]);
  });

  it("prints <unknown> AGE without a creationTimestamp", () => {
    const p = pod({}, { phase: "Pending" }, { creationTimestamp: undefined });
    expect(row(p)[4]).toBe("<unknown>");
  });
});

describe("pod wide cells", () => {
  it("prints IP, node, nominated node and readiness gates", () => {
    const p = pod(
      { nodeName: "pi-1", readinessGates: [{ conditionType: "lb/ready" }, { conditionType: "x/ok" }] },
      {
        phase: "Running",
        podIP: "10.42.1.7",
        podIPs: [{ ip: "10.42.1.7" }, { ip: "fd00::7" }],
        nominatedNodeName: "pi-2",
        conditions: [
          { type: "lb/ready", status: "True" },
          { type: "x/ok", status: "False" },
        ],
        containerStatuses: [{ name: "app", ready: true, restartCount: 0, state: running }],
      },
    );
    expect(pods.rows(p, NOW)[0]?.slice(5)).toEqual(["10.42.1.7", "pi-1", "pi-2", "1/2"]);
  });

  it("prints <none> for unscheduled pods and falls back to status.podIP", () => {
    expect(pods.rows(pod({}, { phase: "Pending" }), NOW)[0]?.slice(5)).toEqual([
      "<none>",
      "<none>",
      "<none>",
      "<none>",
    ]);
    expect(pods.rows(pod({ nodeName: "n" }, { podIP: "10.42.0.9" }), NOW)[0]?.slice(5, 7)).toEqual([
      "10.42.0.9",
      "n",
    ]);
  });

  it("keeps one row per pod with as many cells as columns", () => {
    const rows = pods.rows(pod({}, { phase: "Running" }), NOW);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toHaveLength(pods.columns.length);
  });

  it("ages a pod created 5 hours 20 minutes ago as 5h20m", () => {
    const p = pod({}, {}, { creationTimestamp: ago(5 * HOUR + 20 * MIN) });
    expect(row(p)[4]).toBe("5h20m");
  });
});
