/**
 * Garbage collector (upstream pkg/controller/garbagecollector): deletes objects whose owners
 * are gone and carries out the Foreground and Orphan deletion policies.
 *
 * Design notes
 * - The graph (uid → ownerReferences, owner uid → dependents) is fed by shared informers of
 *   the watched kinds. It is filled from all caches before any handler runs, so start-up does
 *   not mistake "owner not yet seen" for "owner gone".
 * - attemptToDelete(item): owners are classified solid / dangling (absent, or another uid) /
 *   waiting (deleting with the foregroundDeletion finalizer). An owner missing from the graph
 *   is confirmed with a live GET before anything is deleted. No solid owner → the item is
 *   deleted (Foreground when its owner waits for it and it has dependents of its own);
 *   solid owners plus dangling/waiting ones → those references are removed.
 * - processOwner(owner with deletionTimestamp): `orphan` → remove the owner's reference from
 *   every dependent, then the finalizer; `foregroundDeletion` → delete dependents, and remove
 *   the finalizer once none with blockOwnerDeletion remain.
 * - Background deletion needs nothing special: the owner goes at once and its dependents
 *   become dangling, which their delete events enqueue.
 */
import type { KubeObject } from "../../../api/object.js";
import { isNotFound } from "../../../client/client.js";
import type { Informer } from "../../../client/informer.js";
import { type ReconcileResult, WorkQueue } from "../../../lib/workqueue.js";
import type { Controller, ControllerDeps } from "../controller.js";
import { ownerRefs } from "../owner-index.js";
import { DependencyGraph, type GraphNode, waitingForDependents } from "./graph.js";
import { defaultGcResources, type GcResource, KindTable } from "./resources.js";

export interface GarbageCollectorOptions {
  resources?: GcResource[];
  concurrency?: number;
}

function itemKey(n: GraphNode): string {
  return n.uid;
}

export class GarbageCollector implements Controller {
  readonly name = "garbage-collector";
  readonly graph = new DependencyGraph();
  private readonly resources: GcResource[];
  private readonly kinds: KindTable;
  private readonly informers = new Map<GcResource, Informer>();
  private readonly deleteQueue: WorkQueue;
  private readonly ownerQueue: WorkQueue;
  private running = false;

  constructor(
    private readonly deps: ControllerDeps,
    opts: GarbageCollectorOptions = {},
  ) {
    this.resources = opts.resources ?? defaultGcResources();
    this.kinds = new KindTable(this.resources);
    const onError = (key: string, err: unknown) =>
      deps.logger
        .child({ component: "garbage-collector" })
        .warn({ key, err }, "garbage collection failed; retrying");
    this.deleteQueue = new WorkQueue((k) => this.attemptToDelete(k), {
      concurrency: opts.concurrency ?? 4,
      onError,
    });
    this.ownerQueue = new WorkQueue((k) => this.processOwner(k), {
      concurrency: opts.concurrency ?? 2,
      onError,
    });
  }

  /** true once the graph is filled: Foreground/Orphan finalizers will be honoured */
  get enabled(): boolean {
    return this.running;
  }

  async start(_signal: AbortSignal): Promise<void> {
    for (const res of this.resources) this.informers.set(res, await this.deps.informers.acquire(res.ref));
    for (const [res, inf] of this.informers) for (const o of inf.list()) this.graph.put(res, o);
    for (const [res, inf] of this.informers) {
      inf.addHandlers({
        onAdd: (o) => this.observe(res, o),
        onUpdate: (o) => this.observe(res, o),
        onDelete: (o) => this.gone(o),
      });
    }
    this.running = true;
  }

  stop(): void {
    this.running = false;
    this.deleteQueue.stop();
    this.ownerQueue.stop();
    for (const res of this.informers.keys()) this.deps.informers.release(res.ref);
    this.informers.clear();
  }

  async idle(): Promise<void> {
    await Promise.all([this.deleteQueue.idle(), this.ownerQueue.idle()]);
  }

  private observe(res: GcResource, o: KubeObject): void {
    const node = this.graph.put(res, o);
    if (!node) return;
    if (
      node.deleting &&
      (node.finalizers.includes("orphan") || node.finalizers.includes("foregroundDeletion"))
    )
      this.ownerQueue.add(node.uid);
    for (const r of node.owners) {
      const owner = this.graph.get(r.uid);
      if (!owner || waitingForDependents(owner)) this.deleteQueue.add(itemKey(node));
      // a dependent of a foreground deletion changed (e.g. started terminating): re-check the owner
      if (owner && waitingForDependents(owner)) this.ownerQueue.add(owner.uid);
    }
  }

  private gone(o: KubeObject): void {
    const uid = o.metadata.uid;
    const node = this.graph.remove(uid);
    if (!uid) return;
    for (const d of this.graph.dependents(uid)) this.deleteQueue.add(itemKey(d));
    for (const r of node?.owners ?? ownerRefs(o)) {
      if (waitingForDependents(this.graph.get(r.uid))) this.ownerQueue.add(r.uid);
    }
  }

