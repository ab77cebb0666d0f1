/**
 * Disruption controller: keeps each PodDisruptionBudget's status current (expectedPods,
 * desiredHealthy, currentHealthy, disruptionsAllowed, disruptedPods, observedGeneration and
 * the DisruptionAllowed condition) so the eviction subresource and `kubectl drain` can
 * decide. Level-triggered: pod and budget events enqueue budget keys; reconcile re-reads.
 *
 * Design notes
 * - The controller scale of a pod is found through the informer caches: ReplicaSet (or the
 *   Deployment owning it) and StatefulSet, as upstream's finders.
 * - Failing to count (a selected pod without a controller) fails safe: no disruptions,
 *   condition reason SyncFailed and a Warning event, as upstream.
 * - disruptedPods entries are dropped once the pod's deletion is observed or after 2 min;
 *   a requeue is scheduled for the next expiry.
 */

import { isDeepStrictEqual } from "node:util";
import type { Pod } from "kubernetes-types/core/v1";
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from "kubernetes-types/policy/v1";
import type { KubeObject } from "../../../api/object.js";
import { labelSelectorMatcher } from "../../../api/selectors.js";
import { metaTime } from "../../../api/time.js";
import { isNotFound, refs } from "../../../client/client.js";
import { type InformerCache, objectKey } from "../../../client/informer.js";
import { type ReconcileResult, WorkQueue } from "../../../lib/workqueue.js";
import type { Controller, ControllerDeps } from "../controller.js";
import {
  activeDisruptions,
  computeCounts,
  DISRUPTED_POD_TIMEOUT_MS,
  type PdbCounts,
  type ScaleLookup,
} from "./pdb-status.js";

type Condition = NonNullable<PodDisruptionBudgetStatus["conditions"]>[number];

export class DisruptionController implements Controller {
  readonly name = "disruption";
  readonly pdbs: InformerCache;
  readonly pods: InformerCache;
  private readonly rs: InformerCache;
  private readonly deploys: InformerCache;
  private readonly sts: InformerCache;
  private readonly queue: WorkQueue;

  constructor(private readonly deps: ControllerDeps) {
    this.pdbs = deps.informers.informer(refs.poddisruptionbudgets);
    this.pods = deps.informers.informer(refs.pods);
    this.rs = deps.informers.informer(refs.replicasets);
    this.deploys = deps.informers.informer(refs.deployments);
    this.sts = deps.informers.informer(refs.statefulsets);
    this.queue = new WorkQueue((k) => this.reconcile(k), {
      concurrency: 2,
      onError: (key, err) => deps.logger.warn({ key, err }, "pdb reconcile failed; retrying"),
    });
  }

  async start(_signal?: AbortSignal): Promise<void> {
    const enqueue = (o: KubeObject) => this.queue.add(objectKey(o));
    this.pdbs.addHandlers({ onAdd: enqueue, onUpdate: enqueue });
    const podChanged = (p: KubeObject) => this.enqueueFor(p);
    this.pods.addHandlers({ onAdd: podChanged, onUpdate: podChanged, onDelete: podChanged });
    const scaleChanged = (o: KubeObject) => {
      for (const pdb of this.pdbs.list((x) => x.metadata.namespace === o.metadata.namespace)) enqueue(pdb);
    };
    for (const i of [this.rs, this.deploys, this.sts]) i.addHandlers({ onUpdate: scaleChanged });
    await Promise.all([this.rs.start(), this.deploys.start(), this.sts.start(), this.pods.start()]);
    await this.pdbs.start();
  }

  stop(): void {
    this.queue.stop();
    for (const i of [this.pdbs, this.pods, this.rs, this.deploys, this.sts]) i.stop();
  }

  private enqueueFor(pod: KubeObject): void {
    for (const pdb of this.pdbs.list((x) => x.metadata.namespace === pod.metadata.namespace)) {
      if (matches(pdb, pod)) this.queue.add(objectKey(pdb));
    }
  }

