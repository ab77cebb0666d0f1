/**
 * The controller manager's list: every controller the hub runs, built from shared deps
 * (deps.informers is the hub's one informer factory, shared with the scheduler and edge).
 * (The namespace controller predates this list and is started by the hub directly.)
 */
import type { AddressPool } from "../../lb/index.js";
import type { CustomResourceCatalog } from "../apiserver/custom-resources/index.js";
import type { Controller, ControllerDeps } from "./controller.js";
import { CrdController } from "./crd/index.js";
import { DeploymentController } from "./deployment/deployment-controller.js";
import { DisruptionController } from "./disruption/disruption-controller.js";
import {
  EndpointSliceController,
  EndpointsController,
  KubernetesServiceController,
} from "./endpoints/index.js";
import { GarbageCollector } from "./gc/garbage-collector.js";
import { LoadBalancerController } from "./loadbalancer/index.js";
import { NodeIpamController } from "./node-lifecycle/node-ipam-controller.js";
import { NodeLifecycleController } from "./node-lifecycle/node-lifecycle-controller.js";
import { ReplicaSetController } from "./replicaset/replicaset-controller.js";
import { PersistentVolumeController, ProtectionController } from "./volume/index.js";
import { workloadControllers } from "./workload-common/workload-controllers.js";

export type { Controller, ControllerDeps } from "./controller.js";
export { EventRecorder } from "./events.js";
export { SharedInformers } from "./shared-informers.js";

export interface ControllerOptions {
  clusterCIDR: string;
  /** lease age after which a node turns Ready=Unknown (default 40 s) */
  nodeMonitorGracePeriodSeconds?: number;
  /** delete pods of unreachable nodes after this many seconds (default: never) */
  podEvictionTimeoutSeconds?: number;
  /** the hub's advertised node IP, bound HTTPS port and service IP, for the `kubernetes` service */
  apiserver?: { address?: string; port: number; serviceIP?: string };
  /** the API server's CRD catalog (serves CRDs into the live registry) */
  customResources?: CustomResourceCatalog;
  /** LoadBalancer address pools (MetalLB-style); absent or empty: klipper-style node addresses */
  loadBalancerPools?: readonly AddressPool[];
}

export function createControllers(deps: ControllerDeps, opts: ControllerOptions): Controller[] {
  return [
    new ReplicaSetController(deps),
    new DeploymentController(deps),
    new GarbageCollector(deps),
    ...workloadControllers(deps),
    new NodeIpamController(deps, opts.clusterCIDR),
    new NodeLifecycleController(deps, {
      gracePeriodSeconds: opts.nodeMonitorGracePeriodSeconds,
      podEvictionTimeoutSeconds: opts.podEvictionTimeoutSeconds,
    }),
    new DisruptionController(deps),
    new EndpointsController(deps),
    new EndpointSliceController(deps),
    ...(opts.apiserver ? [new KubernetesServiceController(deps, opts.apiserver)] : []),
    new PersistentVolumeController(deps),
    new ProtectionController(deps),
    new LoadBalancerController(deps, { pools: opts.loadBalancerPools ?? [] }),
    ...(opts.customResources ? [new CrdController(deps, opts.customResources)] : []),
  ];
}
