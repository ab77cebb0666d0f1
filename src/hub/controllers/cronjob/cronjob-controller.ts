/**
 * CronJob controller: creates a Job per schedule time (upstream cronjob_controllerv2).
 *
 * Design notes
 * - The clock is deps.now and every reconcile returns requeueAfterMs for the next schedule
 *   time, so nothing polls and tests drive time by calling reconcile with a moved clock.
 * - Each sync: refresh status.active from the owned Jobs (SawCompletedJob for finished
 *   ones), trim history (successful/failedJobsHistoryLimit), then — unless suspended — find
 *   the most recent unmet schedule time in (lastScheduleTime or creation, now], bounded by
 *   startingDeadlineSeconds, and apply concurrencyPolicy (Forbid skips while a job runs,
 *   Replace deletes the running ones first).
 * - Job names are deterministic per schedule time, so a time is never run twice.
 * - Events: SuccessfulCreate "Created job x", SuccessfulDelete "Deleted job x",
 *   SawCompletedJob, JobAlreadyActive, InvalidSchedule, UnknownTimeZone, TooManyMissedTimes.
 */
import { isDeepStrictEqual } from "node:util";
import type { KubeObject } from "../../../api/object.js";
import { metaTime } from "../../../api/time.js";
import { isConflict, isNotFound, refs } from "../../../client/client.js";
import type { InformerCache } from "../../../client/informer.js";
import type { ReconcileResult } from "../../../lib/workqueue.js";
import type { ControllerDeps } from "../controller.js";
import { isJobFinished } from "../job/job-plan.js";
import { keyOf, type SharedInformers, splitKey } from "../shared-informers.js";
import { OwnerController } from "../workload-common/owner-controller.js";
import { isControlledBy } from "../workload-common/pods.js";
import {
  type CronJobSpec,
  type CronJobStatus,
  isJobSucceeded,
  jobFromTemplate,
  jobName,
  jobRef,
  jobsOverHistoryLimit,
  lastSuccessfulTime,
} from "./cronjob-jobs.js";
import {
  formatInZone,
  loadCronParser,
  parseSchedule,
  type Schedule,
  UnknownTimeZoneError,
} from "./schedule.js";

const COMPONENT = "cronjob-controller";

export class CronJobController extends OwnerController {
  private readonly cronjobs: InformerCache;
  private readonly jobs: InformerCache;

  constructor(deps: ControllerDeps, informers: SharedInformers) {
    super(COMPONENT, "cronjob", deps, informers);
    this.cronjobs = this.cache(refs.cronjobs);
    this.jobs = this.cache(refs.jobs);
  }

