/**
 * Node lifecycle controller, edge-aware: watches each node's Lease (kube-node-lease/<node>)
 * and marks a node whose lease is not renewed within the grace period (default 40 s) as
 * Ready=Unknown (NodeStatusUnknown, "Kubelet stopped posting node status.") with the taints
 * node.kubernetes.io/unreachable:NoSchedule and :NoExecute; a renewal undoes exactly that.
 *
 * Design notes
 * - Staleness is measured on the hub's clock: the time we *observed* renewTime change, not
 *   renewTime itself, so a device with a wrong clock (no RTC on a Pi) is judged fairly. A node
 *   first seen (or a hub restart) starts a fresh grace period.
 * - Unlike upstream, pods on an unreachable node are NOT evicted by default: an edge device
 *   offline keeps running its pods. Opt in with the hub option podEvictionTimeoutSeconds or
 *   the node annotation edgekube.io/pod-eviction-timeout-seconds (which wins). Then a pod is
 *   deleted max(N, its unreachable:NoExecute tolerationSeconds) after the taint was added;
 *   a pod tolerating it without a limit stays.
 * - Timed work uses requeueAfter deadlines, no polling loop: a lease event or the deadline
 *   re-runs reconcile(node). Pods are listed only for a stale node that opted into eviction,
 *   so the controller holds no pod cache.
 */
import type { Node, NodeCondition, Pod, Taint } from "kubernetes-types/core/v1";
import { HEALTHY_NODE_CONDITIONS as HEALTHY } from "../../../api/node-conditions.js";
import type { KubeObject } from "../../../api/object.js";
import { metaTime } from "../../../api/time.js";
import { isNotFound, refs } from "../../../client/client.js";
import type { InformerCache } from "../../../client/informer.js";
import { type ReconcileResult, WorkQueue } from "../../../lib/workqueue.js";
import type { Controller, ControllerDeps } from "../controller.js";

export const UNREACHABLE = "node.kubernetes.io/unreachable";
export const EVICTION_ANNOTATION = "edgekube.io/pod-eviction-timeout-seconds";
export const UNKNOWN_REASON = "NodeStatusUnknown";
export const UNKNOWN_MESSAGE = "Kubelet stopped posting node status.";

/**
 * A renewal undoes only what this controller did. The edge link marks a node Unknown with the
 * same reason when its connection drops (last-will, see src/hub/edge/heartbeats.ts) while the
 * lease is still fresh; reverting that here would show a disconnected node Ready within
 * milliseconds. The edge link restores the agent's own status when the node reconnects.
 */
function markedByUs(c: NodeCondition): boolean {
  return c.reason === UNKNOWN_REASON && c.message === UNKNOWN_MESSAGE;
}
const COMPONENT = "node-controller";
const LEASE_NS = "kube-node-lease";

export interface NodeLifecycleOptions {
  gracePeriodSeconds?: number;
  podEvictionTimeoutSeconds?: number;
}

export class NodeLifecycleController implements Controller {
  readonly name = "node-lifecycle";
  private readonly nodes: InformerCache;
  private readonly leases: InformerCache;
  private readonly queue: WorkQueue;
  /** node → last renewTime seen and when (hub clock, ms) */
  private readonly observed = new Map<string, { renew: string; at: number }>();

  constructor(
    private readonly deps: ControllerDeps,
    private readonly opts: NodeLifecycleOptions = {},
  ) {
    this.nodes = deps.informers.informer(refs.nodes);
    this.leases = deps.informers.informer(refs.leases);
    this.queue = new WorkQueue((k) => this.reconcile(k), {
      concurrency: 4,
      onError: (key, err) => deps.logger.warn({ key, err }, "node lifecycle reconcile failed; retrying"),
    });
  }

  private get graceMs(): number {
    return (this.opts.gracePeriodSeconds ?? 40) * 1000;
  }

  async start(_signal?: AbortSignal): Promise<void> {
    const byName = (o: KubeObject) => this.queue.add(o.metadata.name ?? "");
    this.nodes.addHandlers({
      onAdd: byName,
      onUpdate: byName,
      onDelete: (n) => this.observed.delete(n.metadata.name ?? ""),
    });
    // the shared lease cache spans namespaces: only node leases name a node
    const byLease = (o: KubeObject) => {
      if (o.metadata.namespace === LEASE_NS) byName(o);
    };
    this.leases.addHandlers({ onAdd: byLease, onUpdate: byLease });
    await this.leases.start();
    await this.nodes.start();
  }

  stop(): void {
    this.queue.stop();
    for (const i of [this.nodes, this.leases]) i.stop();
  }

  /** when the node was last heard from, on our clock */
  private lastHeard(name: string, now: number): number {
    const lease = this.leases.get(`${LEASE_NS}/${name}`);
    const renew = (lease?.spec as { renewTime?: string } | undefined)?.renewTime ?? "";
    const seen = this.observed.get(name);
    if (!seen || seen.renew !== renew) {
      this.observed.set(name, { renew, at: now });
      return now;
    }
    return seen.at;
  }

