/**
 * StatefulSet controller: stable, ordered pods with their own claims.
 *
 * Design notes
 * - Level-triggered: set and pod changes enqueue the set's key; reconcile re-reads the
 *   caches, resolves the current and update revisions, asks planStatefulSet for the next
 *   steps, performs them, and writes status last (only when it changed).
 * - A pod's claims are created before the pod (an existing claim is reused; one still being
 *   deleted blocks the pod, as upstream). Claims are never deleted here (Retain).
 * - Every write is followed by awaitCache, so the next reconcile never sees a cache older
 *   than this one's writes (no double creates of `<set>-N`).
 * - Events are upstream's wording: "create Pod web-0 in StatefulSet web successful",
 *   "create Claim www-web-0 Pod web-0 in StatefulSet web success".
 */
import type { KubeObject } from "../../../api/object.js";
import { isConflict, isNotFound, refs } from "../../../client/client.js";
import type { InformerCache } from "../../../client/informer.js";
import type { ReconcileResult } from "../../../lib/workqueue.js";
import type { ControllerDeps } from "../controller.js";
import { type SharedInformers, splitKey } from "../shared-informers.js";
import { ensureRevision, revisionTemplate, truncateHistory } from "../workload-common/controller-history.js";
import { OwnerController } from "../workload-common/owner-controller.js";
import { isControlledBy } from "../workload-common/pods.js";
import { claimsFor, newStatefulPod, ordinalOf, podRevision, stsSpec } from "./stateful-identity.js";
import { computeStatus, planStatefulSet, type StsAction } from "./statefulset-plan.js";

const COMPONENT = "statefulset-controller";

export class StatefulSetController extends OwnerController {
  private readonly sets: InformerCache;
  private readonly pods: InformerCache;
  private readonly claims: InformerCache;
  private readonly revisions: InformerCache;

  constructor(deps: ControllerDeps, informers: SharedInformers) {
    super(COMPONENT, "statefulset", deps, informers);
    this.sets = this.cache(refs.statefulsets);
    this.pods = this.cache(refs.pods);
    this.claims = this.cache(refs.persistentvolumeclaims);
    this.revisions = this.cache(refs.controllerrevisions);
  }

  protected watch(): void {
    this.enqueueOwners(this.sets, { onDelete: true });
    this.enqueueControllerOf(this.pods, "StatefulSet");
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const sts = this.sets.get(key);
    if (!sts || sts.metadata.deletionTimestamp) return;
    const { namespace } = splitKey(key);
    const status = (sts.status ?? {}) as { collisionCount?: number; currentRevision?: string };
    const owned = this.revisions.list((r) => r.metadata.namespace === namespace && isControlledBy(r, sts));
    const update = await ensureRevision(
      this.deps.client,
      sts,
      stsSpec(sts).template ?? {},
      owned,
      status.collisionCount ?? 0,
    );
    const updateName = update.revision.metadata.name ?? "";
    const current = owned.find((r) => r.metadata.name === status.currentRevision) ?? update.revision;
    const currentName = current.metadata.name ?? "";
    const pods = this.pods.list((p) => p.metadata.namespace === namespace && isControlledBy(p, sts));
    const now = this.deps.now();
    const plan = planStatefulSet(sts, pods, currentName, updateName, now);

    for (const a of plan.actions) await this.act(sts, a, current, update.revision);

    const live = new Set([currentName, updateName, ...pods.map(podRevision)]);
    const rest = owned.filter((r) => r.metadata.name !== updateName);
    await truncateHistory(this.deps.client, rest, live, stsSpec(sts).revisionHistoryLimit ?? 10);

    // status from the cache as it is after this pass's writes
    const after = this.pods.list((p) => p.metadata.namespace === namespace && isControlledBy(p, sts));
    const counted = computeStatus(
      sts,
      after.filter((p) => ordinalOf(sts, p) >= 0),
      currentName,
      updateName,
      now,
    );
    const next: Record<string, unknown> = { ...counted };
    if (update.collisionCount > 0) next.collisionCount = update.collisionCount;
    await this.writeStatus(sts, next);
    if (plan.requeueAfterMs !== undefined) return { requeueAfterMs: plan.requeueAfterMs };
  }

  private async act(sts: KubeObject, a: StsAction, current: KubeObject, update: KubeObject): Promise<void> {
    const ns = sts.metadata.namespace;
    const setName = sts.metadata.name ?? "";
    if (a.type === "create") {
      const rev = a.revision === "current" ? current : update;
      const pod = newStatefulPod(sts, revisionTemplate(rev), a.ordinal, rev.metadata.name ?? "");
      const podName = pod.metadata.name ?? "";
      await this.ensureClaims(sts, a.ordinal, podName);
      try {
        const created = await this.deps.client.create(refs.pods, ns, pod);
        await this.informers.awaitWrite(refs.pods, created);
        const msg = `create Pod ${podName} in StatefulSet ${setName} successful`;
        void this.deps.events.record(sts, "Normal", "SuccessfulCreate", msg, COMPONENT);
      } catch (e) {
        if (isConflict(e)) return; // exists (a stale cache); the next sync sees it
        const msg = `create Pod ${podName} in StatefulSet ${setName} failed error: ${(e as Error).message}`;
        void this.deps.events.record(sts, "Warning", "FailedCreate", msg, COMPONENT);
        throw e;
      }
      return;
    }
    const name = a.pod.metadata.name ?? "";
    try {
      await this.deps.client.delete(refs.pods, ns, name, {
        preconditions: { uid: a.pod.metadata.uid ?? "" },
      });
      const msg = `delete Pod ${name} in StatefulSet ${setName} successful`;
      void this.deps.events.record(sts, "Normal", "SuccessfulDelete", msg, COMPONENT);
    } catch (e) {
      if (!isNotFound(e) && !isConflict(e)) throw e;
    }
    await this.informers.awaitDelete(refs.pods, `${ns}/${name}`);
  }

  private async ensureClaims(sts: KubeObject, ordinal: number, podName: string): Promise<void> {
    const ns = sts.metadata.namespace;
    for (const claim of claimsFor(sts, ordinal)) {
      const name = claim.metadata.name ?? "";
      const existing =
        this.claims.get(`${ns}/${name}`) ??
        (await this.deps.client.get(refs.persistentvolumeclaims, ns, name));
      if (existing?.metadata.deletionTimestamp) {
        throw new Error(
          `claim ${ns}/${name} for pod ${podName} is being deleted; the pod is created once it is gone`,
        );
      }
      if (existing) continue;
      try {
        await this.deps.client.create(refs.persistentvolumeclaims, ns, claim);
        const msg = `create Claim ${name} Pod ${podName} in StatefulSet ${sts.metadata.name} success`;
        void this.deps.events.record(sts, "Normal", "SuccessfulCreate", msg, COMPONENT);
      } catch (e) {
        if (isConflict(e)) continue;
        const msg = `create Claim ${name} for Pod ${podName} in StatefulSet ${sts.metadata.name} failed error: ${(e as Error).message}`;
        void this.deps.events.record(sts, "Warning", "FailedCreate", msg, COMPONENT);
        throw e;
      }
    }
  }

  private writeStatus(sts: KubeObject, next: Record<string, unknown>): Promise<void> {
    return this.writeStatusPatch(refs.statefulsets, sts, next);
  }
}
