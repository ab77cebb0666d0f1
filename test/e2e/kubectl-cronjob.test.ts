/**
 * CronJob live, end to end: real kubectl 1.32 against a hub whose CronJob and Job controllers
 * run on the wall clock, with simulated nodes (KubeletSim finishes every Job pod with exit 0,
 * since `kubectl create cronjob` cannot annotate its pod template).
 *
 * The schedule `*\/1 * * * *` fires at the next minute boundary, so the scheduled Job shows
 * up within 60 s; the manual `create job --from=cronjob/…` runs meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { KubeObject } from "../../src/api/object.js";
import { startHub, type TestHub } from "../helpers/hub.js";
import { KubeletSim } from "../helpers/kubelet-sim.js";
import { hasKubectl, need } from "../helpers/prereq.js";

const NS = "e2e-cron";

interface JobStatus {
  completionTime?: string;
  conditions?: { type: string; status: string }[];
}

describe.skipIf(!need(hasKubectl()))("kubectl and a live CronJob", () => {
  let t: TestHub;
  let sim: KubeletSim;
  beforeAll(async () => {
    t = await startHub();
    sim = new KubeletSim(t.hub.client!, {
      exitCode: (p) => (p.metadata.labels?.["batch.kubernetes.io/job-name"] ? "0" : undefined),
    });
    await sim.start();
    await sim.addNode({ name: "cron-node-1" });
  });
  afterAll(async () => {
    sim?.stop();
    await t?.stop();
  });

  const getJson = async <T>(args: string[]): Promise<T> =>
    JSON.parse((await t.kubectl(["get", ...args, "-n", NS, "-o", "json"])).stdout) as T;

  it("creates a Job per minute named <cronjob>-<minutes since epoch>, and create job --from works", async () => {
    await t.kubectl(["create", "namespace", NS]);
    const created = await t.kubectl([
      "create",
      "cronjob",
      "tick",
      "--image=busybox",
      "--schedule=*/1 * * * *",
      "-n",
      NS,
      "--",
      "true",
    ]);
    expect(created.stdout).toContain("cronjob.batch/tick created");
    const cj = await getJson<KubeObject>(["cronjob", "tick"]);

    // a manual run from the CronJob's template, owned by the CronJob
    const manual = await t.kubectl(["create", "job", "tick-manual", "--from=cronjob/tick", "-n", NS]);
    expect(manual.stdout).toContain("job.batch/tick-manual created");
    const mj = await getJson<KubeObject>(["job", "tick-manual"]);
    expect(mj.metadata.annotations?.["cronjob.kubernetes.io/instantiate"]).toBe("manual");
    expect(mj.metadata.ownerReferences?.[0]).toMatchObject({
      kind: "CronJob",
      name: "tick",
      uid: cj.metadata.uid,
    });
    const w = await t.kubectl([
      "wait",
      "--for=condition=complete",
      "job/tick-manual",
      "-n",
      NS,
      "--timeout=30s",
    ]);
    expect(w.stdout).toContain("job.batch/tick-manual condition met");

    // the scheduled run: at most a minute away
    let scheduled = "";
    await vi.waitFor(
      async () => {
        const st = (await getJson<KubeObject>(["cronjob", "tick"])).status as { lastScheduleTime?: string };
        expect(st.lastScheduleTime).toBeTruthy();
        const minutes = Math.floor(Date.parse(st.lastScheduleTime ?? "") / 60_000);
        scheduled = `tick-${minutes}`;
        const jobs = await getJson<{ items: KubeObject[] }>(["jobs"]);
        expect(jobs.items.map((j) => j.metadata.name)).toContain(scheduled);
      },
      { timeout: 75_000, interval: 500 },
    );
    const sj = await getJson<KubeObject>(["job", scheduled]);
    expect(sj.metadata.ownerReferences?.[0]).toMatchObject({
      kind: "CronJob",
      name: "tick",
      controller: true,
    });
    expect(sj.metadata.annotations?.["batch.kubernetes.io/cronjob-scheduled-timestamp"]).toBe(
      ((await getJson<KubeObject>(["cronjob", "tick"])).status as { lastScheduleTime: string })
        .lastScheduleTime,
    );

    // it completes, and the CronJob records that success
    await vi.waitFor(
      async () => {
        const js = (await getJson<KubeObject>(["job", scheduled])).status as JobStatus;
        expect(js.conditions?.find((c) => c.type === "Complete")?.status).toBe("True");
        const st = (await getJson<KubeObject>(["cronjob", "tick"])).status as {
          lastSuccessfulTime?: string;
          active?: unknown[];
        };
        expect(st.lastSuccessfulTime).toBeTruthy();
        expect(Date.parse(st.lastSuccessfulTime ?? "")).toBeGreaterThanOrEqual(
          Date.parse(js.completionTime ?? "x"),
        );
        expect(st.active ?? []).toEqual([]);
      },
      { timeout: 20_000, interval: 300 },
    );
    const desc = await t.kubectl(["describe", "cronjob", "tick", "-n", NS]);
    expect(desc.stdout).toMatch(new RegExp(`SuccessfulCreate\\s+.*Created job ${scheduled}`));
    const get = await t.kubectl(["get", "cronjob", "tick", "-n", NS]);
    expect(get.stdout).toMatch(/tick\s+\*\/1 \* \* \* \*\s+<none>\s+False\s+0\s+\S+/);
  }, 150_000);
});
