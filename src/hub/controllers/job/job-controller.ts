/**
 * Job controller: runs pods to a number of completions, within a failure and time budget,
 * and deletes finished Jobs after ttlSecondsAfterFinished (upstream's separate TTL-after-
 * finished controller, folded in here because it needs the same cache and clock).
 *
 * Design notes
 * - Level-triggered: Job and pod changes enqueue the Job's key; reconcile re-reads the
 *   caches, asks planJob what to do, creates/deletes pods, writes status last.
 * - Pods come from the template (which the API server's Job strategy already labelled with
 *   `batch.kubernetes.io/job-name`, `job-name`, `controller-uid`, …) with generateName
 *   `<job>-` and a controller reference.
 * - Time: startTime, activeDeadlineSeconds and TTL use deps.now, and the reconcile returns
 *   requeueAfterMs for the next deadline, so tests can drive the clock.
 * - TTL deletion uses Background propagation: the garbage collector removes the pods.
 */
import { isDeepStrictEqual } from "node:util";
import type { KubeObject } from "../../../api/object.js";
import { isConflict, isNotFound, refs } from "../../../client/client.js";
import type { InformerCache } from "../../../client/informer.js";
import type { ReconcileResult } from "../../../lib/workqueue.js";
import type { ControllerDeps } from "../controller.js";
import { keyOf, type SharedInformers, splitKey } from "../shared-informers.js";
import { OwnerController } from "../workload-common/owner-controller.js";
import { isControlledBy, podFromTemplate } from "../workload-common/pods.js";
import { finishTime, isJobFinished, type JobSpec, planJob, ttlRequeue } from "./job-plan.js";

const COMPONENT = "job-controller";

export class JobController extends OwnerController {
  private readonly jobs: InformerCache;
  private readonly pods: InformerCache;

  constructor(deps: ControllerDeps, informers: SharedInformers) {
    super(COMPONENT, "job", deps, informers);
    this.jobs = this.cache(refs.jobs);
    this.pods = this.cache(refs.pods);
  }

  protected watch(): void {
    this.enqueueOwners(this.jobs, { onDelete: false });
    this.enqueueControllerOf(this.pods, "Job");
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const job = this.jobs.get(key);
    if (!job || job.metadata.deletionTimestamp) return;
    const { namespace, name } = splitKey(key);
    const spec = (job.spec ?? {}) as JobSpec;
    const now = this.deps.now();
    if (isJobFinished(job)) return this.expire(job, spec, now);

    const pods = this.pods.list((p) => p.metadata.namespace === namespace && isControlledBy(p, job));
    const plan = planJob(job, pods, now);
    const waits: Promise<void>[] = [];
    const newPod = () => podFromTemplate(spec.template, job, { generateName: `${name}-` });
    await Promise.all(Array.from({ length: plan.create }, () => this.createPod(job, newPod(), waits)));
    await Promise.all(plan.delete.map((pod) => this.deletePod(job, pod, waits)));
    await Promise.all(waits);

    const cur = (job.status ?? {}) as Record<string, unknown>;
    if (!isDeepStrictEqual(cur, plan.status)) {
      try {
        const written = await this.deps.client.mutate(
          refs.jobs,
          namespace,
          name,
          (o) => ({ ...o, status: plan.status }),
          {
            status: true,
          },
        );
        await this.informers.awaitWrite(refs.jobs, written);
      } catch (e) {
        if (isNotFound(e)) return;
        throw e;
      }
    }
    if (plan.event)
      void this.deps.events.record(job, plan.event.type, plan.event.reason, plan.event.message, COMPONENT);
    if (plan.requeueAfterMs !== undefined) return { requeueAfterMs: plan.requeueAfterMs };
  }

  /** ttlSecondsAfterFinished: delete the finished job when its time is up */
  private async expire(job: KubeObject, spec: JobSpec, now: Date): Promise<ReconcileResult> {
    const finished = finishTime(job);
    if (!finished || spec.ttlSecondsAfterFinished === undefined || spec.ttlSecondsAfterFinished === null)
      return;
    const wait = ttlRequeue(spec, finished, now);
    if (wait !== undefined && wait > 50) return { requeueAfterMs: wait };
    try {
      await this.deps.client.delete(refs.jobs, job.metadata.namespace, job.metadata.name ?? "", {
        propagationPolicy: "Background",
        preconditions: { uid: job.metadata.uid ?? "" },
      });
      this.deps.logger.info(
        { component: COMPONENT, key: keyOf(job) },
        "deleted finished job (ttlSecondsAfterFinished)",
      );
    } catch (e) {
      if (!isNotFound(e) && !isConflict(e)) throw e;
    }
  }
}
