/**
 * The controller manager's list: every controller the hub runs, built from shared deps.
 * (The namespace controller predates this list and is started by the hub directly.)
 */
import type { Controller, ControllerDeps } from "./controller.js";
import { workloadControllers } from "./workload-common/workload-controllers.js";

export type { Controller, ControllerDeps } from "./controller.js";
export { EventRecorder } from "./events.js";

export interface ControllerOptions {
  clusterCIDR: string;
}

export function createControllers(deps: ControllerDeps, _opts: ControllerOptions): Controller[] {
  return [...workloadControllers(deps)];
}
