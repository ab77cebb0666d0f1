/**
 * Workload defaults: apps/v1 (Deployment, ReplicaSet, DaemonSet, StatefulSet), batch/v1
 * (Job, CronJob) and core/v1 (ReplicationController, PodTemplate), each also defaulting the
 * pod template it carries.
 *
 * Design notes:
 * - Values and their conditions follow upstream's defaults.go files; e.g. a Deployment's
 *   rollingUpdate is only filled in when the strategy is RollingUpdate, and a Job with neither
 *   completions nor parallelism gets 1/1 but one with parallelism alone keeps completions unset.
 * - Job selectors are generated from the Job's uid (upstream does it in the Job strategy,
 *   after the uid is assigned), so `generateJobSelector` runs only once a uid exists.
 */

import { ensureObject, objAt, objectsAt, setDefault } from "../json-access.js";
import type { JsonObject } from "../object.js";
import { isObject } from "../object.js";
import { setPvcDefaults } from "./core.js";
import { setPodTemplateDefaults } from "./pod.js";

export function setDeploymentDefaults(d: JsonObject): void {
  const spec = ensureObject(d, "spec");
  setDefault(spec, "replicas", 1);
  const strategy = ensureObject(spec, "strategy");
  setDefault(strategy, "type", "RollingUpdate");
  if (strategy.type === "RollingUpdate") {
    const ru = ensureObject(strategy, "rollingUpdate");
    setDefault(ru, "maxUnavailable", "25%");
    setDefault(ru, "maxSurge", "25%");
  }
  setDefault(spec, "revisionHistoryLimit", 10);
  setDefault(spec, "progressDeadlineSeconds", 600);
  setPodTemplateDefaults(ensureObject(spec, "template"));
}

export function setReplicaSetDefaults(rs: JsonObject): void {
  const spec = ensureObject(rs, "spec");
  setDefault(spec, "replicas", 1);
  setPodTemplateDefaults(ensureObject(spec, "template"));
}

/** core/v1 ReplicationController: selector and labels also default to the template's labels */
export function setReplicationControllerDefaults(rc: JsonObject): void {
  const spec = ensureObject(rc, "spec");
  const template = ensureObject(spec, "template");
  const tLabels = objAt(objAt(template.metadata).labels);
  if (Object.keys(tLabels).length > 0) {
    if (!isObject(spec.selector) || Object.keys(spec.selector).length === 0) spec.selector = { ...tLabels };
    const meta = ensureObject(rc, "metadata");
    if (!isObject(meta.labels) || Object.keys(meta.labels).length === 0) meta.labels = { ...tLabels };
  }
  setDefault(spec, "replicas", 1);
  setPodTemplateDefaults(template);
}

export function setDaemonSetDefaults(ds: JsonObject): void {
  const spec = ensureObject(ds, "spec");
  const us = ensureObject(spec, "updateStrategy");
  setDefault(us, "type", "RollingUpdate");
  if (us.type === "RollingUpdate") {
    const ru = ensureObject(us, "rollingUpdate");
    setDefault(ru, "maxUnavailable", 1);
    setDefault(ru, "maxSurge", 0);
  }
  setDefault(spec, "revisionHistoryLimit", 10);
  setPodTemplateDefaults(ensureObject(spec, "template"));
}

export function setStatefulSetDefaults(sts: JsonObject): void {
  const spec = ensureObject(sts, "spec");
  setDefault(spec, "podManagementPolicy", "OrderedReady");
  const us = ensureObject(spec, "updateStrategy");
  if (us.type === undefined || us.type === "") {
    us.type = "RollingUpdate";
    ensureObject(us, "rollingUpdate");
  }
  if (us.type === "RollingUpdate" && isObject(us.rollingUpdate)) setDefault(us.rollingUpdate, "partition", 0);
  const retention = ensureObject(spec, "persistentVolumeClaimRetentionPolicy");
  setDefault(retention, "whenDeleted", "Retain");
  setDefault(retention, "whenScaled", "Retain");
  setDefault(spec, "replicas", 1);
  setDefault(spec, "revisionHistoryLimit", 10);
  setPodTemplateDefaults(ensureObject(spec, "template"));
  for (const pvc of objectsAt(spec.volumeClaimTemplates)) {
    setDefault(pvc, "apiVersion", "v1");
    setDefault(pvc, "kind", "PersistentVolumeClaim");
    const meta = ensureObject(pvc, "metadata");
    if (!("creationTimestamp" in meta)) meta.creationTimestamp = null;
    setPvcDefaults(pvc);
  }
}

