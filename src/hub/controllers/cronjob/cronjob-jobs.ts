/**
 * The Jobs a CronJob owns: how one is built for a schedule time, which are active, and which
 * finished ones fall out of the history limits (upstream cronjob utils).
 *
 * Design notes
 * - Name `<cronjob>-<minutes since the epoch of the scheduled time>`: deterministic, so a
 *   retried sync after a crash finds the job it already made (AlreadyExists) instead of
 *   starting a second run.
 * - The job copies jobTemplate's labels/annotations and adds
 *   `batch.kubernetes.io/cronjob-scheduled-timestamp` (RFC 3339 in the schedule's zone).
 */
import { cloneJson, type KubeObject } from "../../../api/object.js";
import { isJobFinished, jobCondition } from "../job/job-plan.js";
import { newControllerRef } from "../workload-common/pods.js";

export const SCHEDULED_TIMESTAMP_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp";

export interface CronJobSpec {
  schedule?: string;
  timeZone?: string;
  startingDeadlineSeconds?: number;
  concurrencyPolicy?: "Allow" | "Forbid" | "Replace";
  suspend?: boolean;
  successfulJobsHistoryLimit?: number;
  failedJobsHistoryLimit?: number;
  jobTemplate?: {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
    spec?: unknown;
  };
}

export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

export interface CronJobStatus {
  active?: ObjectReference[];
  lastScheduleTime?: string;
  lastSuccessfulTime?: string;
}

export function jobName(cj: KubeObject, scheduled: Date): string {
  return `${cj.metadata.name}-${Math.floor(scheduled.getTime() / 60000)}`;
}

export function jobFromTemplate(cj: KubeObject, scheduled: Date, scheduledText: string): KubeObject {
  const spec = (cj.spec ?? {}) as CronJobSpec;
  const t = cloneJson(spec.jobTemplate ?? {});
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: jobName(cj, scheduled),
      namespace: cj.metadata.namespace,
      labels: { ...(t.metadata?.labels ?? {}) },
      annotations: { ...(t.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP_ANNOTATION]: scheduledText },
      ownerReferences: [newControllerRef(cj)],
    },
    spec: t.spec ?? {},
  };
}

export function jobRef(job: KubeObject): ObjectReference {
  return {
    kind: "Job",
    namespace: job.metadata.namespace,
    name: job.metadata.name,
    uid: job.metadata.uid,
    apiVersion: "batch/v1",
    resourceVersion: job.metadata.resourceVersion,
  };
}

export function isJobSucceeded(job: KubeObject): boolean {
  return !!jobCondition(job, "Complete");
}

function startOf(job: KubeObject): string {
  const s = (job.status ?? {}) as { startTime?: string };
  return s.startTime ?? job.metadata.creationTimestamp ?? "";
}

/** finished jobs beyond the history limits, oldest first (upstream cleanupFinishedJobs) */
export function jobsOverHistoryLimit(cj: KubeObject, jobs: KubeObject[]): KubeObject[] {
  const spec = (cj.spec ?? {}) as CronJobSpec;
  const out: KubeObject[] = [];
  const pick = (list: KubeObject[], limit: number | undefined) => {
    if (limit === undefined || limit === null) return;
    const sorted = [...list].sort((a, b) => startOf(a).localeCompare(startOf(b)));
    out.push(...sorted.slice(0, Math.max(0, sorted.length - limit)));
  };
  const finished = jobs.filter(isJobFinished);
  pick(finished.filter(isJobSucceeded), spec.successfulJobsHistoryLimit);
  pick(
    finished.filter((j) => !isJobSucceeded(j)),
    spec.failedJobsHistoryLimit,
  );
  return out;
}

/** the latest completionTime among succeeded jobs, or the recorded one if later */
export function lastSuccessfulTime(prev: string | undefined, jobs: KubeObject[]): string | undefined {
  let best = prev;
  for (const j of jobs) {
    if (!isJobSucceeded(j)) continue;
    const t = ((j.status ?? {}) as { completionTime?: string }).completionTime;
    if (t && (!best || Date.parse(t) > Date.parse(best))) best = t;
  }
  return best;
}
