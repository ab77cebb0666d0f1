/**
 * How the scheduler tells a user that a pod fits nowhere: upstream's FailedScheduling Warning
 * event and the pod's PodScheduled=False condition (reason Unschedulable), both with the same
 * message.
 *
 * Design notes
 * - The condition is written only when it changes: it is left alone while its status, reason
 *   and message are already what this attempt found, so a pod retried with backoff does not
 *   rewrite itself each time. A repeated event is folded by the recorder into its count.
 * - lastTransitionTime is kept across attempts while the condition stays False (the pod has
 *   been unschedulable since then); lastProbeTime is null, as upstream writes it.
 * - The condition goes through the status subresource with a read-modify-write (client.mutate),
 *   so a concurrent status write by someone else is retried, not lost. A pod deleted meanwhile
 *   needs no condition: NotFound is not an error.
 * - A pre-filter failure (a missing or terminating PVC) rejects the pod before any node is
 *   looked at; upstream's message then counts every node as failing for that one reason.
 */
import type { Pod, PodCondition } from "kubernetes-types/core/v1";
import type { KubeObject } from "../../api/object.js";
import { metaTime } from "../../api/time.js";
import { type Client, isNotFound, refs } from "../../client/client.js";
import type { EventRecorder } from "../controllers/events.js";

export interface UnschedulableDeps {
  client: Client;
  events: EventRecorder;
  now: () => Date;
  /** the event's reporting component (the scheduler's name) */
  component: string;
}

/** upstream's FitError text for a pod a pre-filter rejected: no node was tried */
export function preFilterFailureMessage(totalNodes: number, reason: string): string {
  const t = totalNodes;
  return `0/${t} nodes are available: ${reason}. preemption: 0/${t} nodes are available: ${t} Preemption is not helpful for scheduling.`;
}

export class UnschedulableReporter {
  constructor(private readonly deps: UnschedulableDeps) {}

  /** records FailedScheduling, then sets PodScheduled=False with the same message */
  async report(obj: KubeObject, message: string): Promise<void> {
    await this.deps.events.record(obj, "Warning", "FailedScheduling", message, this.deps.component);
    await this.markUnschedulable(obj as unknown as Pod, message);
  }

  private async markUnschedulable(pod: Pod, message: string): Promise<void> {
    const cur = pod.status?.conditions?.find((c) => c.type === "PodScheduled");
    if (cur?.status === "False" && cur.reason === "Unschedulable" && cur.message === message) return;
    const at = metaTime(this.deps.now());
    try {
      await this.deps.client.mutate(
        refs.pods,
        pod.metadata?.namespace,
        pod.metadata?.name ?? "",
        (obj) => {
          const status = (obj.status ?? {}) as { conditions?: PodCondition[] };
          const prev = (status.conditions ?? []).find((c) => c.type === "PodScheduled");
          const conditions = (status.conditions ?? []).filter((c) => c.type !== "PodScheduled");
          conditions.push({
            type: "PodScheduled",
            status: "False",
            reason: "Unschedulable",
            message,
            lastProbeTime: null as unknown as string,
            lastTransitionTime:
              prev?.status === "False" && prev.lastTransitionTime ? prev.lastTransitionTime : at,
          });
          return { ...obj, status: { ...status, conditions } };
        },
        { status: true },
      );
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}
