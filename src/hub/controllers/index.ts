/**
 * The controller manager's list: every controller the hub runs, built from shared deps.
 * (The namespace controller predates this list and is started by the hub directly.)
 */
import type { Controller, ControllerDeps } from "./controller.js";
import { DisruptionController } from "./disruption/disruption-controller.js";
import { NodeIpamController } from "./node-lifecycle/node-ipam-controller.js";
import { NodeLifecycleController } from "./node-lifecycle/node-lifecycle-controller.js";
import { workloadControllers } from "./workload-common/workload-controllers.js";

export type { Controller, ControllerDeps } from "./controller.js";
export { EventRecorder } from "./events.js";

export interface ControllerOptions {
  clusterCIDR: string;
  /** lease age after which a node turns Ready=Unknown (default 40 s) */
  nodeMonitorGracePeriodSeconds?: number;
  /** delete pods of unreachable nodes after this many seconds (default: never) */
  podEvictionTimeoutSeconds?: number;
}

export function createControllers(deps: ControllerDeps, opts: ControllerOptions): Controller[] {
  return [
    ...workloadControllers(deps),
    new NodeIpamController(deps, opts.clusterCIDR),
    new NodeLifecycleController(deps, {
      gracePeriodSeconds: opts.nodeMonitorGracePeriodSeconds,
      podEvictionTimeoutSeconds: opts.podEvictionTimeoutSeconds,
    }),
    new DisruptionController(deps),
  ];
}