  private scaleOf: ScaleLookup = (pod) => {
    const ns = pod.metadata?.namespace ?? "";
    const ref = (pod.metadata?.ownerReferences ?? []).find((o) => o.controller);
    if (!ref) return undefined;
    const lookup = (inf: InformerCache, name: string) => {
      const o = inf.get(`${ns}/${name}`);
      if (!o) return undefined;
      return {
        uid: o.metadata.uid ?? "",
        replicas: ((o.spec as { replicas?: number }).replicas ?? 1) as number,
      };
    };
    if (ref.kind === "StatefulSet") return lookup(this.sts, ref.name);
    if (ref.kind !== "ReplicaSet") return undefined;
    const rs = this.rs.get(`${ns}/${ref.name}`);
    if (!rs) return undefined;
    const owner = (rs.metadata.ownerReferences ?? []).find((o) => o.controller && o.kind === "Deployment");
    return owner ? lookup(this.deploys, owner.name) : lookup(this.rs, ref.name);
  };

  async reconcile(key: string): Promise<ReconcileResult> {
    const obj = this.pdbs.get(key);
    if (!obj) return;
    const pdb = obj as unknown as PodDisruptionBudget;
    const pods = this.pods.list(
      (p) => p.metadata.namespace === obj.metadata.namespace && matches(obj, p),
    ) as unknown as Pod[];
    const now = this.deps.now();
    let counts: PdbCounts;
    let failure: string | undefined;
    try {
      counts = computeCounts(pdb, pods, this.scaleOf, now);
    } catch (e) {
      failure = (e as Error).message;
      const prev = pdb.status ?? ({} as PodDisruptionBudgetStatus);
      counts = {
        expectedPods: prev.expectedPods ?? 0,
        desiredHealthy: prev.desiredHealthy ?? 0,
        currentHealthy: prev.currentHealthy ?? 0,
        disruptionsAllowed: 0,
      };
      void this.deps.events.record(
        obj,
        "Warning",
        "CalculateExpectedPodCountFailed",
        `Failed to calculate the number of expected pods: ${failure}`,
        "controllermanager",
      );
    }
    const disruptedPods = activeDisruptions(pdb, pods, now);
    const allowed = counts.disruptionsAllowed > 0;
    const reason = failure ? "SyncFailed" : allowed ? "SufficientPods" : "InsufficientPods";
    const prevCond = pdb.status?.conditions?.find((c) => c.type === "DisruptionAllowed");
    const status = allowed ? "True" : "False";
    const cond: Condition = {
      type: "DisruptionAllowed",
      status,
      reason,
      message: failure ?? "",
      observedGeneration: obj.metadata.generation ?? 0,
      lastTransitionTime: prevCond?.status === status ? prevCond.lastTransitionTime : metaTime(now),
    };
    const next: PodDisruptionBudgetStatus = {
      ...(Object.keys(disruptedPods).length > 0 ? { disruptedPods } : {}),
      disruptionsAllowed: counts.disruptionsAllowed,
      currentHealthy: counts.currentHealthy,
      desiredHealthy: counts.desiredHealthy,
      expectedPods: counts.expectedPods,
      observedGeneration: obj.metadata.generation ?? 0,
      conditions: [cond, ...(pdb.status?.conditions ?? []).filter((c) => c.type !== "DisruptionAllowed")],
    };
    if (!isDeepStrictEqual(normalize(pdb.status), normalize(next))) {
      try {
        await this.deps.client.updateStatus(refs.poddisruptionbudgets, obj.metadata.namespace, {
          ...obj,
          status: next,
        });
      } catch (e) {
        if (isNotFound(e)) return;
        throw e; // a conflict: the next event (or retry) recomputes from fresh state
      }
    }
    const times = Object.values(disruptedPods).map((t) => Date.parse(t) + DISRUPTED_POD_TIMEOUT_MS);
    if (times.length > 0) return { requeueAfterMs: Math.max(100, Math.min(...times) - now.getTime()) };
  }
}

function matches(pdb: KubeObject, pod: KubeObject): boolean {
  const sel = (pdb.spec as { selector?: unknown } | undefined)?.selector;
  if (sel === undefined || sel === null) return false;
  try {
    return labelSelectorMatcher(sel).matches(pod.metadata.labels ?? {});
  } catch {
    return false;
  }
}

/** compare statuses without the fields that do not carry meaning (undefined vs absent) */
function normalize(s: PodDisruptionBudgetStatus | undefined): unknown {
  return JSON.parse(JSON.stringify(s ?? {}));
}

export { matches as pdbSelectsPod };
