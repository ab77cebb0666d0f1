/**
 * The garbage collector's dependency graph (upstream garbagecollector/graph.go, reduced):
 * every watched object by uid with its ownerReferences, and for each owner uid the uids of
 * its dependents. Owners that are not watched appear only as keys of `dependents`.
 */
import type { KubeObject } from "../../../api/object.js";
import { type OwnerReference, ownerRefs } from "../owner-index.js";
import type { GcResource } from "./resources.js";

export interface GraphNode {
  uid: string;
  res: GcResource;
  namespace: string | undefined;
  name: string;
  owners: OwnerReference[];
  deleting: boolean;
  finalizers: string[];
}

export class DependencyGraph {
  private readonly nodes = new Map<string, GraphNode>();
  private readonly dependentsOf = new Map<string, Set<string>>();

  get(uid: string): GraphNode | undefined {
    return this.nodes.get(uid);
  }

  dependents(uid: string): GraphNode[] {
    const out: GraphNode[] = [];
    for (const d of this.dependentsOf.get(uid) ?? []) {
      const n = this.nodes.get(d);
      if (n) out.push(n);
    }
    return out;
  }

  hasDependents(uid: string): boolean {
    return this.dependents(uid).length > 0;
  }

  all(): IterableIterator<GraphNode> {
    return this.nodes.values();
  }

  put(res: GcResource, o: KubeObject): GraphNode | undefined {
    const uid = o.metadata.uid;
    if (!uid) return undefined;
    const prev = this.nodes.get(uid);
    if (prev) for (const r of prev.owners) this.unlink(r.uid, uid);
    const node: GraphNode = {
      uid,
      res,
      namespace: o.metadata.namespace,
      name: o.metadata.name ?? "",
      owners: ownerRefs(o),
      deleting: Boolean(o.metadata.deletionTimestamp),
      finalizers: o.metadata.finalizers ?? [],
    };
    this.nodes.set(uid, node);
    for (const r of node.owners) {
      let set = this.dependentsOf.get(r.uid);
      if (!set) {
        set = new Set();
        this.dependentsOf.set(r.uid, set);
      }
      set.add(uid);
    }
    return node;
  }

  remove(uid: string | undefined): GraphNode | undefined {
    if (!uid) return undefined;
    const node = this.nodes.get(uid);
    if (!node) return undefined;
    this.nodes.delete(uid);
    for (const r of node.owners) this.unlink(r.uid, uid);
    return node;
  }

  private unlink(owner: string, dependent: string): void {
    const set = this.dependentsOf.get(owner);
    if (!set) return;
    set.delete(dependent);
    if (set.size === 0) this.dependentsOf.delete(owner);
  }
}

export function waitingForDependents(n: GraphNode | undefined): boolean {
  return Boolean(n?.deleting && n.finalizers.includes("foregroundDeletion"));
}
