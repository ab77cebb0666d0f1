/**
 * Container labels and names: the runtime's only durable state.
 *
 * Design notes
 * - Same keys as the kubelet's dockershim (io.kubernetes.pod.*, io.kubernetes.container.name),
 *   so `docker ps --filter label=io.kubernetes.pod.name=web` works as people expect, plus our own
 *   `edgekube.io/*` keys for what an adopted container needs to be handled like a fresh one:
 *   its role, attempt, grace period and preStop hook.
 * - Names follow dockershim too: k8s_<container>_<pod>_<namespace>_<uid>_<attempt>, sandbox as
 *   container "POD". Docker refuses duplicate names, which makes a racing second create of the
 *   same attempt fail instead of producing twins.
 * - Only containers with `edgekube.io/role` are ours: anything else on the host is never touched.
 */
import type { ContainerRole } from "./runtime.js";

export const LABEL_POD_UID = "io.kubernetes.pod.uid";
export const LABEL_POD_NAME = "io.kubernetes.pod.name";
export const LABEL_POD_NAMESPACE = "io.kubernetes.pod.namespace";
export const LABEL_CONTAINER_NAME = "io.kubernetes.container.name";
export const LABEL_ROLE = "edgekube.io/role";
export const LABEL_ATTEMPT = "edgekube.io/attempt";
/** position in spec.initContainers or spec.containers, so status lists containers in spec order */
export const LABEL_INDEX = "edgekube.io/container-index";
export const LABEL_GRACE = "edgekube.io/termination-grace-seconds";
/** JSON array: the preStop exec command, kept so an adopted container is stopped the same way */
export const LABEL_PRESTOP = "edgekube.io/prestop";

export const SANDBOX_CONTAINER_NAME = "POD";

export interface ContainerIdentity {
  podUid: string;
  podName: string;
  podNamespace: string;
  container: string;
  role: ContainerRole;
  attempt: number;
  index: number;
  graceSeconds?: number;
  preStop?: string[];
}

export function containerLabels(id: ContainerIdentity): Record<string, string> {
  const labels: Record<string, string> = {
    [LABEL_POD_UID]: id.podUid,
    [LABEL_POD_NAME]: id.podName,
    [LABEL_POD_NAMESPACE]: id.podNamespace,
    [LABEL_CONTAINER_NAME]: id.container,
    [LABEL_ROLE]: id.role,
    [LABEL_ATTEMPT]: String(id.attempt),
  };
  if (id.role !== "sandbox") labels[LABEL_INDEX] = String(id.index);
  if (id.graceSeconds !== undefined) labels[LABEL_GRACE] = String(id.graceSeconds);
  if (id.preStop && id.preStop.length > 0) labels[LABEL_PRESTOP] = JSON.stringify(id.preStop);
  return labels;
}

/** Docker names allow [a-zA-Z0-9][a-zA-Z0-9_.-]; Kubernetes names already fit, uids too. */
export function dockerContainerName(
  id: Pick<ContainerIdentity, "podUid" | "podName" | "podNamespace" | "container" | "attempt">,
): string {
  return `k8s_${id.container}_${id.podName}_${id.podNamespace}_${id.podUid}_${id.attempt}`;
}

function isRole(v: string | undefined): v is ContainerRole {
  return v === "sandbox" || v === "init" || v === "app";
}

function intLabel(v: string | undefined, fallback: number): number {
  const n = v === undefined ? Number.NaN : Number.parseInt(v, 10);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

function preStopLabel(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(v);
    if (Array.isArray(parsed) && parsed.every((x) => typeof x === "string")) return parsed;
  } catch {
    // a hand-edited label: behave as if there were no hook rather than fail the stop
  }
  return undefined;
}

/** Reads a container's identity back; undefined for containers that are not ours. */
export function parseIdentity(labels: Record<string, string> | undefined): ContainerIdentity | undefined {
  if (!labels) return undefined;
  const role = labels[LABEL_ROLE];
  const podUid = labels[LABEL_POD_UID];
  const container = labels[LABEL_CONTAINER_NAME];
  if (!isRole(role) || !podUid || !container) return undefined;
  const grace = labels[LABEL_GRACE];
  return {
    podUid,
    podName: labels[LABEL_POD_NAME] ?? "",
    podNamespace: labels[LABEL_POD_NAMESPACE] ?? "",
    container,
    role,
    attempt: intLabel(labels[LABEL_ATTEMPT], 0),
    index: intLabel(labels[LABEL_INDEX], 0),
    graceSeconds: grace === undefined ? undefined : intLabel(grace, 30),
    preStop: preStopLabel(labels[LABEL_PRESTOP]),
  };
}
