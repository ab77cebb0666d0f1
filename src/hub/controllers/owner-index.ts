/**
 * OwnerIndex: keys of cached objects grouped by their controller owner's uid, plus the
 * objects of each namespace that have no controller (candidates for adoption). Fed by an
 * informer's handlers, so a reconcile finds "the pods of this ReplicaSet" without listing
 * every pod (upstream's controller-ref index on the pod informer).
 */
import type { KubeObject } from "../../api/object.js";
import type { InformerHandlers } from "../../client/informer.js";
import { objectKey } from "../../client/informer.js";

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export function ownerRefs(obj: KubeObject): OwnerReference[] {
  return (obj.metadata.ownerReferences ?? []) as OwnerReference[];
}

export function controllerRef(obj: KubeObject): OwnerReference | undefined {
  return ownerRefs(obj).find((r) => r.controller === true);
}

export class OwnerIndex {
  private readonly byOwner = new Map<string, Set<string>>();
  private readonly orphansByNs = new Map<string, Set<string>>();
  /** object key → where it is filed, to move it when its owner changes */
  private readonly filed = new Map<string, { owner?: string; ns: string }>();

  /** handlers to register on the informer; `then` runs after the index is updated */
  handlers(then?: InformerHandlers): InformerHandlers {
    return {
      onAdd: (o) => {
        this.put(o);
        then?.onAdd?.(o);
      },
      onUpdate: (o, old) => {
        this.put(o);
        then?.onUpdate?.(o, old);
      },
      onDelete: (o) => {
        this.remove(objectKey(o));
        then?.onDelete?.(o);
      },
    };
  }

  /** keys of objects whose controller is the owner with this uid */
  owned(uid: string): string[] {
    return [...(this.byOwner.get(uid) ?? [])];
  }

  /** keys of objects in namespace ns without a controller */
  orphans(ns: string): string[] {
    return [...(this.orphansByNs.get(ns) ?? [])];
  }

  put(o: KubeObject): void {
    const key = objectKey(o);
    this.remove(key);
    const owner = controllerRef(o)?.uid;
    const ns = o.metadata.namespace ?? "";
    const map = owner ? this.byOwner : this.orphansByNs;
    const bucket = owner ?? ns;
    let set = map.get(bucket);
    if (!set) {
      set = new Set();
      map.set(bucket, set);
    }
    set.add(key);
    this.filed.set(key, owner ? { owner, ns } : { ns });
  }

  remove(key: string): void {
    const f = this.filed.get(key);
    if (!f) return;
    this.filed.delete(key);
    const map = f.owner ? this.byOwner : this.orphansByNs;
    const bucket = f.owner ?? f.ns;
    const set = map.get(bucket);
    set?.delete(key);
    if (set && set.size === 0) map.delete(bucket);
  }
}
