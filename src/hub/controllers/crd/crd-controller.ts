/**
 * CustomResourceDefinition controller: serves a CRD's resources as soon as its names are
 * accepted (discovery, routing, OpenAPI and Tables pick them up from the live registry), keeps
 * its status conditions, and on deletion removes every instance before the CRD itself
 * (finalizer `customresourcecleanup.apiextensions.k8s.io`).
 *
 * Design notes
 * - start() serves every existing CRD before returning, so a restarted hub answers for custom
 *   resources from its first request.
 * - Level-triggered: CRD events enqueue the CRD name; reconcile re-reads the cache. Names are
 *   checked against the other CRDs of the group, so every CRD of that group is re-checked when
 *   one changes or goes.
 * - Deviation: upstream adds the cleanup finalizer in the DELETE call itself; here the
 *   controller adds it to every live CRD, so deletion needs no special case in the store.
 *   A CRD deleted before its first reconcile loses its instances' visibility, not their rows.
 */

import { isDeepStrictEqual } from "node:util";
import type { CustomResourceDefinition } from "kubernetes-types/apiextensions/v1";
import type { KubeObject } from "../../../api/object.js";
import { isNotFound, refs } from "../../../client/client.js";
import type { InformerCache } from "../../../client/informer.js";
import { type ReconcileResult, WorkQueue } from "../../../lib/workqueue.js";
import type { CustomResourceCatalog } from "../../apiserver/custom-resources/catalog.js";
import { timestamp } from "../../apiserver/object-store.js";
import type { Controller, ControllerDeps } from "../controller.js";
import { acceptedNamesOf, type CrdCondition, checkNames, desiredStatus, setCondition } from "./crd-status.js";

export const CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io";

const asCrd = (o: KubeObject) => o as unknown as CustomResourceDefinition;

export class CrdController implements Controller {
  readonly name = "crd-controller";
  readonly crds: InformerCache;
  private readonly queue: WorkQueue;

  constructor(
    private readonly deps: ControllerDeps,
    private readonly catalog: CustomResourceCatalog,
  ) {
    this.crds = deps.informers.informer(refs.customresourcedefinitions);
    this.queue = new WorkQueue((k) => this.reconcile(k), {
      concurrency: 2,
      onError: (key, err) =>
        deps.logger.warn({ component: this.name, key, err }, "reconcile failed; retrying"),
    });
  }

  async start(_signal: AbortSignal): Promise<void> {
    const enqueueGroup = (o: KubeObject) => {
      this.queue.add(o.metadata.name!);
      const group = asCrd(o).spec?.group;
      for (const other of this.crds.list((c) => asCrd(c).spec?.group === group))
        this.queue.add(other.metadata.name!);
    };
    this.crds.addHandlers({
      onAdd: enqueueGroup,
      onUpdate: (o) => this.queue.add(o.metadata.name!),
      onDelete: enqueueGroup,
    });
    await this.crds.start();
    // serve what exists before the hub reports ready
    for (const c of this.crds.list())
      await this.reconcile(c.metadata.name!).catch(() => this.queue.add(c.metadata.name!));
  }

  stop(): void {
    this.queue.stop();
    this.crds.stop();
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  async reconcile(name: string): Promise<ReconcileResult> {
    try {
      return await this.sync(name);
    } catch (e) {
      if (isNotFound(e)) return; // the CRD went away meanwhile: its DELETE event unserves it
      throw e;
    }
  }

  private async sync(name: string): Promise<ReconcileResult> {
    const obj = this.crds.get(name);
    if (!obj) {
      this.catalog.unserve(name);
      return;
    }
    if (obj.metadata.deletionTimestamp) return this.finalize(obj);
    if (!(obj.metadata.finalizers ?? []).includes(CLEANUP_FINALIZER)) {
      await this.deps.client.mutate(refs.customresourcedefinitions, undefined, name, (cur) =>
        (cur.metadata.finalizers ?? []).includes(CLEANUP_FINALIZER)
          ? cur
          : {
              ...cur,
              metadata: {
                ...cur.metadata,
                finalizers: [...(cur.metadata.finalizers ?? []), CLEANUP_FINALIZER],
              },
            },
      );
      return; // the update brings us back with a fresh cache
    }
    const crd = asCrd(obj);
    const verdict = checkNames(crd, this.crds.list().map(asCrd));
    const names = verdict.accepted ? undefined : acceptedNamesOf(crd);
    if (verdict.accepted) this.catalog.serve(crd);
    else if (names) this.catalog.serve(crd, names);
    const status = desiredStatus(crd, verdict, timestamp(this.deps.now()));
    if (!isDeepStrictEqual(status, obj.status ?? {})) {
      await this.deps.client.mutate(
        refs.customresourcedefinitions,
        undefined,
        name,
        (cur) => ({ ...cur, status }),
        {
          status: true,
        },
      );
    }
  }

  /** delete every instance, then drop the finalizer (which deletes the CRD) and unserve */
  private async finalize(obj: KubeObject): Promise<ReconcileResult> {
    const name = obj.metadata.name!;
    if (!(obj.metadata.finalizers ?? []).includes(CLEANUP_FINALIZER)) return;
    // a hub restarted mid-deletion must still see the instances it has to remove
    if (!this.catalog.isServed(name)) this.catalog.serve(asCrd(obj), acceptedNamesOf(asCrd(obj)));
    this.catalog.setTerminating(name, true);
    const now = timestamp(this.deps.now());
    const conds = ((obj.status as { conditions?: CrdCondition[] } | undefined)?.conditions ??
      []) as CrdCondition[];
    if (!conds.some((c) => c.type === "Terminating" && c.status === "True")) {
      const next = setCondition(
        conds,
        {
          type: "Terminating",
          status: "True",
          reason: "InstanceDeletionInProgress",
          message: "CustomResource deletion is in progress",
        },
        now,
      );
      await this.deps.client.mutate(
        refs.customresourcedefinitions,
        undefined,
        name,
        (cur) => ({ ...cur, status: { ...(cur.status as object), conditions: next } }),
        { status: true },
      );
    }
    let remaining = 0;
    // one version suffices: every version shares the same storage
    const info = this.catalog.servedResources(name)[0];
    if (info) {
      const ref = { group: info.group, version: info.version, resource: info.resource };
      const list = await this.deps.client.list(ref);
      for (const item of list.items) {
        remaining++;
        if (item.metadata.deletionTimestamp) continue;
        await this.deps.client
          .delete(ref, item.metadata.namespace, item.metadata.name!, { propagationPolicy: "Background" })
          .catch((e) => {
            if (!isNotFound(e)) throw e;
          });
      }
    }
    if (remaining > 0) {
      const left = info
        ? (await this.deps.client.list({ group: info.group, version: info.version, resource: info.resource }))
            .items.length
        : 0;
      if (left > 0) return { requeueAfterMs: 1000 };
    }
    await this.deps.client.mutate(refs.customresourcedefinitions, undefined, name, (cur) => ({
      ...cur,
      metadata: {
        ...cur.metadata,
        finalizers: (cur.metadata.finalizers ?? []).filter((f) => f !== CLEANUP_FINALIZER),
      },
    }));
    this.catalog.unserve(name);
  }
}
