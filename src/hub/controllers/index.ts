/**
 * The controller manager's list: every controller the hub runs, built from shared deps.
 * (The namespace controller predates this list and is started by the hub directly.)
 */
import type { Controller, ControllerDeps } from "./controller.js";
import { DeploymentController } from "./deployment/deployment-controller.js";
import { GarbageCollector } from "./gc/garbage-collector.js";
import { ReplicaSetController } from "./replicaset/replicaset-controller.js";
import { SharedInformers } from "./shared-informers.js";

export type { Controller, ControllerDeps } from "./controller.js";
export { EventRecorder } from "./events.js";

export interface ControllerOptions {
  clusterCIDR: string;
}

export function createControllers(deps: ControllerDeps, _opts: ControllerOptions): Controller[] {
  const informers = new SharedInformers(deps.client, deps.logger);
  return [
    new ReplicaSetController(deps, { informers }),
    new DeploymentController(deps, { informers }),
    new GarbageCollector(deps, { informers }),
  ];
}