export function setJobDefaults(job: JsonObject): void {
  const spec = ensureObject(job, "spec");
  const hasCompletions = spec.completions !== undefined && spec.completions !== null;
  const hasParallelism = spec.parallelism !== undefined && spec.parallelism !== null;
  if (!hasCompletions && !hasParallelism) spec.completions = 1;
  setDefault(spec, "parallelism", 1);
  const perIndex = spec.backoffLimitPerIndex !== undefined && spec.backoffLimitPerIndex !== null;
  setDefault(spec, "backoffLimit", perIndex ? 2147483647 : 6);
  setDefault(spec, "completionMode", "NonIndexed");
  setDefault(spec, "suspend", false);
  setDefault(
    spec,
    "podReplacementPolicy",
    isObject(spec.podFailurePolicy) ? "Failed" : "TerminatingOrFailed",
  );
  for (const rule of objectsAt(objAt(spec.podFailurePolicy).rules)) {
    for (const cond of objectsAt(rule.onPodConditions)) setDefault(cond, "status", "True");
  }
  const template = ensureObject(spec, "template");
  setPodTemplateDefaults(template, { keepRestartPolicy: true });
  // a Job without labels takes its template's labels
  const tLabels = objAt(objAt(template.metadata).labels);
  const meta = ensureObject(job, "metadata");
  if (Object.keys(tLabels).length > 0 && (!isObject(meta.labels) || Object.keys(meta.labels).length === 0)) {
    meta.labels = { ...tLabels };
  }
  if (typeof meta.uid === "string" && meta.uid !== "" && spec.manualSelector !== true)
    generateJobSelector(job);
}

export const JOB_NAME_LABELS = ["job-name", "batch.kubernetes.io/job-name"] as const;
export const CONTROLLER_UID_LABELS = ["controller-uid", "batch.kubernetes.io/controller-uid"] as const;

/**
 * The Job strategy's generated selector: template labels carry the job name and uid, and the
 * selector picks `batch.kubernetes.io/controller-uid=<uid>`. Labels the user set are kept
 * (a conflict is then reported by validation).
 */
export function generateJobSelector(job: JsonObject): void {
  const meta = objAt(job.metadata);
  const spec = ensureObject(job, "spec");
  const tMeta = ensureObject(ensureObject(spec, "template"), "metadata");
  const labels = ensureObject(tMeta, "labels");
  for (const l of JOB_NAME_LABELS) if (!(l in labels)) labels[l] = meta.name ?? "";
  for (const l of CONTROLLER_UID_LABELS) if (!(l in labels)) labels[l] = meta.uid ?? "";
  const matchLabels = ensureObject(ensureObject(spec, "selector"), "matchLabels");
  const uidLabel = CONTROLLER_UID_LABELS[1];
  if (!(uidLabel in matchLabels)) matchLabels[uidLabel] = meta.uid ?? "";
}

export function setCronJobDefaults(cj: JsonObject): void {
  const spec = ensureObject(cj, "spec");
  setDefault(spec, "concurrencyPolicy", "Allow");
  setDefault(spec, "suspend", false);
  setDefault(spec, "successfulJobsHistoryLimit", 3);
  setDefault(spec, "failedJobsHistoryLimit", 1);
  const jt = ensureObject(spec, "jobTemplate");
  const jtMeta = ensureObject(jt, "metadata");
  if (!("creationTimestamp" in jtMeta)) jtMeta.creationTimestamp = null;
  setPodTemplateDefaults(ensureObject(ensureObject(jt, "spec"), "template"), { keepRestartPolicy: true });
}

export function setPodTemplateObjectDefaults(pt: JsonObject): void {
  setPodTemplateDefaults(ensureObject(pt, "template"));
}
