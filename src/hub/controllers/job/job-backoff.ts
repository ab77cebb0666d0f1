/**
 * Pod-failure backoff of the Job controller (upstream pkg/controller/job/backoff_utils.go):
 * after a pod fails, its replacement waits 10 s × 2^(failures − 1), capped at 10 min
 * (DefaultJobPodFailureBackOff / MaxJobPodFailureBackOff in 1.32), counted from the moment
 * the last failed pod finished.
 *
 * Design notes
 * - Upstream keeps an in-memory backoff record per Job, fed by the pods it sees finish.
 *   We derive the same record from the Job's pods on every sync instead, because this
 *   controller does not remove finished pods (no tracking finalizer): the failures that
 *   count are the failed pods that finished after the newest succeeded pod, and the
 *   clock starts at the newest of those failures. A hub restart therefore keeps the
 *   backoff (upstream forgets it), and deleting the failed pods resets it, as upstream's
 *   docs describe ("the back-off count is reset when a Job's Pod is deleted or successful").
 * - Finish time is upstream's getFinishedTime: the latest container finishedAt when every
 *   container terminated, else the Ready=False transition, else deletionTimestamp, else
 *   creationTimestamp.
 * - Pure: the caller passes the pods and the clock, so tests move time by hand.
 */
import type { KubeObject } from "../../../api/object.js";
import { podCondition, podPhase } from "../workload-common/pods.js";

export const DEFAULT_POD_FAILURE_BACKOFF_MS = 10_000;
export const MAX_POD_FAILURE_BACKOFF_MS = 10 * 60_000;

interface ContainerStatusLike {
  state?: { terminated?: { finishedAt?: string } };
}

function containersFinishedAt(pod: KubeObject): number | undefined {
  const statuses = ((pod.status ?? {}) as { containerStatuses?: ContainerStatusLike[] }).containerStatuses;
  let latest: number | undefined;
  for (const cs of statuses ?? []) {
    const at = cs.state?.terminated?.finishedAt;
    if (!at) return undefined; // a container still running (or never terminated): not usable
    const t = Date.parse(at);
    if (Number.isNaN(t)) return undefined;
    if (latest === undefined || t > latest) latest = t;
  }
  return latest;
}

/** when a finished pod finished (ms since the epoch) */
export function podFinishedAt(pod: KubeObject): number {
  const fromContainers = containersFinishedAt(pod);
  if (fromContainers !== undefined) return fromContainers;
  const ready = podCondition(pod, "Ready");
  if (ready?.status === "False" && ready.lastTransitionTime) {
    const t = Date.parse(ready.lastTransitionTime);
    if (!Number.isNaN(t)) return t;
  }
  const deleted = pod.metadata.deletionTimestamp;
  if (deleted) {
    const grace = pod.metadata.deletionGracePeriodSeconds ?? 0;
    const t = Date.parse(deleted);
    if (!Number.isNaN(t)) return t - grace * 1000;
  }
  const created = Date.parse(pod.metadata.creationTimestamp ?? "");
  return Number.isNaN(created) ? 0 : created;
}

export interface BackoffRecord {
  /** failed pods that finished after the newest success */
  failuresAfterLastSuccess: number;
  /** finish time of the newest of those failures (ms), undefined when there is none */
  lastFailureTime: number | undefined;
}

/**
 * The backoff record of a Job from its pods. `counts(pod)` says whether a failed pod counts
 * (pods ignored by the podFailurePolicy do not).
 */
export function backoffRecord(
  pods: readonly KubeObject[],
  counts: (pod: KubeObject) => boolean = () => true,
): BackoffRecord {
  let lastSuccess = Number.NEGATIVE_INFINITY;
  for (const p of pods) {
    if (podPhase(p) === "Succeeded") lastSuccess = Math.max(lastSuccess, podFinishedAt(p));
  }
  let failures = 0;
  let lastFailureTime: number | undefined;
  for (const p of pods) {
    if (podPhase(p) !== "Failed" || !counts(p)) continue;
    const at = podFinishedAt(p);
    if (at <= lastSuccess) continue;
    failures++;
    if (lastFailureTime === undefined || at > lastFailureTime) lastFailureTime = at;
  }
  return { failuresAfterLastSuccess: failures, lastFailureTime };
}

/** the delay before the next replacement pod, for this many failures: 10 s doubling, ≤ 10 min */
export function backoffDelayMs(
  failures: number,
  base = DEFAULT_POD_FAILURE_BACKOFF_MS,
  max = MAX_POD_FAILURE_BACKOFF_MS,
): number {
  if (failures <= 0) return 0;
  let d = base;
  for (let i = 1; i < failures; i++) {
    d *= 2;
    if (d >= max) return max;
  }
  return Math.min(d, max);
}

/** how long pod creation must still wait (0 = create now) */
export function remainingBackoffMs(record: BackoffRecord, nowMs: number): number {
  if (record.failuresAfterLastSuccess === 0 || record.lastFailureTime === undefined) return 0;
  const delay = backoffDelayMs(record.failuresAfterLastSuccess);
  const elapsed = nowMs - record.lastFailureTime;
  return elapsed >= delay ? 0 : delay - elapsed;
}
