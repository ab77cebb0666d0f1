/**
 * The scheduler: places unscheduled pods (spec.nodeName empty, schedulerName
 * default-scheduler) onto nodes and binds them.
 *
 * Design notes
 * - The hub's shared informers on nodes, pods, PVCs and PVs feed the SchedulerCache; handlers only enqueue pod
 *   keys. reconcile(key) re-reads the pod from the informer, decides synchronously (no await
 *   between reading the cache and assuming the pod onto its node, so concurrent reconciles
 *   never double-book capacity) and then awaits the binding. The work queue runs several
 *   keys at once so bindings overlap while decisions stay sequential.
 * - A pod that fits nowhere gets a FailedScheduling Warning event and PodScheduled=False
 *   (reason Unschedulable, the same message), both written only when they change, and is
 *   retried with backoff (1 s doubling to 60 s) and at once whenever a node or a PVC/PV
 *   changes or a placed pod goes away (deleted or finished). A pending pod whose decision
 *   involved other pods (affinity, anti-affinity, spreading) is also retried at once when a pod
 *   is placed, or when a placed pod's labels change or it starts terminating.
 * - A successful binding records upstream's Normal `Scheduled` event; a failed one is reported
 *   by unschedulable.ts.
 * - A pod's filter inputs (volumes, namespace labels, placed pods for affinity and spreading)
 *   are read from the caches by constraint-reader.ts. The PVC informer drops a claim from the
 *   in-flight storage accounting once it is bound.
 */
import type { Pod } from "kubernetes-types/core/v1";
import type { KubeObject } from "../../api/object.js";
import { type Client, isConflict, isNotFound, refs } from "../../client/client.js";
import type { InformerCache } from "../../client/informer.js";
import type { Logger } from "../../lib/logger.js";
import { type ReconcileResult, WorkQueue } from "../../lib/workqueue.js";
import type { Controller } from "../controllers/controller.js";
import type { EventRecorder } from "../controllers/events.js";
import type { SharedInformers } from "../controllers/shared-informers.js";
import type { PodBinder } from "./binding.js";
import { ConstraintReader } from "./constraint-reader.js";
import { Decider } from "./decide.js";
import { SchedulerCache } from "./node-info.js";
import { computePodInfo, occupiesNode, podKeyOf } from "./pod-info.js";
import { preFilterFailureMessage, UnschedulableReporter } from "./unschedulable.js";

export const SCHEDULER_NAME = "default-scheduler";

export interface SchedulerDeps {
  client: Client;
  events: EventRecorder;
  logger: Logger;
  now: () => Date;
  binder: PodBinder;
  /** the hub's informer factory: the scheduler reads the same pod and node caches as everyone */
  informers: SharedInformers;
  /** bindings in flight at once (default 16) */
  concurrency?: number;
  /** first retry delay of an unschedulable pod (default 1000 ms, doubling to 60 s) */
  backoffMs?: number;
}

function wantsScheduling(pod: Pod): boolean {
  const name = pod.spec?.schedulerName;
  return (
    !pod.spec?.nodeName &&
    !pod.metadata?.deletionTimestamp &&
    (!name || name === SCHEDULER_NAME) &&
    pod.status?.phase !== "Succeeded" &&
    pod.status?.phase !== "Failed"
  );
}

/** what other pods' affinity and spreading read of a placed pod: its labels, and whether it terminates */
function relationsChanged(old: KubeObject, cur: KubeObject): boolean {
  if (!old.metadata.deletionTimestamp !== !cur.metadata.deletionTimestamp) return true;
  const a = old.metadata.labels ?? {};
  const b = cur.metadata.labels ?? {};
  const keys = Object.keys(a);
  return keys.length !== Object.keys(b).length || keys.some((k) => a[k] !== b[k]);
}

