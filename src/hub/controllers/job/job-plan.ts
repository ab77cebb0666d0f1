/**
 * What one Job sync does (upstream job_controller syncJob), as a pure function of the Job,
 * its pods and the clock.
 *
 * Design notes
 * - Terminal states follow 1.32: first an interim condition (SuccessCriteriaMet or
 *   FailureTarget) while remaining pods are removed, then — once no pod of the Job is still
 *   active or terminating — the terminal Complete/Failed with the same reason and message
 *   (and completionTime for Complete). `kubectl wait --for=condition=complete` sees that.
 * - Counting is simplified (no job-tracking finalizer): succeeded/failed are the larger of
 *   the recorded count and the finished pods still present, so deleting a finished pod never
 *   lowers them; uncountedTerminatedPods stays empty.
 * - Failures, in upstream's order: a podFailurePolicy FailJob rule → PodFailurePolicy;
 *   failed > backoffLimit (or, with restartPolicy OnFailure, container restarts of active
 *   pods reaching it) → BackoffLimitExceeded; startTime + activeDeadlineSeconds passed →
 *   DeadlineExceeded. Pods an Ignore rule matches are not counted as failed.
 * - A replacement after a failure waits for the pod-failure backoff (job-backoff.ts);
 *   requeueAfterMs then says when to try again.
 * - NonIndexed only: pods are generateName `<job>-`; Indexed jobs are run the same way.
 */
import type { KubeObject } from "../../../api/object.js";
import { metaTime } from "../../../api/time.js";
import { isFinished, isPodReady, isTerminating, podPhase } from "../workload-common/pods.js";
import { backoffRecord, remainingBackoffMs } from "./job-backoff.js";
import { failJobMessage, failureCounts, type PodFailurePolicy } from "./pod-failure-policy.js";

