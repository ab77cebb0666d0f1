/**
 * apps/v1 printers: deployments, replicasets, daemonsets, statefulsets (upstream printers.go v1.32).
 *
 * Design notes:
 * - READY of deployments and statefulsets is "ready/desired" text; the other counters are
 *   integers, as upstream's int64 cells.
 * - spec.replicas defaults to 1 (the API default), so a deployment created without replicas
 *   prints "0/1" rather than "0/0".
 * - The deployment SELECTOR uses the plain selector string ("" for none) while replicasets and
 *   daemonsets use FormatLabelSelector ("<none>"): two different upstream helpers.
 */
import type { DaemonSet, Deployment, ReplicaSet, StatefulSet } from "kubernetes-types/apps/v1";
import { D } from "./descriptions.js";
import { formatLabelSelector, formatLabels, labelSelectorString } from "./format.js";
import { AGE_COLUMN, ageOf, column, NAME_COLUMN, nameOf, printer } from "./printer.js";
import { podTemplateCells, podTemplateColumns } from "./template-columns.js";

const READY = column("Ready", "string", "Number of the pod with ready state");

export const deploymentPrinter = printer<Deployment>(
  [
    NAME_COLUMN,
    READY,
    column("Up-to-date", "string", D.deploymentStatusUpdatedReplicas),
    column("Available", "string", D.deploymentStatusAvailableReplicas),
    AGE_COLUMN,
    ...podTemplateColumns(D.deploymentSpecSelector),
  ],
  (d, now) => {
    const s = d.status;
    return [
      nameOf(d),
      `${s?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`,
      s?.updatedReplicas ?? 0,
      s?.availableReplicas ?? 0,
      ageOf(d, now),
      ...podTemplateCells(
        d.spec?.template?.spec?.containers,
        labelSelectorString(d.spec?.selector) ?? "<invalid>",
      ),
    ];
  },
);

export const replicaSetPrinter = printer<ReplicaSet>(
  [
    NAME_COLUMN,
    column("Desired", "integer", D.replicaSetSpecReplicas),
    column("Current", "integer", D.replicaSetStatusReplicas),
    column("Ready", "integer", D.replicaSetStatusReadyReplicas),
    AGE_COLUMN,
    ...podTemplateColumns(D.replicaSetSpecSelector),
  ],
  (rs, now) => {
    return [
      nameOf(rs),
      rs.spec?.replicas ?? 1,
      rs.status?.replicas ?? 0,
      rs.status?.readyReplicas ?? 0,
      ageOf(rs, now),
      ...podTemplateCells(rs.spec?.template?.spec?.containers, formatLabelSelector(rs.spec?.selector)),
    ];
  },
);

export const daemonSetPrinter = printer<DaemonSet>(
  [
    NAME_COLUMN,
    column("Desired", "integer", D.daemonSetStatusDesiredNumberScheduled),
    column("Current", "integer", D.daemonSetStatusCurrentNumberScheduled),
    column("Ready", "integer", D.daemonSetStatusNumberReady),
    column("Up-to-date", "integer", D.daemonSetStatusUpdatedNumberScheduled),
    column("Available", "integer", D.daemonSetStatusNumberAvailable),
    column("Node Selector", "string", D.podSpecNodeSelector),
    AGE_COLUMN,
    ...podTemplateColumns(D.daemonSetSpecSelector),
  ],
  (ds, now) => {
    const podSpec = ds.spec?.template?.spec;
    const s = ds.status;
    return [
      nameOf(ds),
      s?.desiredNumberScheduled ?? 0,
      s?.currentNumberScheduled ?? 0,
      s?.numberReady ?? 0,
      s?.updatedNumberScheduled ?? 0,
      s?.numberAvailable ?? 0,
      formatLabels(podSpec?.nodeSelector),
      ageOf(ds, now),
      ...podTemplateCells(podSpec?.containers, formatLabelSelector(ds.spec?.selector)),
    ];
  },
);

export const statefulSetPrinter = printer<StatefulSet>(
  [NAME_COLUMN, READY, AGE_COLUMN, ...podTemplateColumns()],
  (ss, now) => [
    nameOf(ss),
    `${ss.status?.readyReplicas ?? 0}/${ss.spec?.replicas ?? 1}`,
    ageOf(ss, now),
    ...podTemplateCells(ss.spec?.template?.spec?.containers),
  ],
);
