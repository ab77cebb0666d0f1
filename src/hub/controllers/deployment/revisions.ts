/**
 * ReplicaSet revisions and annotations (upstream deployment/util): which ReplicaSet is the
 * new one, the `deployment.kubernetes.io/revision` bookkeeping that `kubectl rollout
 * history/undo` read, the annotations copied from the Deployment, the new ReplicaSet built
 * from the template, and which old ReplicaSets revisionHistoryLimit lets go.
 */
import { cloneJson, type KubeObject } from "../../../api/object.js";
import { controllerRefFor } from "../replicaset/pod-control.js";
import { computeHash, equalIgnoreHash, POD_TEMPLATE_HASH } from "./template-hash.js";

export const REVISION = "deployment.kubernetes.io/revision";
export const REVISION_HISTORY = "deployment.kubernetes.io/revision-history";
export const DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas";
export const MAX_REPLICAS = "deployment.kubernetes.io/max-replicas";
const SKIPPED = new Set([
  "kubectl.kubernetes.io/last-applied-configuration",
  REVISION,
  REVISION_HISTORY,
  DESIRED_REPLICAS,
  MAX_REPLICAS,
  "deprecated.deployment.rollback.to",
]);

export function revisionOf(rs: KubeObject): number {
  const v = Number(rs.metadata.annotations?.[REVISION] ?? "0");
  return Number.isFinite(v) ? v : 0;
}

export function maxRevision(rss: readonly KubeObject[]): number {
  return rss.reduce((m, r) => Math.max(m, revisionOf(r)), 0);
}

function created(o: KubeObject): number {
  return Date.parse(String(o.metadata.creationTimestamp ?? "")) || 0;
}

/** oldest first, ties by name (ReplicaSetsByCreationTimestamp) */
export function byCreation(a: KubeObject, b: KubeObject): number {
  return created(a) - created(b) || (a.metadata.name ?? "").localeCompare(b.metadata.name ?? "");
}

function templateOf(o: KubeObject): unknown {
  return (o.spec as { template?: unknown } | undefined)?.template;
}

/** FindNewReplicaSet: the oldest ReplicaSet whose template equals the Deployment's */
export function findNewReplicaSet(d: KubeObject, rss: readonly KubeObject[]): KubeObject | undefined {
  return [...rss].sort(byCreation).find((rs) => equalIgnoreHash(templateOf(rs), templateOf(d)));
}

/**
 * SetNewReplicaSetAnnotations on a copy: copies the Deployment's annotations, moves the
 * revision forward (remembering the old one in revision-history, as a rollback does) and,
 * for a new ReplicaSet, the replica annotations. Returns whether anything changed.
 */
export function setNewReplicaSetAnnotations(
  d: KubeObject,
  rs: KubeObject,
  newRevision: number,
  exists: boolean,
  replicas: { desired: number; max: number },
): boolean {
  const ann: Record<string, string> = { ...(rs.metadata.annotations ?? {}) };
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (SKIPPED.has(k) || ann[k] === v) continue;
    ann[k] = v;
    changed = true;
  }
  const old = ann[REVISION];
  const oldNum = Number(old ?? "0") || 0;
  if (oldNum < newRevision) {
    ann[REVISION] = String(newRevision);
    changed = true;
    if (old) ann[REVISION_HISTORY] = ann[REVISION_HISTORY] ? `${ann[REVISION_HISTORY]},${old}` : old;
  }
  if (!exists) {
    ann[DESIRED_REPLICAS] = String(replicas.desired);
    ann[MAX_REPLICAS] = String(replicas.max);
    changed = true;
  }
  if (changed) rs.metadata.annotations = ann;
  return changed;
}

/** ReplicasAnnotationsNeedUpdate + SetReplicasAnnotations, on a copy */
export function setReplicasAnnotations(rs: KubeObject, desired: number, max: number): boolean {
  const ann = rs.metadata.annotations ?? {};
  if (ann[DESIRED_REPLICAS] === String(desired) && ann[MAX_REPLICAS] === String(max)) return false;
  rs.metadata.annotations = { ...ann, [DESIRED_REPLICAS]: String(desired), [MAX_REPLICAS]: String(max) };
  return true;
}

/** the ReplicaSet for the Deployment's current template: `<deploy>-<pod-template-hash>` */
export function buildNewReplicaSet(d: KubeObject, collisionCount: number | undefined): KubeObject {
  const spec = (d.spec ?? {}) as {
    template?: { metadata?: { labels?: Record<string, string> } };
    selector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
    minReadySeconds?: number;
  };
  const template = cloneJson(spec.template ?? {});
  const hash = computeHash(template, collisionCount);
  template.metadata = { ...(template.metadata ?? {}) };
  template.metadata.labels = { ...(template.metadata.labels ?? {}), [POD_TEMPLATE_HASH]: hash };
  const selector = cloneJson(spec.selector ?? {});
  selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH]: hash };
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name: `${d.metadata.name}-${hash}`,
      namespace: d.metadata.namespace,
      ownerReferences: [controllerRefFor(d)],
      labels: template.metadata.labels,
    },
    spec: {
      replicas: 0,
      minReadySeconds: spec.minReadySeconds ?? 0,
      selector,
      template,
    },
  };
}

/** old ReplicaSets beyond revisionHistoryLimit that are scaled to zero, oldest revision first */
export function replicaSetsToClean(old: readonly KubeObject[], limit: number | undefined): KubeObject[] {
  if (limit === undefined || limit === null) return [];
  const alive = old.filter((rs) => !rs.metadata.deletionTimestamp);
  const diff = alive.length - limit;
  if (diff <= 0) return [];
  const sorted = [...alive].sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
  return sorted.slice(0, diff).filter((rs) => {
    const st = (rs.status ?? {}) as { replicas?: number; observedGeneration?: number };
    const replicas = (rs.spec as { replicas?: number } | undefined)?.replicas ?? 0;
    return (
      (st.replicas ?? 0) === 0 &&
      replicas === 0 &&
      (rs.metadata.generation ?? 0) <= (st.observedGeneration ?? 0)
    );
  });
}
