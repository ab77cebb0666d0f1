/**
 * Which printer serves which resource: upstream registers one TableConvertor per storage, so
 * the lookup is by (group, resource), not by kind. Anything not listed here, built-in or
 * aggregated, gets the default Name / Created At table, as upstream's
 * DefaultTableConvertor does. CRDs get their own printer from crdPrinter().
 */
import { daemonSetPrinter, deploymentPrinter, replicaSetPrinter, statefulSetPrinter } from "./apps.js";
import { cronJobPrinter, jobPrinter } from "./batch.js";
import {
  configMapPrinter,
  endpointsPrinter,
  namespacePrinter,
  nodePrinter,
  resourceQuotaPrinter,
  secretPrinter,
  serviceAccountPrinter,
  servicePrinter,
} from "./core-misc.js";
import { podPrinter } from "./core-pods.js";
import { defaultPrinter } from "./default.js";
import { eventPrinter, eventsV1Printer } from "./events.js";
import { endpointSlicePrinter, ingressPrinter } from "./networking.js";
import type { TablePrinter } from "./printer.js";
import {
  clusterRoleBindingPrinter,
  leasePrinter,
  podDisruptionBudgetPrinter,
  roleBindingPrinter,
} from "./rbac-policy.js";
import { persistentVolumeClaimPrinter, persistentVolumePrinter, storageClassPrinter } from "./storage.js";

const PRINTERS: ReadonlyMap<string, TablePrinter> = new Map<string, TablePrinter>([
  ["/pods", podPrinter],
  ["/namespaces", namespacePrinter],
  ["/services", servicePrinter],
  ["/endpoints", endpointsPrinter],
  ["/nodes", nodePrinter],
  ["/configmaps", configMapPrinter],
  ["/secrets", secretPrinter],
  ["/serviceaccounts", serviceAccountPrinter],
  ["/events", eventPrinter],
  ["/persistentvolumes", persistentVolumePrinter],
  ["/persistentvolumeclaims", persistentVolumeClaimPrinter],
  ["/resourcequotas", resourceQuotaPrinter],
  ["apps/deployments", deploymentPrinter],
  ["apps/replicasets", replicaSetPrinter],
  ["apps/daemonsets", daemonSetPrinter],
  ["apps/statefulsets", statefulSetPrinter],
  ["batch/jobs", jobPrinter],
  ["batch/cronjobs", cronJobPrinter],
  ["discovery.k8s.io/endpointslices", endpointSlicePrinter],
  ["events.k8s.io/events", eventsV1Printer],
  ["storage.k8s.io/storageclasses", storageClassPrinter],
  ["coordination.k8s.io/leases", leasePrinter],
  ["networking.k8s.io/ingresses", ingressPrinter],
  ["rbac.authorization.k8s.io/rolebindings", roleBindingPrinter],
  ["rbac.authorization.k8s.io/clusterrolebindings", clusterRoleBindingPrinter],
  ["policy/poddisruptionbudgets", podDisruptionBudgetPrinter],
]);

/** The upstream printer for a built-in resource ("" is the core group), else the default table. */
export function printerFor(group: string, resource: string): TablePrinter {
  return PRINTERS.get(`${group}/${resource}`) ?? defaultPrinter;
}

/** Whether a resource has its own printer (the others fall back to the default table). */
export function hasPrinter(group: string, resource: string): boolean {
  return PRINTERS.has(`${group}/${resource}`);
}