  protected watch(): void {
    this.enqueueOwners(this.cronjobs, { onDelete: false });
    this.enqueueControllerOf(this.jobs, "CronJob");
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const cj = this.cronjobs.get(key);
    if (!cj) return;
    const { namespace } = splitKey(key);
    const spec = (cj.spec ?? {}) as CronJobSpec;
    const prev = (cj.status ?? {}) as CronJobStatus;
    const now = this.deps.now();
    const owned = this.jobs.list((j) => j.metadata.namespace === namespace && isControlledBy(j, cj));
    const status: CronJobStatus = { ...prev };

    // active list: keep recorded refs of still-running jobs, add running ones not listed
    const byUid = new Map(owned.map((j) => [j.metadata.uid ?? "", j]));
    const active = (prev.active ?? []).filter((ref) => {
      const j = byUid.get(ref.uid ?? "");
      if (j && isJobFinished(j)) {
        const msg = `Saw completed job: ${j.metadata.name}, status: ${isJobSucceeded(j) ? "Complete" : "Failed"}`;
        void this.deps.events.record(cj, "Normal", "SawCompletedJob", msg, COMPONENT);
      }
      return !!j && !isJobFinished(j) && !j.metadata.deletionTimestamp;
    });
    for (const j of owned) {
      if (
        !isJobFinished(j) &&
        !j.metadata.deletionTimestamp &&
        !active.some((r) => r.uid === j.metadata.uid)
      ) {
        active.push(jobRef(j));
      }
    }
    status.active = active;
    const lst = lastSuccessfulTime(prev.lastSuccessfulTime, owned);
    if (lst) status.lastSuccessfulTime = lst;

    for (const j of jobsOverHistoryLimit(cj, owned)) await this.deleteJob(cj, j);

    if (cj.metadata.deletionTimestamp || spec.suspend) return this.finish(cj, prev, status);

    let schedule: Schedule;
    await loadCronParser();
    try {
      schedule = parseSchedule(spec.schedule ?? "", spec.timeZone);
    } catch (e) {
      const [reason, msg] =
        e instanceof UnknownTimeZoneError
          ? ["UnknownTimeZone", `invalid timeZone: "${e.timeZone}": ${e.message}`]
          : ["InvalidSchedule", `invalid schedule: ${spec.schedule} : ${(e as Error).message}`];
      void this.deps.events.record(cj, "Warning", reason, msg, COMPONENT);
      return this.finish(cj, prev, status);
    }
    const requeue = { requeueAfterMs: Math.max(0, schedule.next(now).getTime() - now.getTime()) + 100 };

    let earliest = Date.parse(prev.lastScheduleTime ?? cj.metadata.creationTimestamp ?? metaTime(now));
    const sds = spec.startingDeadlineSeconds;
    if (sds !== undefined && sds !== null) earliest = Math.max(earliest, now.getTime() - sds * 1000);
    const { time, missed } = schedule.mostRecent(new Date(earliest), now);
    if (!time) {
      await this.finish(cj, prev, status);
      return requeue;
    }
    if (missed > 100) {
      const msg = `too many missed start times: ${missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`;
      void this.deps.events.record(cj, "Warning", "TooManyMissedTimes", msg, COMPONENT);
    }
    const name = jobName(cj, time);
    if (!owned.some((j) => j.metadata.name === name)) {
      if (spec.concurrencyPolicy === "Forbid" && active.length > 0) {
        const msg = "Not starting job because prior execution is running and concurrency policy is Forbid";
        void this.deps.events.record(cj, "Normal", "JobAlreadyActive", msg, COMPONENT);
        await this.finish(cj, prev, status);
        return requeue;
      }
      if (spec.concurrencyPolicy === "Replace") {
        for (const ref of [...active]) {
          const j = byUid.get(ref.uid ?? "");
          if (j) await this.deleteJob(cj, j);
        }
        active.length = 0;
      }
      const created = await this.createJob(cj, time, formatInZone(time, schedule.timeZone));
      if (created && !active.some((r) => r.uid === created.metadata.uid)) active.push(jobRef(created));
    }
    status.lastScheduleTime = metaTime(time);
    await this.finish(cj, prev, status);
    return requeue;
  }

  private async createJob(
    cj: KubeObject,
    time: Date,
    scheduledText: string,
  ): Promise<KubeObject | undefined> {
    const ns = cj.metadata.namespace;
    const job = jobFromTemplate(cj, time, scheduledText);
    try {
      const created = await this.deps.client.create(refs.jobs, ns, job);
      await this.informers.awaitWrite(refs.jobs, created);
      void this.deps.events.record(
        cj,
        "Normal",
        "SuccessfulCreate",
        `Created job ${created.metadata.name}`,
        COMPONENT,
      );
      return created;
    } catch (e) {
      if (!isConflict(e)) {
        void this.deps.events.record(
          cj,
          "Warning",
          "FailedCreate",
          `Error creating job: ${(e as Error).message}`,
          COMPONENT,
        );
        throw e;
      }
      // already made by an earlier sync that did not get to record it
      const existing = await this.deps.client.get(refs.jobs, ns, job.metadata.name ?? "");
      return existing && isControlledBy(existing, cj) ? existing : undefined;
    }
  }

  private async deleteJob(cj: KubeObject, job: KubeObject): Promise<void> {
    try {
      await this.deps.client.delete(refs.jobs, job.metadata.namespace, job.metadata.name ?? "", {
        propagationPolicy: "Background",
        preconditions: { uid: job.metadata.uid ?? "" },
      });
      void this.deps.events.record(
        cj,
        "Normal",
        "SuccessfulDelete",
        `Deleted job ${job.metadata.name}`,
        COMPONENT,
      );
    } catch (e) {
      if (!isNotFound(e) && !isConflict(e)) throw e;
    }
    await this.informers.awaitDelete(refs.jobs, keyOf(job));
  }

  private async finish(cj: KubeObject, prev: CronJobStatus, next: CronJobStatus): Promise<void> {
    const clean: CronJobStatus = { ...next };
    if (clean.active?.length === 0) delete clean.active;
    if (isDeepStrictEqual(prev, clean)) return;
    try {
      const written = await this.deps.client.mutate(
        refs.cronjobs,
        cj.metadata.namespace,
        cj.metadata.name ?? "",
        (o) => ({ ...o, status: clean }),
        { status: true },
      );
      await this.informers.awaitWrite(refs.cronjobs, written);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}
