/**
 * Pod table: NAME READY STATUS RESTARTS AGE | wide: IP NODE NOMINATED NODE READINESS GATES.
 *
 * Design notes (upstream printPod, pkg/printers/internalversion, v1.32):
 * - STATUS starts from status.reason or the phase, is overridden by SchedulingGated, then walks
 *   init containers in order (the first unfinished one decides: "Init:<reason>",
 *   "Init:ExitCode:N", "Init:Signal:N", "Init:i/n"), and once initialised walks the app containers
 *   from last to first, so the first container's waiting/terminated reason wins.
 * - Restartable init containers (sidecars, restartPolicy Always) count in READY's total and
 *   in RESTARTS; ordinary init containers' restarts only count while the pod is initialising.
 * - A deletionTimestamp makes a non-terminal pod "Terminating"; with reason NodeLost it is "Unknown".
 * - RESTARTS is a string column since 1.28: "3 (5m ago)" after the last container termination.
 * - Succeeded/Failed pods carry a row condition {type: Completed} that clients use to grey them out.
 */
import type { ContainerStatus, Pod, PodCondition } from "kubernetes-types/core/v1";
import type { KubeObject } from "../../../api/object.js";
import { D } from "./descriptions.js";
import { humanDuration, parseTime } from "./duration.js";
import {
  AGE_COLUMN,
  ageOf,
  column,
  NAME_COLUMN,
  nameOf,
  type TablePrinter,
  type TableRowCondition,
  wide,
} from "./printer.js";

const NODE_UNREACHABLE_POD_REASON = "NodeLost";

const podColumns = [
  NAME_COLUMN,
  column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
  column("Status", "string", "The aggregate status of the containers in this pod."),
  column(
    "Restarts",
    "string",
    "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
  ),
  AGE_COLUMN,
  wide("IP", "string", D.podStatusPodIP),
  wide("Node", "string", D.podSpecNodeName),
  wide("Nominated Node", "string", D.podStatusNominatedNodeName),
  wide("Readiness Gates", "string", D.podSpecReadinessGates),
];

function conditionTrue(conds: readonly PodCondition[] | undefined, type: string): boolean {
  const c = (conds ?? []).find((x) => x.type === type);
  return c?.status === "True";
}

function hasPodReady(conds: readonly PodCondition[] | undefined): boolean {
  return (conds ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

/** Latest `lastState.terminated.finishedAt` seen; a missing time never wins (Go's zero Time). */
function laterFinish(current: Date | undefined, cs: ContainerStatus): Date | undefined {
  const t = parseTime(cs.lastState?.terminated?.finishedAt);
  if (!t) return current;
  return !current || t.getTime() > current.getTime() ? t : current;
}

export function podStatusCells(pod: Pod, now: Date): { ready: string; reason: string; restarts: string } {
  const spec = pod.spec;
  const status = pod.status ?? {};
  const initSpecs = spec?.initContainers ?? [];
  const restartable = new Set(initSpecs.filter((c) => c.restartPolicy === "Always").map((c) => c.name));
  const total = (spec?.containers ?? []).length + restartable.size;
  let ready = 0;
  let restarts = 0;
  let sidecarRestarts = 0;
  let lastRestart: Date | undefined;
  let lastSidecarRestart: Date | undefined;

  let reason = status.reason || status.phase || "";
  for (const c of status.conditions ?? []) {
    if (c.type === "PodScheduled" && c.reason === "SchedulingGated") reason = "SchedulingGated";
  }

  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (const [i, cs] of initStatuses.entries()) {
    restarts += cs.restartCount ?? 0;
    lastRestart = laterFinish(lastRestart, cs);
    const isSidecar = restartable.has(cs.name);
    if (isSidecar) {
      sidecarRestarts += cs.restartCount ?? 0;
      lastSidecarRestart = laterFinish(lastSidecarRestart, cs);
    }
    const term = cs.state?.terminated;
    const waiting = cs.state?.waiting;
    if (term && (term.exitCode ?? 0) === 0) continue;
    if (isSidecar && cs.started === true) {
      if (cs.ready) ready++;
      continue;
    }
    if (term) {
      if (!term.reason) {
        reason = term.signal ? `Init:Signal:${term.signal}` : `Init:ExitCode:${term.exitCode ?? 0}`;
      } else {
        reason = `Init:${term.reason}`;
      }
    } else if (waiting?.reason && waiting.reason !== "PodInitializing") {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${initSpecs.length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionTrue(status.conditions, "Initialized")) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i];
      if (!cs) continue;
      restarts += cs.restartCount ?? 0;
      lastRestart = laterFinish(lastRestart, cs);
      const waiting = cs.state?.waiting;
      const term = cs.state?.terminated;
      if (waiting?.reason) {
        reason = waiting.reason;
      } else if (term?.reason) {
        reason = term.reason;
      } else if (term) {
        reason = term.signal ? `Signal:${term.signal}` : `ExitCode:${term.exitCode ?? 0}`;
      } else if (cs.ready && cs.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    // A container still running after another completed: the pod is not "Completed".
    if (reason === "Completed" && hasRunning) {
      reason = hasPodReady(status.conditions) ? "Running" : "NotReady";
    }
  }

  const phase = status.phase ?? "";
  if (pod.metadata?.deletionTimestamp && status.reason === NODE_UNREACHABLE_POD_REASON) {
    reason = "Unknown";
  } else if (pod.metadata?.deletionTimestamp && phase !== "Succeeded" && phase !== "Failed") {
    reason = "Terminating";
  }

  let restartsText = String(restarts);
  if (restarts !== 0 && lastRestart)
    restartsText = `${restarts} (${humanDuration(now.getTime() - lastRestart.getTime())} ago)`;
  return { ready: `${ready}/${total}`, reason, restarts: restartsText };
}

function readinessGates(pod: Pod): string {
  const gates = pod.spec?.readinessGates ?? [];
  if (gates.length === 0) return "<none>";
  let trueCount = 0;
  for (const g of gates) {
    const c = (pod.status?.conditions ?? []).find((x) => x.type === g.conditionType);
    if (c?.status === "True") trueCount++;
  }
  return `${trueCount}/${gates.length}`;
}

const SUCCEEDED: TableRowCondition[] = [
  { type: "Completed", status: "True", reason: "Succeeded", message: "The pod has completed successfully." },
];
const FAILED: TableRowCondition[] = [
  { type: "Completed", status: "True", reason: "Failed", message: "The pod failed." },
];

export const podPrinter: TablePrinter = {
  columns: podColumns,
  rows(obj: KubeObject, now: Date): unknown[][] {
    const pod = obj as Pod & KubeObject;
    const { ready, reason, restarts } = podStatusCells(pod, now);
    const ip = pod.status?.podIPs?.[0]?.ip || pod.status?.podIP || "<none>";
    return [
      [
        nameOf(obj),
        ready,
        reason,
        restarts,
        ageOf(obj, now),
        ip,
        pod.spec?.nodeName || "<none>",
        pod.status?.nominatedNodeName || "<none>",
        readinessGates(pod),
      ],
    ];
  },
  conditions(obj: KubeObject): TableRowCondition[] | undefined {
    const phase = (obj as Pod & KubeObject).status?.phase;
    if (phase === "Succeeded") return SUCCEEDED;
    if (phase === "Failed") return FAILED;
    return undefined;
  },
};
