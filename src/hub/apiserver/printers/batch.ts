/**
 * batch/v1 printers: jobs (NAME STATUS COMPLETIONS DURATION AGE) and cronjobs
 * (NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE), upstream printers.go v1.32.
 *
 * Design notes:
 * - Job STATUS follows upstream's precedence: Complete, Failed, Terminating (deletionTimestamp),
 *   Suspended, FailureTarget, else Running; a condition counts only when its status is "True".
 * - COMPLETIONS is "succeeded/completions"; without completions it is "n/1", or "n/1 of p" for
 *   parallel work queues. DURATION runs until now while the job has no completionTime.
 */
import type { CronJob, Job, JobCondition } from "kubernetes-types/batch/v1";
import { D } from "./descriptions.js";
import { humanDuration, parseTime, since } from "./duration.js";
import { boolPtr, formatLabelSelector } from "./format.js";
import { AGE_COLUMN, ageOf, column, NAME_COLUMN, nameOf, printer } from "./printer.js";
import { podTemplateCells, podTemplateColumns } from "./template-columns.js";

/** hasJobCondition: the first condition of the type decides. */
function hasCondition(conds: readonly JobCondition[] | undefined, type: string): boolean {
  const c = (conds ?? []).find((x) => x.type === type);
  return c?.status === "True";
}

export function jobStatus(job: Job): string {
  const conds = job.status?.conditions;
  if (hasCondition(conds, "Complete")) return "Complete";
  if (hasCondition(conds, "Failed")) return "Failed";
  if (job.metadata?.deletionTimestamp) return "Terminating";
  if (hasCondition(conds, "Suspended")) return "Suspended";
  if (hasCondition(conds, "FailureTarget")) return "FailureTarget";
  return "Running";
}

function jobCompletions(job: Job): string {
  const succeeded = job.status?.succeeded ?? 0;
  const completions = job.spec?.completions;
  if (completions !== undefined && completions !== null) return `${succeeded}/${completions}`;
  const parallelism = job.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function jobDuration(job: Job, now: Date): string {
  const start = parseTime(job.status?.startTime);
  if (!start) return "";
  const end = parseTime(job.status?.completionTime) ?? now;
  return humanDuration(end.getTime() - start.getTime());
}

export const jobPrinter = printer<Job>(
  [
    NAME_COLUMN,
    column("Status", "string", "Status of the job."),
    column("Completions", "string", D.jobStatusSucceeded),
    column("Duration", "string", "Time required to complete the job."),
    AGE_COLUMN,
    ...podTemplateColumns(D.jobSpecSelector),
  ],
  (job, now) => {
    return [
      nameOf(job),
      jobStatus(job),
      jobCompletions(job),
      jobDuration(job, now),
      ageOf(job, now),
      ...podTemplateCells(job.spec?.template?.spec?.containers, formatLabelSelector(job.spec?.selector)),
    ];
  },
);

export const cronJobPrinter = printer<CronJob>(
  [
    NAME_COLUMN,
    column("Schedule", "string", D.cronJobSpecSchedule),
    column("Timezone", "string", D.cronJobSpecTimeZone),
    column("Suspend", "boolean", D.cronJobSpecSuspend),
    column("Active", "integer", D.cronJobStatusActive),
    column("Last Schedule", "string", D.cronJobStatusLastScheduleTime),
    AGE_COLUMN,
    ...podTemplateColumns(D.jobSpecSelector),
  ],
  (cj, now) => {
    const jobSpec = cj.spec?.jobTemplate?.spec;
    const last = cj.status?.lastScheduleTime;
    return [
      nameOf(cj),
      cj.spec?.schedule ?? "",
      cj.spec?.timeZone ?? "<none>",
      boolPtr(cj.spec?.suspend),
      (cj.status?.active ?? []).length,
      last ? since(last, now) : "<none>",
      ageOf(cj, now),
      ...podTemplateCells(jobSpec?.template?.spec?.containers, formatLabelSelector(jobSpec?.selector)),
    ];
  },
);
