/**
 * The workload controllers (DaemonSet, StatefulSet, Job, CronJob) built over one set of
 * shared informers (the hub's factory), so the hub holds one pod cache for all of them.
 */

import type { Controller, ControllerDeps } from "../controller.js";
import { CronJobController } from "../cronjob/cronjob-controller.js";
import { DaemonSetController } from "../daemonset/daemonset-controller.js";
import { JobController } from "../job/job-controller.js";
import { StatefulSetController } from "../statefulset/statefulset-controller.js";

export function workloadControllers(deps: ControllerDeps, informers = deps.informers): Controller[] {
  return [
    new DaemonSetController(deps, informers),
    new StatefulSetController(deps, informers),
    new JobController(deps, informers),
    new CronJobController(deps, informers),
  ];
}
