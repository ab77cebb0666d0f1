/**
 * One Deployment sync's working state (upstream passes `d` and `rsList` around and mutates
 * d.Status in place): the cached Deployment, a working copy whose status the steps change,
 * the ReplicaSets it owns (replaced by the results of our own writes as we go, so later steps
 * see them), and writes of ReplicaSets with upstream's ScalingReplicaSet events.
 */
import { cloneJson, type KubeObject } from "../../../api/object.js";
import { type Client, refs } from "../../../client/client.js";
import type { EventRecorder } from "../events.js";
import { MAX_REPLICAS, setReplicasAnnotations } from "./revisions.js";
import { type DeploymentView, maxSurge, type RsView } from "./rollout-math.js";

export const COMPONENT = "deployment-controller";
const MAX_INT32 = 2147483647;

export function specReplicas(o: KubeObject): number {
  return (o.spec as { replicas?: number } | undefined)?.replicas ?? 0;
}

export function deploymentView(d: KubeObject): DeploymentView {
  const spec = (d.spec ?? {}) as {
    replicas?: number;
    strategy?: {
      type?: string;
      rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string };
    };
  };
  const ru = spec.strategy?.rollingUpdate ?? {};
  return {
    replicas: spec.replicas ?? 1,
    strategy: spec.strategy?.type === "Recreate" ? "Recreate" : "RollingUpdate",
    maxSurge: ru.maxSurge ?? "25%",
    maxUnavailable: ru.maxUnavailable ?? "25%",
    statusReplicas: ((d.status ?? {}) as { replicas?: number }).replicas ?? 0,
  };
}

export function rsView(rs: KubeObject): RsView {
  const max = Number(rs.metadata.annotations?.[MAX_REPLICAS]);
  const v: RsView = {
    name: rs.metadata.name ?? "",
    replicas: specReplicas(rs),
    available: ((rs.status ?? {}) as { availableReplicas?: number }).availableReplicas ?? 0,
  };
  if (Number.isFinite(max) && rs.metadata.annotations?.[MAX_REPLICAS] !== undefined)
    v.maxReplicasAnnotation = max;
  return v;
}

export class SyncContext {
  /** working copy: steps change its status (conditions, collisionCount) */
  readonly d: KubeObject;
  readonly dv: DeploymentView;
  newUid: string | undefined;
  /** revision annotation the Deployment should carry after this sync */
  revision: string | undefined;

  constructor(
    readonly orig: KubeObject,
    public rsList: KubeObject[],
    private readonly client: Client,
    private readonly events: EventRecorder,
    readonly now: () => Date,
  ) {
    this.d = cloneJson(orig);
    this.d.status ??= {};
    this.dv = deploymentView(orig);
  }

  get paused(): boolean {
    return (this.d.spec as { paused?: boolean } | undefined)?.paused === true;
  }

  /** seconds, or undefined when the Deployment has no progress deadline */
  get progressDeadline(): number | undefined {
    const s = (this.d.spec as { progressDeadlineSeconds?: number } | undefined)?.progressDeadlineSeconds;
    return s === undefined || s === null || s === MAX_INT32 ? undefined : s;
  }

  get newRS(): KubeObject | undefined {
    return this.newUid ? this.rsList.find((r) => r.metadata.uid === this.newUid) : undefined;
  }

  get oldRSs(): KubeObject[] {
    return this.rsList.filter((r) => r.metadata.uid !== this.newUid);
  }

  get allRSs(): KubeObject[] {
    return this.rsList;
  }

  replace(rs: KubeObject): void {
    const i = this.rsList.findIndex((r) => r.metadata.uid === rs.metadata.uid);
    if (i >= 0) this.rsList[i] = rs;
    else this.rsList.push(rs);
  }

  /** scaleReplicaSetAndRecordEvent: size and replica annotations; event when the size moves */
  async scale(rs: KubeObject, newScale: number): Promise<boolean> {
    const cur = specReplicas(rs);
    const next = cloneJson(rs);
    (next.spec as { replicas?: number }).replicas = newScale;
    const annChanged = setReplicasAnnotations(next, this.dv.replicas, this.dv.replicas + maxSurge(this.dv));
    if (cur === newScale && !annChanged) return false;
    const updated = await this.client.update(refs.replicasets, rs.metadata.namespace, next);
    this.replace(updated);
    if (cur !== newScale) {
      const op = newScale > cur ? "up" : "down";
      void this.events.record(
        this.orig,
        "Normal",
        "ScalingReplicaSet",
        `Scaled ${op} replica set ${rs.metadata.name} from ${cur} to ${newScale}`,
        COMPONENT,
      );
    }
    return cur !== newScale;
  }

  async updateReplicaSet(rs: KubeObject): Promise<KubeObject> {
    return this.client.update(refs.replicasets, rs.metadata.namespace, rs);
  }

  async createReplicaSet(rs: KubeObject): Promise<KubeObject> {
    return this.client.create(refs.replicasets, rs.metadata.namespace, rs);
  }

  async getReplicaSet(name: string): Promise<KubeObject | undefined> {
    return this.client.get(refs.replicasets, this.d.metadata.namespace, name);
  }

  async deleteReplicaSet(rs: KubeObject): Promise<void> {
    await this.client.delete(refs.replicasets, rs.metadata.namespace, rs.metadata.name ?? "", {
      preconditions: { uid: rs.metadata.uid },
    });
  }

  record(reason: string, message: string, type: "Normal" | "Warning" = "Normal"): void {
    void this.events.record(this.orig, type, reason, message, COMPONENT);
  }
}
