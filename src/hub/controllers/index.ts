/**
 * The controller manager's list: every controller the hub runs, built from shared deps.
 * (The namespace controller predates this list and is started by the hub directly.)
 */
import type { CustomResourceCatalog } from "../apiserver/custom-resources/index.js";
import type { Controller, ControllerDeps } from "./controller.js";
import { CrdController } from "./crd/index.js";
import {
  EndpointSliceController,
  EndpointsController,
  KubernetesServiceController,
} from "./endpoints/index.js";
import { PersistentVolumeController } from "./volume/index.js";

export type { Controller, ControllerDeps } from "./controller.js";
export { EventRecorder } from "./events.js";

export interface ControllerOptions {
  clusterCIDR: string;
  /** the hub's advertised node IP and bound HTTPS port, for the `kubernetes` service */
  apiserver?: { address?: string; port: number };
  /** the API server's CRD catalog (serves CRDs into the live registry) */
  customResources?: CustomResourceCatalog;
}

export function createControllers(deps: ControllerDeps, opts: ControllerOptions): Controller[] {
  return [
    new EndpointsController(deps),
    new EndpointSliceController(deps),
    ...(opts.apiserver ? [new KubernetesServiceController(deps, opts.apiserver)] : []),
    new PersistentVolumeController(deps),
    ...(opts.customResources ? [new CrdController(deps, opts.customResources)] : []),
  ];
}
