import { beforeAll, describe, expect, it, vi } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { refs } from "../../../../src/client/client.js";
import { CronJobController } from "../../../../src/hub/controllers/cronjob/cronjob-controller.js";
import {
  formatInZone,
  loadCronParser,
  parseSchedule,
} from "../../../../src/hub/controllers/cronjob/schedule.js";
import { controllerFixture, eventsOf } from "../../../helpers/fake-controller-deps.js";

const T0 = "2024-01-01T00:00:30Z";

const cronjob = (spec: Record<string, unknown>): KubeObject => ({
  apiVersion: "batch/v1",
  kind: "CronJob",
  metadata: { name: "tick", namespace: "ns1", creationTimestamp: T0 },
  spec: {
    schedule: "*/5 * * * *",
    jobTemplate: {
      metadata: { labels: { team: "a" } },
      spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] } } },
    },
    ...spec,
  },
});

const setup = (spec: Record<string, unknown>) =>
  controllerFixture(
    (deps, informers) => new CronJobController(deps, informers),
    [[refs.cronjobs, cronjob(spec)]],
    T0,
  );
type F = Awaited<ReturnType<typeof setup>>;
const jobs = (f: F) =>
  f.client
    .objects(refs.jobs, "ns1")
    .map((j) => j.metadata.name)
    .sort();
const cjStatus = (f: F) =>
  f.client.objects(refs.cronjobs, "ns1")[0]!.status as Record<string, unknown> & {
    active?: { name: string }[];
  };

async function finishJob(f: F, name: string, type: "Complete" | "Failed", at: string) {
  await f.client.mutate(
    refs.jobs,
    "ns1",
    name,
    (j) => ({
      ...j,
      status: {
        startTime: at,
        ...(type === "Complete" ? { completionTime: at } : {}),
        conditions: [{ type, status: "True", lastTransitionTime: at }],
      },
    }),
    { status: true },
  );
}

describe("schedule", () => {
  // cron-parser loads on demand (the controller awaits it on its first CronJob)
  beforeAll(() => loadCronParser());

  it("parses five fields, macros and CRON_TZ; rejects seconds and unknown zones", () => {
    expect(parseSchedule("@hourly").next(new Date("2024-01-01T00:10:00Z")).toISOString()).toBe(
      "2024-01-01T01:00:00.000Z",
    );
    const berlin = parseSchedule("CRON_TZ=Europe/Berlin 0 9 * * *");
    expect(berlin.next(new Date("2024-01-01T00:00:00Z")).toISOString()).toBe("2024-01-01T08:00:00.000Z");
    expect(
      parseSchedule("0 9 * * *", "Asia/Tokyo").next(new Date("2024-01-01T01:00:00Z")).toISOString(),
    ).toBe("2024-01-02T00:00:00.000Z");
    expect(() => parseSchedule("0 * * * * *")).toThrow(/exactly 5 fields/);
    expect(() => parseSchedule("* * * * *", "Mars/Base")).toThrow(/unknown time zone Mars\/Base/);
    expect(formatInZone(new Date("2024-01-01T08:00:00Z"), "Europe/Berlin")).toBe("2024-01-01T09:00:00+01:00");
    expect(
      parseSchedule("*/5 * * * *").mostRecent(
        new Date("2024-01-01T00:00:00Z"),
        new Date("2024-01-01T00:12:00Z"),
      ),
    ).toEqual({ time: new Date("2024-01-01T00:10:00Z"), missed: 2 });
  });
});

