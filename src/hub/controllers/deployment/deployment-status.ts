/**
 * Deployment status and conditions (upstream sync.go calculateStatus, progress.go and
 * util.SetDeploymentCondition): counts summed over the ReplicaSets, the Available condition
 * from maxUnavailable, and the Progressing condition with upstream's reasons and messages —
 * the fields `kubectl rollout status` and `kubectl wait --for=condition=…` read.
 */
import type { KubeObject } from "../../../api/object.js";
import { metaTime } from "../../../api/time.js";
import type { DeploymentView } from "./rollout-math.js";
import { maxUnavailable } from "./rollout-math.js";

export interface DeploymentCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  conditions?: DeploymentCondition[];
  collisionCount?: number;
}

export const Reasons = {
  newRSCreated: "NewReplicaSetCreated",
  foundNewRS: "FoundNewReplicaSet",
  rsUpdated: "ReplicaSetUpdated",
  newRSAvailable: "NewReplicaSetAvailable",
  timedOut: "ProgressDeadlineExceeded",
  paused: "DeploymentPaused",
  resumed: "DeploymentResumed",
  minAvailable: "MinimumReplicasAvailable",
  minUnavailable: "MinimumReplicasUnavailable",
} as const;

export function getCondition(s: DeploymentStatus, type: string): DeploymentCondition | undefined {
  return s.conditions?.find((c) => c.type === type);
}

export function newCondition(
  type: string,
  status: DeploymentCondition["status"],
  reason: string,
  message: string,
  now: Date,
): DeploymentCondition {
  const t = metaTime(now);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

/** SetDeploymentCondition: no-op when status and reason are unchanged; keeps the transition time when only the reason changes */
export function setCondition(s: DeploymentStatus, c: DeploymentCondition): void {
  const cur = getCondition(s, c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason) return;
  const next = { ...c };
  if (cur && cur.status === c.status) next.lastTransitionTime = cur.lastTransitionTime;
  s.conditions = [...(s.conditions ?? []).filter((x) => x.type !== c.type), next];
}

export function removeCondition(s: DeploymentStatus, type: string): void {
  const rest = (s.conditions ?? []).filter((x) => x.type !== type);
  s.conditions = rest;
}

interface RsStatusView {
  replicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
}

function rsStatus(rs: KubeObject): RsStatusView {
  return (rs.status ?? {}) as RsStatusView;
}

function specReplicas(rs: KubeObject): number {
  return (rs.spec as { replicas?: number } | undefined)?.replicas ?? 0;
}

/** calculateStatus: counts over all ReplicaSets and the Available condition */
export function calculateStatus(
  d: KubeObject,
  dv: DeploymentView,
  all: readonly KubeObject[],
  newRS: KubeObject | undefined,
  now: Date,
): DeploymentStatus {
  const prev = (d.status ?? {}) as DeploymentStatus;
  let replicas = 0;
  let ready = 0;
  let available = 0;
  let total = 0;
  for (const rs of all) {
    const st = rsStatus(rs);
    replicas += st.replicas ?? 0;
    ready += st.readyReplicas ?? 0;
    available += st.availableReplicas ?? 0;
    total += specReplicas(rs);
  }
  const s: DeploymentStatus = {};
  if (d.metadata.generation !== undefined) s.observedGeneration = d.metadata.generation;
  if (replicas) s.replicas = replicas;
  const updated = newRS ? (rsStatus(newRS).replicas ?? 0) : 0;
  if (updated) s.updatedReplicas = updated;
  if (ready) s.readyReplicas = ready;
  if (available) s.availableReplicas = available;
  const unavailable = Math.max(0, total - available);
  if (unavailable) s.unavailableReplicas = unavailable;
  if (prev.collisionCount !== undefined) s.collisionCount = prev.collisionCount;
  s.conditions = (prev.conditions ?? []).map((c) => ({ ...c }));
  if (available >= dv.replicas - maxUnavailable(dv)) {
    setCondition(
      s,
      newCondition("Available", "True", Reasons.minAvailable, "Deployment has minimum availability.", now),
    );
  } else {
    setCondition(
      s,
      newCondition(
        "Available",
        "False",
        Reasons.minUnavailable,
        "Deployment does not have minimum availability.",
        now,
      ),
    );
  }
  return s;
}

/** DeploymentComplete: every replica updated and available, and the latest spec observed */
export function deploymentComplete(d: KubeObject, dv: DeploymentView, s: DeploymentStatus): boolean {
  return (
    (s.updatedReplicas ?? 0) === dv.replicas &&
    (s.replicas ?? 0) === dv.replicas &&
    (s.availableReplicas ?? 0) === dv.replicas &&
    (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0)
  );
}

/** DeploymentProgressing: anything moved forward since the stored status */
export function deploymentProgressing(d: KubeObject, s: DeploymentStatus): boolean {
  const old = (d.status ?? {}) as DeploymentStatus;
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (
    (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

/** DeploymentTimedOut: the Progressing condition has not moved for progressDeadlineSeconds */
export function deploymentTimedOut(deadlineSeconds: number, s: DeploymentStatus, now: Date): boolean {
  const c = getCondition(s, "Progressing");
  if (!c) return false;
  if (c.reason === Reasons.newRSAvailable) return false;
  if (c.reason === Reasons.timedOut) return true;
  const from = Date.parse(c.lastUpdateTime ?? "");
  if (Number.isNaN(from)) return false;
  return from + deadlineSeconds * 1000 < now.getTime();
}

/** ms until the Progressing condition would time out (requeueStuckDeployment) */
export function msUntilDeadline(deadlineSeconds: number, s: DeploymentStatus, now: Date): number | undefined {
  const c = getCondition(s, "Progressing");
  if (!c || c.reason === Reasons.newRSAvailable || c.reason === Reasons.timedOut) return undefined;
  const from = Date.parse(c.lastUpdateTime ?? "");
  if (Number.isNaN(from)) return undefined;
  return Math.max(0, from + deadlineSeconds * 1000 - now.getTime());
}