export interface JobCondition {
  type: string;
  status: string;
  lastProbeTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface JobSpec {
  completions?: number;
  parallelism?: number;
  backoffLimit?: number;
  activeDeadlineSeconds?: number;
  ttlSecondsAfterFinished?: number;
  suspend?: boolean;
  podFailurePolicy?: PodFailurePolicy;
  template?: unknown;
}

export interface JobStatus {
  active?: number;
  ready?: number;
  terminating?: number;
  succeeded?: number;
  failed?: number;
  startTime?: string;
  completionTime?: string;
  conditions?: JobCondition[];
  uncountedTerminatedPods?: Record<string, unknown>;
}

export interface JobPlan {
  create: number;
  /** active pods to remove (excess parallelism, or the job is finishing) */
  delete: KubeObject[];
  status: JobStatus;
  /** a condition newly set in this sync, for the event */
  event?: { type: "Normal" | "Warning"; reason: string; message: string };
  requeueAfterMs?: number;
}

export const MSG = {
  completions: "Reached expected number of succeeded pods",
  backoff: "Job has reached the specified backoff limit",
  deadline: "Job was active longer than specified deadline",
} as const;

/** restartPolicy OnFailure: container restarts of pending/running pods count as failures */
function pastBackoffLimitOnFailure(spec: JobSpec, pods: readonly KubeObject[]): boolean {
  const tmpl = (spec.template ?? {}) as { spec?: { restartPolicy?: string } };
  if (tmpl.spec?.restartPolicy !== "OnFailure") return false;
  let restarts = 0;
  for (const p of pods) {
    const phase = podPhase(p);
    if (phase !== "Running" && phase !== "Pending") continue;
    const st = (p.status ?? {}) as {
      initContainerStatuses?: { restartCount?: number }[];
      containerStatuses?: { restartCount?: number }[];
    };
    for (const cs of [...(st.initContainerStatuses ?? []), ...(st.containerStatuses ?? [])])
      restarts += cs.restartCount ?? 0;
  }
  const limit = spec.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

export function jobCondition(job: KubeObject, type: string): JobCondition | undefined {
  const conds = ((job.status ?? {}) as JobStatus).conditions ?? [];
  return conds.find((c) => c.type === type && c.status === "True");
}

export function isJobFinished(job: KubeObject): boolean {
  return !!(jobCondition(job, "Complete") ?? jobCondition(job, "Failed"));
}

function withCondition(conds: JobCondition[], c: JobCondition): JobCondition[] {
  return [...conds.filter((x) => x.type !== c.type), c];
}

export function planJob(job: KubeObject, pods: KubeObject[], now: Date): JobPlan {
  const spec = (job.spec ?? {}) as JobSpec;
  const prev = (job.status ?? {}) as JobStatus;
  const t = metaTime(now);
  const active = pods.filter((p) => !isFinished(p) && !isTerminating(p));
  const terminating = pods.filter((p) => !isFinished(p) && isTerminating(p));
  const succeeded = Math.max(prev.succeeded ?? 0, pods.filter((p) => podPhase(p) === "Succeeded").length);
  const counts = (p: KubeObject) => failureCounts(spec.podFailurePolicy, p);
  const failed = Math.max(prev.failed ?? 0, pods.filter((p) => podPhase(p) === "Failed" && counts(p)).length);
  let conditions = [...(prev.conditions ?? [])];
  const status: JobStatus = {
    ...prev,
    startTime: prev.startTime ?? t,
    succeeded,
    failed,
    uncountedTerminatedPods: {},
  };
  let event: JobPlan["event"];
  let del: KubeObject[] = [];
  let create = 0;
  let requeueAfterMs: number | undefined;

  const cond = (type: string, reason: string, message: string): JobCondition => ({
    type,
    status: "True",
    lastProbeTime: t,
    lastTransitionTime: t,
    reason,
    message,
  });
  const interimFail = conditions.find((c) => c.type === "FailureTarget" && c.status === "True");
  const interimOk = conditions.find((c) => c.type === "SuccessCriteriaMet" && c.status === "True");
  const startMs = Date.parse(status.startTime ?? t);

  if (!interimFail && !interimOk) {
    const completions = spec.completions;
    const complete =
      completions !== undefined && completions !== null
        ? succeeded >= completions
        : succeeded > 0 && active.length === 0;
    const deadline = spec.activeDeadlineSeconds;
    const policyFailure = failJobMessage(spec.podFailurePolicy, pods);
    if (policyFailure !== undefined) {
      conditions = withCondition(conditions, cond("FailureTarget", "PodFailurePolicy", policyFailure));
    } else if (failed > (spec.backoffLimit ?? 6) || pastBackoffLimitOnFailure(spec, pods)) {
      conditions = withCondition(conditions, cond("FailureTarget", "BackoffLimitExceeded", MSG.backoff));
    } else if (deadline !== undefined && deadline !== null && now.getTime() >= startMs + deadline * 1000) {
      conditions = withCondition(conditions, cond("FailureTarget", "DeadlineExceeded", MSG.deadline));
    } else if (complete) {
      conditions = withCondition(
        conditions,
        cond("SuccessCriteriaMet", "CompletionsReached", MSG.completions),
      );
    } else if (!spec.suspend) {
      const parallelism = spec.parallelism ?? 1;
      const remaining =
        completions !== undefined && completions !== null
          ? completions - succeeded
          : succeeded > 0
            ? 0
            : parallelism;
      const want = Math.max(0, Math.min(parallelism, remaining));
      if (deadline !== undefined && deadline !== null)
        requeueAfterMs = Math.max(0, startMs + deadline * 1000 - now.getTime()) + 50;
      if (active.length < want) {
        const wait = remainingBackoffMs(backoffRecord(pods, counts), now.getTime());
        if (wait > 0) requeueAfterMs = Math.min(requeueAfterMs ?? Number.POSITIVE_INFINITY, wait);
        else create = want - active.length;
      } else if (active.length > want) del = pickExcess(active, active.length - want);
    } else {
      del = active;
    }
  }
  const target = conditions.find(
    (c) => (c.type === "FailureTarget" || c.type === "SuccessCriteriaMet") && c.status === "True",
  );
  if (target) {
    del = active;
    if (active.length === 0 && terminating.length === 0) {
      const ok = target.type === "SuccessCriteriaMet";
      conditions = withCondition(
        conditions,
        cond(ok ? "Complete" : "Failed", target.reason ?? "", target.message ?? ""),
      );
      if (ok) status.completionTime = t;
      event = ok
        ? { type: "Normal", reason: "Completed", message: "Job completed" }
        : { type: "Warning", reason: target.reason ?? "Failed", message: target.message ?? "" };
      requeueAfterMs = ttlRequeue(spec, now, now);
    }
  }
  status.active = active.length - del.length + create;
  status.ready = active.filter((p) => isPodReady(p) && !del.includes(p)).length;
  status.terminating = terminating.length + del.length;
  status.conditions = conditions;
  if (conditions.length === 0) delete status.conditions;
  return {
    create,
    delete: del,
    status,
    ...(event ? { event } : {}),
    ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}),
  };
}

/** prefer removing pods that are not ready, then the newest (upstream's ActivePods order) */
function pickExcess(active: KubeObject[], n: number): KubeObject[] {
  const ranked = [...active].sort((a, b) => {
    const ra = isPodReady(a) ? 1 : 0;
    const rb = isPodReady(b) ? 1 : 0;
    if (ra !== rb) return ra - rb;
    return String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp));
  });
  return ranked.slice(0, n);
}

/** when a finished job is due for deletion (ttlSecondsAfterFinished), from its finish time */
export function ttlRequeue(spec: JobSpec, finishedAt: Date, now: Date): number | undefined {
  const ttl = spec.ttlSecondsAfterFinished;
  if (ttl === undefined || ttl === null) return undefined;
  return Math.max(0, finishedAt.getTime() + ttl * 1000 - now.getTime()) + 50;
}

/** the time a finished job finished: completionTime or the Failed condition's transition */
export function finishTime(job: KubeObject): Date | undefined {
  const s = (job.status ?? {}) as JobStatus;
  const at =
    s.completionTime ??
    jobCondition(job, "Failed")?.lastTransitionTime ??
    jobCondition(job, "Complete")?.lastTransitionTime;
  return at ? new Date(at) : undefined;
}