describe("CronJob reconcile", () => {
  it("creates <name>-<minutes> at the schedule time with the scheduled-timestamp annotation", async () => {
    const f = await setup({});
    expect(await f.c.reconcile("ns1/tick")).toEqual({ requeueAfterMs: 270_100 });
    expect(jobs(f)).toEqual([]);
    f.clock.advance(270_000); // 00:05:00
    await f.c.reconcile("ns1/tick");
    const minutes = Date.parse("2024-01-01T00:05:00Z") / 60000;
    expect(jobs(f)).toEqual([`tick-${minutes}`]);
    const j = f.client.objects(refs.jobs, "ns1")[0]!;
    expect(j.metadata.labels).toEqual({ team: "a" });
    expect(j.metadata.annotations).toEqual({
      "batch.kubernetes.io/cronjob-scheduled-timestamp": "2024-01-01T00:05:00Z",
    });
    expect(j.metadata.ownerReferences?.[0]).toMatchObject({
      kind: "CronJob",
      name: "tick",
      controller: true,
    });
    expect(cjStatus(f)).toMatchObject({
      lastScheduleTime: "2024-01-01T00:05:00Z",
      active: [{ kind: "Job", name: `tick-${minutes}`, apiVersion: "batch/v1" }],
    });
    await vi.waitFor(() =>
      expect(eventsOf(f.client)).toContain(`SuccessfulCreate: Created job tick-${minutes}`),
    );
    // the same time is never run twice
    await f.c.reconcile("ns1/tick");
    expect(jobs(f)).toHaveLength(1);

    await finishJob(f, `tick-${minutes}`, "Complete", "2024-01-01T00:06:00Z");
    await f.c.reconcile("ns1/tick");
    expect(cjStatus(f).active).toBeUndefined();
    expect(cjStatus(f).lastSuccessfulTime).toBe("2024-01-01T00:06:00Z");
    await vi.waitFor(() =>
      expect(eventsOf(f.client)).toContain(
        `SawCompletedJob: Saw completed job: tick-${minutes}, status: Complete`,
      ),
    );
  });

  it("Forbid skips while a job runs; Replace deletes it; suspend does nothing", async () => {
    const f = await setup({ concurrencyPolicy: "Forbid" });
    f.clock.advance(270_000);
    await f.c.reconcile("ns1/tick");
    f.clock.advance(300_000);
    await f.c.reconcile("ns1/tick");
    expect(jobs(f)).toHaveLength(1);
    await vi.waitFor(() =>
      expect(eventsOf(f.client).some((e) => e.startsWith("JobAlreadyActive:"))).toBe(true),
    );

    const cur = f.client.objects(refs.cronjobs, "ns1")[0]!;
    f.client.seed(refs.cronjobs, { ...cur, spec: { ...(cur.spec as object), concurrencyPolicy: "Replace" } });
    await f.c.reconcile("ns1/tick");
    expect(jobs(f)).toEqual([`tick-${Date.parse("2024-01-01T00:10:00Z") / 60000}`]);

    const cur2 = f.client.objects(refs.cronjobs, "ns1")[0]!;
    f.client.seed(refs.cronjobs, { ...cur2, spec: { ...(cur2.spec as object), suspend: true } });
    f.clock.advance(300_000);
    await f.c.reconcile("ns1/tick");
    expect(jobs(f)).toHaveLength(1);
  });

  it("startingDeadlineSeconds skips runs missed for too long; history limits trim finished jobs", async () => {
    const f = await setup({
      startingDeadlineSeconds: 60,
      successfulJobsHistoryLimit: 1,
      failedJobsHistoryLimit: 0,
    });
    f.clock.advance(270_000 + 120_000); // 00:07:00: 00:05 is 2 minutes late
    await f.c.reconcile("ns1/tick");
    expect(jobs(f)).toEqual([]);

    const f2 = await setup({ successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 0 });
    for (let i = 0; i < 3; i++) {
      f2.clock.advance(i === 0 ? 270_000 : 300_000);
      await f2.c.reconcile("ns1/tick");
      const name = jobs(f2).at(-1)!;
      await finishJob(
        f2,
        name,
        i === 2 ? "Failed" : "Complete",
        f2.clock.now.toISOString().replace(/\.\d{3}Z$/, "Z"),
      );
    }
    await f2.c.reconcile("ns1/tick");
    expect(jobs(f2)).toEqual([`tick-${Date.parse("2024-01-01T00:10:00Z") / 60000}`]);
  });

  it("reports an invalid schedule as a warning event", async () => {
    const f = await setup({ schedule: "61 * * * *" });
    expect(await f.c.reconcile("ns1/tick")).toBeUndefined();
    await vi.waitFor(() =>
      expect(
        eventsOf(f.client).some((e) => e.startsWith("InvalidSchedule: invalid schedule: 61 * * * * :")),
      ).toBe(true),
    );
  });
});
