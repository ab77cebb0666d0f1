/**
 * The wide columns every workload printer ends with (upstream printers.go v1.32): the pod
 * template's Containers and Images, then the workload's Selector (StatefulSet has none).
 *
 * Design notes:
 * - Columns and cells come from one place so the two can never drift apart: a printer spreads
 *   podTemplateColumns(...) into its columns and podTemplateCells(...) into its row at the
 *   same position.
 * - The selector cell is formatted by the caller: Deployments print the plain selector string
 *   while ReplicaSets, DaemonSets, Jobs and CronJobs use FormatLabelSelector ("<none>").
 */
import type { ColumnDefinition } from "../resource-info.js";
import { layoutContainerCells } from "./format.js";
import { wide } from "./printer.js";

const CONTAINERS = wide("Containers", "string", "Names of each container in the template.");
const IMAGES = wide("Images", "string", "Images referenced by each container in the template.");

type Containers = readonly { name?: string; image?: string }[] | undefined;

/** Containers, Images and, when a description is given, Selector (all priority 1) */
export function podTemplateColumns(selectorDescription?: string): ColumnDefinition[] {
  return selectorDescription === undefined
    ? [CONTAINERS, IMAGES]
    : [CONTAINERS, IMAGES, wide("Selector", "string", selectorDescription)];
}

/** the cells of podTemplateColumns: pass a selector cell exactly when the Selector column is there */
export function podTemplateCells(containers: Containers, selector?: string): string[] {
  const [names, images] = layoutContainerCells(containers);
  return selector === undefined ? [names, images] : [names, images, selector];
}