  async reconcile(name: string): Promise<ReconcileResult> {
    const obj = this.nodes.get(name);
    if (!obj) return;
    const node = obj as unknown as Node;
    const now = this.deps.now();
    const heard = this.lastHeard(name, now.getTime());
    const stale = now.getTime() - heard > this.graceMs;
    const ready = node.status?.conditions?.find((c) => c.type === "Ready");
    const ours = (node.spec?.taints ?? []).filter((t) => t.key === UNREACHABLE);
    if (!stale) {
      const marked = ready !== undefined && markedByUs(ready);
      if (marked) await this.setConditions(name, now, "healthy");
      if (ours.length > 0) await this.setTaints(name, now, false);
      if (marked || ours.length > 0) {
        void this.deps.events.record(
          obj,
          "Normal",
          "NodeReady",
          `Node ${name} status is now: NodeReady`,
          COMPONENT,
        );
      }
      return { requeueAfterMs: Math.max(50, heard + this.graceMs - now.getTime() + 10) };
    }
    if (ready?.status !== "Unknown") {
      await this.setConditions(name, now, "unknown");
      void this.deps.events.record(
        obj,
        "Normal",
        "NodeNotReady",
        `Node ${name} status is now: NodeNotReady`,
        COMPONENT,
      );
    }
    if (ours.length < 2) await this.setTaints(name, now, true);
    return this.evictPods(obj, now);
  }

  private async setConditions(name: string, now: Date, to: "unknown" | "healthy"): Promise<void> {
    const at = metaTime(now);
    await this.mutate(name, true, (cur) => {
      const status = (cur.status ?? {}) as { conditions?: NodeCondition[] };
      let conditions = (status.conditions ?? []).map((c): NodeCondition => {
        if (to === "unknown") {
          if (c.status === "Unknown" && c.reason === UNKNOWN_REASON) return c;
          return {
            ...c,
            status: "Unknown",
            reason: UNKNOWN_REASON,
            message: UNKNOWN_MESSAGE,
            lastTransitionTime: at,
          };
        }
        const h = HEALTHY[c.type];
        if (!markedByUs(c) || !h) return c;
        return { ...c, ...h, lastHeartbeatTime: at, lastTransitionTime: at };
      });
      if (to === "unknown" && !conditions.some((c) => c.type === "Ready")) {
        conditions = [
          ...conditions,
          {
            type: "Ready",
            status: "Unknown",
            reason: UNKNOWN_REASON,
            message: UNKNOWN_MESSAGE,
            lastTransitionTime: at,
          },
        ];
      }
      return { ...cur, status: { ...status, conditions } };
    });
  }

  private async setTaints(name: string, now: Date, add: boolean): Promise<void> {
    await this.mutate(name, false, (cur) => {
      const spec = (cur.spec ?? {}) as { taints?: Taint[] };
      const others = (spec.taints ?? []).filter((t) => t.key !== UNREACHABLE);
      const keep = (spec.taints ?? []).filter((t) => t.key === UNREACHABLE);
      const taints = add
        ? [
            ...others,
            keep.find((t) => t.effect === "NoSchedule") ?? {
              key: UNREACHABLE,
              effect: "NoSchedule",
              timeAdded: metaTime(now),
            },
            keep.find((t) => t.effect === "NoExecute") ?? {
              key: UNREACHABLE,
              effect: "NoExecute",
              timeAdded: metaTime(now),
            },
          ]
        : others;
      const next = { ...spec, taints };
      if (taints.length === 0) delete (next as { taints?: Taint[] }).taints;
      return { ...cur, spec: next };
    });
  }

  private async mutate(name: string, status: boolean, fn: (cur: KubeObject) => KubeObject): Promise<void> {
    try {
      await this.deps.client.mutate(refs.nodes, undefined, name, fn, { status });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /** the opt-in eviction of pods from an unreachable node */
  private async evictPods(obj: KubeObject, now: Date): Promise<ReconcileResult> {
    const name = obj.metadata.name ?? "";
    const fromAnnotation = Number(obj.metadata.annotations?.[EVICTION_ANNOTATION]);
    const timeout =
      Number.isFinite(fromAnnotation) && obj.metadata.annotations?.[EVICTION_ANNOTATION] !== undefined
        ? fromAnnotation
        : this.opts.podEvictionTimeoutSeconds;
    if (timeout === undefined || timeout < 0) return;
    const taint = ((obj as unknown as Node).spec?.taints ?? []).find(
      (t) => t.key === UNREACHABLE && t.effect === "NoExecute",
    );
    const since = taint?.timeAdded ? Date.parse(taint.timeAdded) : now.getTime();
    let next = Number.POSITIVE_INFINITY;
    // listed only here (stale node, eviction opted in): no pod cache held for a rare path
    const all = await this.deps.client.list(refs.pods);
    for (const p of all.items.filter((o) => (o.spec as { nodeName?: string }).nodeName === name)) {
      if (p.metadata.deletionTimestamp) continue;
      const tolerance = tolerationSeconds(p as unknown as Pod);
      const deadline = since + Math.max(timeout, tolerance) * 1000;
      if (!Number.isFinite(deadline)) continue;
      if (deadline > now.getTime()) {
        next = Math.min(next, deadline);
        continue;
      }
      try {
        await this.deps.client.delete(refs.pods, p.metadata.namespace, p.metadata.name ?? "");
        void this.deps.events.record(
          p,
          "Normal",
          "TaintManagerEviction",
          `Marking for deletion Pod ${p.metadata.namespace}/${p.metadata.name}`,
          "taint-eviction-controller",
        );
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    // re-check for newly bound pods and pending deadlines
    return { requeueAfterMs: Number.isFinite(next) ? Math.max(50, next - now.getTime()) : 5_000 };
  }
}

/** how long the pod tolerates unreachable:NoExecute: 0 when not at all, Infinity without limit */
export function tolerationSeconds(pod: Pod): number {
  let best = 0;
  for (const t of pod.spec?.tolerations ?? []) {
    if (t.effect && t.effect !== "NoExecute") continue;
    const keyOk =
      t.operator === "Exists" ? !t.key || t.key === UNREACHABLE : t.key === UNREACHABLE && !t.value;
    if (!keyOk) continue;
    if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) return Number.POSITIVE_INFINITY;
    best = Math.max(best, Math.max(0, t.tolerationSeconds));
  }
  return best;
}
