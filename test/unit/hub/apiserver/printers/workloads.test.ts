import { describe, expect, it } from "vitest";
import { ago, cells, HOUR, headers, MIN, obj, SEC } from "./fixtures.js";

const template = {
  metadata: { labels: { app: "web" } },
  spec: {
    nodeSelector: { "kubernetes.io/arch": "arm64", disk: "ssd" },
    containers: [
      { name: "web", image: "nginx:1.27" },
      { name: "log", image: "busybox:1.36" },
    ],
  },
};

describe("deployments", () => {
  it("prints READY text, integer counters and wide containers/images/selector", () => {
    expect(headers("apps", "deployments")).toEqual([
      "Name",
      "Ready",
      "Up-to-date",
      "Available",
      "Age",
      "Containers*",
      "Images*",
      "Selector*",
    ]);
    const d = obj("apps/v1", "Deployment", "web", {
      spec: {
        replicas: 3,
        selector: {
          matchLabels: { app: "web" },
          matchExpressions: [{ key: "tier", operator: "In", values: ["fe", "be"] }],
        },
        template,
      },
      status: { replicas: 3, readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    });
    expect(cells("apps", "deployments", d)).toEqual([
      "web",
      "2/3",
      3,
      2,
      "3d",
      "web,log",
      "nginx:1.27,busybox:1.36",
      "app=web,tier in (be,fe)",
    ]);
  });

  it("defaults replicas to 1 and zero counters for a new deployment", () => {
    const d = obj("apps/v1", "Deployment", "new", { spec: { template } });
    expect(cells("apps", "deployments", d).slice(0, 4)).toEqual(["new", "0/1", 0, 0]);
    expect(cells("apps", "deployments", d)[7]).toBe("");
  });
});

describe("replicasets, daemonsets, statefulsets", () => {
  it("prints a replicaset", () => {
    const rs = obj("apps/v1", "ReplicaSet", "web-5d", {
      spec: { replicas: 2, selector: { matchLabels: { app: "web", "pod-template-hash": "5d" } }, template },
      status: { replicas: 2, readyReplicas: 1 },
    });
    expect(headers("apps", "replicasets")).toEqual([
      "Name",
      "Desired",
      "Current",
      "Ready",
      "Age",
      "Containers*",
      "Images*",
      "Selector*",
    ]);
    expect(cells("apps", "replicasets", rs)).toEqual([
      "web-5d",
      2,
      2,
      1,
      "3d",
      "web,log",
      "nginx:1.27,busybox:1.36",
      "app=web,pod-template-hash=5d",
    ]);
  });

  it("prints a daemonset with its node selector", () => {
    const ds = obj("apps/v1", "DaemonSet", "agent", {
      spec: { selector: { matchExpressions: [{ key: "app", operator: "Exists" }] }, template },
      status: {
        desiredNumberScheduled: 4,
        currentNumberScheduled: 4,
        numberReady: 3,
        updatedNumberScheduled: 4,
        numberAvailable: 3,
      },
    });
    expect(headers("apps", "daemonsets")).toEqual([
      "Name",
      "Desired",
      "Current",
      "Ready",
      "Up-to-date",
      "Available",
      "Node Selector",
      "Age",
      "Containers*",
      "Images*",
      "Selector*",
    ]);
    expect(cells("apps", "daemonsets", ds)).toEqual([
      "agent",
      4,
      4,
      3,
      4,
      3,
      "disk=ssd,kubernetes.io/arch=arm64",
      "3d",
      "web,log",
      "nginx:1.27,busybox:1.36",
      "app",
    ]);
    const bare = obj("apps/v1", "DaemonSet", "bare", { spec: { template: { spec: { containers: [] } } } });
    expect(cells("apps", "daemonsets", bare).slice(6)).toEqual(["<none>", "3d", "", "", "<none>"]);
  });

  it("prints a statefulset", () => {
    const ss = obj("apps/v1", "StatefulSet", "db", {
      spec: { replicas: 3, template },
      status: { readyReplicas: 3 },
    });
    expect(headers("apps", "statefulsets")).toEqual(["Name", "Ready", "Age", "Containers*", "Images*"]);
    expect(cells("apps", "statefulsets", ss)).toEqual([
      "db",
      "3/3",
      "3d",
      "web,log",
      "nginx:1.27,busybox:1.36",
    ]);
  });
});

describe("jobs", () => {
  const job = (
    spec: Record<string, unknown>,
    status: Record<string, unknown>,
    meta: Record<string, unknown> = {},
  ) =>
    obj(
      "batch/v1",
      "Job",
      "backup",
      {
        spec: {
          template,
          selector: { matchLabels: { "batch.kubernetes.io/controller-uid": "u1" } },
          ...spec,
        },
        status,
      },
      meta,
    );

  it("has the 1.32 columns", () => {
    expect(headers("batch", "jobs")).toEqual([
      "Name",
      "Status",
      "Completions",
      "Duration",
      "Age",
      "Containers*",
      "Images*",
      "Selector*",
    ]);
  });

  it("prints a running job with a duration up to now", () => {
    const j = job(
      { completions: 3, parallelism: 1 },
      { startTime: ago(2 * MIN + 5 * SEC), succeeded: 1, active: 1 },
    );
    expect(cells("batch", "jobs", j)).toEqual([
      "backup",
      "Running",
      "1/3",
      "2m5s",
      "3d",
      "web,log",
      "nginx:1.27,busybox:1.36",
      "batch.kubernetes.io/controller-uid=u1",
    ]);
  });

  it("prints a completed job with startTime→completionTime duration", () => {
    const j = job(
      { completions: 1 },
      {
        startTime: ago(2 * HOUR),
        completionTime: ago(2 * HOUR - 45 * SEC),
        succeeded: 1,
        conditions: [{ type: "Complete", status: "True" }],
      },
    );
    expect(cells("batch", "jobs", j).slice(1, 4)).toEqual(["Complete", "1/1", "45s"]);
  });

  it("follows upstream status precedence and work-queue completions", () => {
    const status = (conds: { type: string; status: string }[], meta: Record<string, unknown> = {}) =>
      cells("batch", "jobs", job({}, { conditions: conds }, meta))[1];
    expect(status([{ type: "Failed", status: "True" }])).toBe("Failed");
    expect(status([{ type: "Complete", status: "False" }], { deletionTimestamp: ago(SEC) })).toBe(
      "Terminating",
    );
    expect(status([{ type: "Suspended", status: "True" }])).toBe("Suspended");
    expect(status([{ type: "FailureTarget", status: "True" }])).toBe("FailureTarget");
    expect(cells("batch", "jobs", job({ parallelism: 4 }, { succeeded: 2 })).slice(2, 4)).toEqual([
      "2/1 of 4",
      "",
    ]);
    expect(cells("batch", "jobs", job({}, {}))[2]).toBe("0/1");
  });
});

describe("cronjobs", () => {
  it("prints schedule, timezone, suspend, active and last schedule", () => {
    expect(headers("batch", "cronjobs")).toEqual([
      "Name",
      "Schedule",
      "Timezone",
      "Suspend",
      "Active",
      "Last Schedule",
      "Age",
      "Containers*",
      "Images*",
      "Selector*",
    ]);
    const cj = obj("batch/v1", "CronJob", "nightly", {
      spec: {
        schedule: "0 3 * * *",
        timeZone: "Europe/Berlin",
        suspend: false,
        jobTemplate: { spec: { template } },
      },
      status: { active: [{ name: "nightly-1" }], lastScheduleTime: ago(9 * HOUR) },
    });
    expect(cells("batch", "cronjobs", cj)).toEqual([
      "nightly",
      "0 3 * * *",
      "Europe/Berlin",
      "False",
      1,
      "9h",
      "3d",
      "web,log",
      "nginx:1.27,busybox:1.36",
      "<none>",
    ]);
    const fresh = obj("batch/v1", "CronJob", "fresh", {
      spec: { schedule: "@hourly", jobTemplate: { spec: { template } } },
    });
    expect(cells("batch", "cronjobs", fresh).slice(1, 6)).toEqual([
      "@hourly",
      "<none>",
      "<unset>",
      0,
      "<none>",
    ]);
  });
});