export class Scheduler implements Controller {
  readonly name = "scheduler";
  readonly cache = new SchedulerCache();
  private readonly queue: WorkQueue;
  private readonly decider = new Decider();
  private readonly pods: InformerCache;
  private readonly nodes: InformerCache;
  private readonly pvcs: InformerCache;
  private readonly pvs: InformerCache;
  /** namespace labels, for pod affinity terms with a namespaceSelector */
  private readonly namespaces: InformerCache;
  private readonly classes: InformerCache;
  private readonly inputs: ConstraintReader;
  private readonly failures: UnschedulableReporter;
  /** keys whose binding is in flight: stale unbound events must not undo their accounting */
  private readonly assumed = new Set<string>();
  /** pending pods → failed attempts */
  private readonly unschedulable = new Map<string, number>();
  /** pending pods whose decision depended on other pods (affinity, spreading) */
  private readonly waitsOnPods = new Set<string>();
  private wakeTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: SchedulerDeps) {
    this.pods = deps.informers.informer(refs.pods);
    this.nodes = deps.informers.informer(refs.nodes);
    this.pvcs = deps.informers.informer(refs.persistentvolumeclaims);
    this.pvs = deps.informers.informer(refs.persistentvolumes);
    this.namespaces = deps.informers.informer(refs.namespaces);
    this.classes = deps.informers.informer(refs.storageclasses);
    this.inputs = new ConstraintReader({
      cache: this.cache,
      pvcs: this.pvcs,
      pvs: this.pvs,
      namespaces: this.namespaces,
      classes: this.classes,
    });
    this.failures = new UnschedulableReporter({
      client: deps.client,
      events: deps.events,
      now: deps.now,
      component: SCHEDULER_NAME,
    });
    this.queue = new WorkQueue((k) => this.reconcile(k), {
      concurrency: deps.concurrency ?? 16,
      onError: (key, err) => deps.logger.warn({ key, err }, "scheduling failed; retrying"),
    });
  }

  async start(_signal?: AbortSignal): Promise<void> {
    this.nodes.addHandlers({
      onAdd: (n) => this.onNode(n),
      onUpdate: (n) => this.onNode(n),
      onDelete: (n) => this.cache.removeNode(n.metadata.name ?? ""),
    });
    this.pods.addHandlers({
      onAdd: (p) => this.onPod(p),
      onUpdate: (p, old) => this.onPod(p, old),
      onDelete: (p) => this.onPodGone(podKeyOf(p)),
    });
    const wake = { onAdd: () => this.wake(), onUpdate: () => this.wake() };
    const claimDone = (c: KubeObject) => this.cache.claimBound(`${c.metadata.namespace}/${c.metadata.name}`);
    this.pvcs.addHandlers({
      onAdd: () => this.wake(),
      onUpdate: (c) => {
        if ((c.spec as { volumeName?: string } | undefined)?.volumeName) claimDone(c);
        this.wake();
      },
      onDelete: claimDone,
    });
    this.pvs.addHandlers(wake);
    this.namespaces.addHandlers(wake);
    this.classes.addHandlers(wake);
    await Promise.all([
      this.nodes.start(),
      this.pvcs.start(),
      this.pvs.start(),
      this.namespaces.start(),
      this.classes.start(),
    ]);
    await this.pods.start();
  }

  stop(): void {
    this.queue.stop();
    for (const i of [this.pods, this.nodes, this.pvcs, this.pvs, this.namespaces, this.classes]) i.stop();
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
  }

  /** resolves when no pod is being scheduled (tests, benchmarks) */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private onNode(n: KubeObject): void {
    this.cache.upsertNode(n);
    this.wake();
  }

  private onPod(obj: KubeObject, old?: KubeObject): void {
    const key = podKeyOf(obj);
    const node = occupiesNode(obj);
    if (node) {
      const fresh = this.cache.placedOn(key) === undefined;
      this.assumed.delete(key);
      this.unschedulable.delete(key);
      this.waitsOnPods.delete(key);
      const info = computePodInfo(obj);
      // a bound pod's claims stay in flight on its node until they are bound themselves
      info.storage = this.inputs.storageNeeds(info);
      this.cache.place(info, node);
      // a newly placed pod can satisfy a pending pod's pod affinity; a placed pod whose labels
      // changed, or that started terminating, can satisfy it or stop blocking its anti-affinity
      // or spreading (upstream: the AssignedPodUpdate event)
      if (fresh || (old && relationsChanged(old, obj))) for (const k of this.waitsOnPods) this.queue.add(k);
      return;
    }
    if (this.assumed.has(key)) return;
    if (this.cache.placedOn(key) !== undefined) {
      // finished (Succeeded/Failed): its resources are free again
      this.cache.forget(key);
      this.wake();
    }
    if (!wantsScheduling(obj as unknown as Pod)) return;
    // a pending pod's own status writes do not make it fit; a changed spec might
    if (old && this.unschedulable.has(key) && JSON.stringify(old.spec) === JSON.stringify(obj.spec)) return;
    this.queue.add(key);
  }

  private onPodGone(key: string): void {
    this.assumed.delete(key);
    this.unschedulable.delete(key);
    this.waitsOnPods.delete(key);
    if (this.cache.placedOn(key) !== undefined) {
      this.cache.forget(key);
      this.wake();
    }
  }

  /** cluster changed: give every pending pod another try (coalesced) */
  private wake(): void {
    if (this.wakeTimer || this.unschedulable.size === 0) return;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      for (const k of this.unschedulable.keys()) this.queue.add(k);
    }, 20);
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const obj = this.pods.get(key);
    if (!obj) {
      this.unschedulable.delete(key);
      this.waitsOnPods.delete(key);
      return;
    }
    const pod = obj as unknown as Pod;
    if (!wantsScheduling(pod) || this.assumed.has(key)) return;
    const info = computePodInfo(obj);
    const c = this.inputs.constraints(pod, info);
    const decision =
      typeof c === "string"
        ? { message: preFilterFailureMessage(this.cache.size, c) }
        : this.decider.decide(c, this.cache.list());
    if ("node" in decision) {
      if (typeof c !== "string") info.storage = c.storage;
      this.assumed.add(key);
      this.cache.place(info, decision.node);
      try {
        await this.deps.binder.bind({
          namespace: info.namespace,
          name: info.name,
          node: decision.node,
          uid: info.uid,
        });
      } catch (e) {
        this.assumed.delete(key);
        this.cache.forget(key);
        if (isConflict(e) || isNotFound(e)) return; // bound by someone else, changed, or gone
        throw e;
      }
      this.unschedulable.delete(key);
      this.waitsOnPods.delete(key);
      void this.deps.events.record(
        obj,
        "Normal",
        "Scheduled",
        `Successfully assigned ${info.namespace}/${info.name} to ${decision.node}`,
        SCHEDULER_NAME,
      );
      return;
    }
    const attempts = (this.unschedulable.get(key) ?? 0) + 1;
    this.unschedulable.set(key, attempts);
    if (typeof c !== "string" && (c.interPod || c.spread)) this.waitsOnPods.add(key);
    await this.failures.report(obj, decision.message);
    const base = this.deps.backoffMs ?? 1000;
    return { requeueAfterMs: Math.min(60_000, base * 2 ** Math.min(attempts - 1, 6)) };
  }
}
