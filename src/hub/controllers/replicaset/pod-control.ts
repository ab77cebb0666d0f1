/**
 * Pod writes on behalf of a ReplicaSet (upstream RealPodControl and PodControllerRefManager):
 * pods from the template with a controller ownerReference, adoption of orphans that match
 * the selector and release of pods that stopped matching. Adopt and release are optimistic
 * updates of the cached object: a conflict means the cache was stale and the key is retried.
 */
import { ApiError } from "../../../api/errors.js";
import { cloneJson, type KubeObject } from "../../../api/object.js";
import { type Client, isNotFound, type ResourceRef, refs } from "../../../client/client.js";
import type { EventRecorder } from "../events.js";
import { controllerRef, type OwnerReference, ownerRefs } from "../owner-index.js";
import { newControllerRef, podFromTemplate as newPodFromTemplate } from "../workload-common/pods.js";

export const COMPONENT = "replicaset-controller";

/** the controller reference on a ReplicaSet's pods (and a Deployment's ReplicaSets) */
export function controllerRefFor(owner: KubeObject): OwnerReference {
  return newControllerRef(owner, { apiVersion: "apps/v1", kind: "ReplicaSet" });
}

/** the pod a ReplicaSet creates: `<rs>-<5 random>` via generateName */
export function podFromTemplate(rs: KubeObject): KubeObject {
  const template = ((rs.spec ?? {}) as { template?: unknown }).template;
  const pod = newPodFromTemplate(template, rs, { generateName: `${rs.metadata.name}-` });
  pod.metadata.ownerReferences = [controllerRefFor(rs)];
  return pod;
}

function isTerminatingNamespace(e: unknown): boolean {
  return e instanceof ApiError && e.code === 403 && /being terminated/.test(e.message);
}

export class PodControl {
  constructor(
    private readonly client: Client,
    private readonly events: EventRecorder,
  ) {}

  /** creates one pod; undefined when the namespace is going away (not an error upstream) */
  async create(rs: KubeObject): Promise<KubeObject | undefined> {
    try {
      const pod = await this.client.create(refs.pods, rs.metadata.namespace, podFromTemplate(rs));
      void this.events.record(
        rs,
        "Normal",
        "SuccessfulCreate",
        `Created pod: ${pod.metadata.name}`,
        COMPONENT,
      );
      return pod;
    } catch (e) {
      if (isTerminatingNamespace(e)) return undefined;
      void this.events.record(
        rs,
        "Warning",
        "FailedCreate",
        `Error creating: ${(e as Error).message}`,
        COMPONENT,
      );
      throw e;
    }
  }

  async delete(rs: KubeObject, pod: KubeObject): Promise<void> {
    try {
      await this.client.delete(refs.pods, pod.metadata.namespace, pod.metadata.name ?? "", {
        preconditions: { uid: pod.metadata.uid },
      });
      void this.events.record(
        rs,
        "Normal",
        "SuccessfulDelete",
        `Deleted pod: ${pod.metadata.name}`,
        COMPONENT,
      );
    } catch (e) {
      if (isNotFound(e)) return;
      void this.events.record(
        rs,
        "Warning",
        "FailedDelete",
        `Error deleting: ${(e as Error).message}`,
        COMPONENT,
      );
      throw e;
    }
  }

  /** make owner the controller of an orphan (cached copy; 409 → retry later) */
  async adopt(
    owner: KubeObject,
    obj: KubeObject,
    ref: ResourceRef = refs.pods,
  ): Promise<KubeObject | undefined> {
    if (controllerRef(obj)) return undefined;
    const next = cloneJson(obj);
    next.metadata.ownerReferences = [
      ...ownerRefs(obj).filter((r) => r.uid !== owner.metadata.uid),
      controllerRefFor(owner),
    ];
    try {
      return await this.client.update(ref, obj.metadata.namespace, next);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** drop owner's reference from an object that no longer matches its selector */
  async release(owner: KubeObject, obj: KubeObject, ref: ResourceRef = refs.pods): Promise<void> {
    const next = cloneJson(obj);
    const remaining = ownerRefs(obj).filter((r) => r.uid !== owner.metadata.uid);
    if (remaining.length > 0) next.metadata.ownerReferences = remaining;
    else delete next.metadata.ownerReferences;
    try {
      await this.client.update(ref, obj.metadata.namespace, next);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}
