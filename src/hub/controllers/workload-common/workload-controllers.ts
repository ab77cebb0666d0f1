/**
 * The workload controllers (DaemonSet, StatefulSet, Job, CronJob) built over one set of
 * shared informers, so the controller manager holds one pod cache for all of them.
 */

import type { Controller, ControllerDeps } from "../controller.js";
import { CronJobController } from "../cronjob/cronjob-controller.js";
import { DaemonSetController } from "../daemonset/daemonset-controller.js";
import { JobController } from "../job/job-controller.js";
import { StatefulSetController } from "../statefulset/statefulset-controller.js";
import { SharedInformers } from "./shared-informers.js";

export function workloadControllers(
  deps: ControllerDeps,
  informers = new SharedInformers(deps.client),
): Controller[] {
  return [
    new DaemonSetController(deps, informers),
    new StatefulSetController(deps, informers),
    new JobController(deps, informers),
    new CronJobController(deps, informers),
  ];
}