  private cached(n: GraphNode): KubeObject | undefined {
    const key = n.namespace ? `${n.namespace}/${n.name}` : n.name;
    const o = this.informers.get(n.res)?.get(key);
    return o && o.metadata.uid === n.uid ? o : undefined;
  }

  /** solid | dangling | waiting, confirming an owner missing from the graph with a GET */
  private async classify(item: GraphNode, ownerUid: string): Promise<"solid" | "dangling" | "waiting"> {
    const ref = item.owners.find((r) => r.uid === ownerUid);
    const known = this.graph.get(ownerUid);
    if (known) return waitingForDependents(known) ? "waiting" : "solid";
    if (!ref) return "dangling";
    const res = this.kinds.lookup(ref.apiVersion, ref.kind);
    if (!res) return "solid"; // a kind the hub cannot resolve: never guess it away
    const live = await this.deps.client.get(res.ref, res.namespaced ? item.namespace : undefined, ref.name);
    if (!live || live.metadata.uid !== ownerUid) return "dangling";
    const deleting = Boolean(live.metadata.deletionTimestamp);
    return deleting && (live.metadata.finalizers ?? []).includes("foregroundDeletion") ? "waiting" : "solid";
  }

  async attemptToDelete(uid: string): Promise<ReconcileResult> {
    const item = this.graph.get(uid);
    if (!item || item.owners.length === 0) return;
    if (item.deleting && !item.finalizers.includes("foregroundDeletion")) return;
    const solid: string[] = [];
    const gone: string[] = [];
    const waiting: string[] = [];
    for (const r of item.owners) {
      const c = await this.classify(item, r.uid);
      (c === "solid" ? solid : c === "dangling" ? gone : waiting).push(r.uid);
    }
    const { client } = this.deps;
    const { ref } = item.res;
    try {
      if (solid.length > 0) {
        if (gone.length + waiting.length === 0) return;
        const drop = new Set([...gone, ...waiting]);
        await client.mutate(ref, item.namespace, item.name, (cur) => {
          if (cur.metadata.uid !== uid) return cur;
          const owners = ownerRefs(cur).filter((o) => !drop.has(o.uid));
          return { ...cur, metadata: { ...cur.metadata, ownerReferences: owners } };
        });
        return;
      }
      if (waiting.length > 0 && this.graph.hasDependents(uid)) {
        // unblock the waiting owner from our side, then delete ourselves in the foreground
        const w = new Set(waiting);
        await client.mutate(ref, item.namespace, item.name, (cur) => {
          if (cur.metadata.uid !== uid) return cur;
          const owners = ownerRefs(cur).map((o) => (w.has(o.uid) ? { ...o, blockOwnerDeletion: false } : o));
          return { ...cur, metadata: { ...cur.metadata, ownerReferences: owners } };
        });
        await client.delete(ref, item.namespace, item.name, {
          propagationPolicy: "Foreground",
          preconditions: { uid },
        });
        return;
      }
      const policy = item.finalizers.includes("orphan")
        ? "Orphan"
        : item.finalizers.includes("foregroundDeletion")
          ? "Foreground"
          : "Background";
      this.deps.logger.debug({ kind: item.res.kind, name: item.name, ns: item.namespace }, "collecting");
      await client.delete(ref, item.namespace, item.name, {
        propagationPolicy: policy,
        preconditions: { uid },
      });
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
  }

  async processOwner(uid: string): Promise<ReconcileResult> {
    const node = this.graph.get(uid);
    if (!node?.deleting) return;
    const obj = this.cached(node);
    if (!obj) return;
    const { client } = this.deps;
    if (node.finalizers.includes("orphan")) {
      for (const d of this.graph.dependents(uid)) {
        await client
          .mutate(d.res.ref, d.namespace, d.name, (cur) => {
            const owners = ownerRefs(cur).filter((o) => o.uid !== uid);
            const { ownerReferences: _drop, ...meta } = cur.metadata;
            return { ...cur, metadata: owners.length > 0 ? { ...meta, ownerReferences: owners } : meta };
          })
          .catch((e: unknown) => {
            if (!isNotFound(e)) throw e;
          });
      }
      await this.removeFinalizer(node, "orphan");
      return;
    }
    if (!node.finalizers.includes("foregroundDeletion")) return;
    let blocking = 0;
    for (const d of this.graph.dependents(uid)) {
      const r = d.owners.find((o) => o.uid === uid);
      if (r?.blockOwnerDeletion) blocking++;
      if (!d.deleting || d.finalizers.includes("foregroundDeletion")) this.deleteQueue.add(itemKey(d));
    }
    if (blocking === 0) await this.removeFinalizer(node, "foregroundDeletion");
  }

  private async removeFinalizer(node: GraphNode, finalizer: string): Promise<void> {
    await this.deps.client
      .mutate(node.res.ref, node.namespace, node.name, (cur) => {
        if (cur.metadata.uid !== node.uid) return cur;
        const fins = (cur.metadata.finalizers ?? []).filter((f) => f !== finalizer);
        return { ...cur, metadata: { ...cur.metadata, finalizers: fins } };
      })
      .catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
  }
}
