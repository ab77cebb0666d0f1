/**
 * EndpointSlice controller: the discovery.k8s.io/v1 view of a selector Service's pods
 * (upstream pkg/controller/endpointslice), ≤ 100 endpoints per slice, named `<svc>-xxxxx`,
 * labelled `kubernetes.io/service-name` and managed-by `endpointslice-controller.k8s.io`.
 *
 * Design notes
 * - Only slices carrying our managed-by label are touched; slices of other managers (or the
 *   `kubernetes` service's) are left alone, as are services without a selector.
 * - The plan (create/update/delete) is computed purely in slice-plan.ts; this file executes it.
 *   Creates go first and deletes last so readers never see the service without endpoints.
 * - Slices carry a controller ownerReference to the Service; on service deletion the
 *   reconcile deletes them itself, so nothing depends on the garbage collector running.
 */
import type { KubeObject } from "../../../api/object.js";
import { refs } from "../../../client/client.js";
import type { InformerCache } from "../../../client/informer.js";
import { type ReconcileResult, WorkQueue } from "../../../lib/workqueue.js";
import type { Controller, ControllerDeps } from "../controller.js";
import { ignoreNotFound } from "./endpoints-controller.js";
import { hasSelector } from "./pod-endpoints.js";
import { wireServiceEvents } from "./service-watch.js";
import { CONTROLLER_NAME, MANAGED_BY_LABEL, planSlices, SERVICE_NAME_LABEL } from "./slice-plan.js";

function managedServiceKey(slice: KubeObject): string | undefined {
  const l = slice.metadata.labels ?? {};
  const svc = l[SERVICE_NAME_LABEL];
  if (!svc || l[MANAGED_BY_LABEL] !== CONTROLLER_NAME) return undefined;
  return `${slice.metadata.namespace}/${svc}`;
}

export class EndpointSliceController implements Controller {
  readonly name = "endpointslice-controller";
  readonly services: InformerCache;
  readonly pods: InformerCache;
  readonly slices: InformerCache;
  private readonly queue: WorkQueue;
  private readonly expected = new Map<string, Map<string, number>>();

  constructor(private readonly deps: ControllerDeps) {
    this.services = deps.informers.informer(refs.services);
    this.pods = deps.informers.informer(refs.pods);
    this.slices = deps.informers.informer(refs.endpointslices);
    this.queue = new WorkQueue((k) => this.reconcile(k), {
      concurrency: 2,
      onError: (key, err) =>
        deps.logger.warn({ component: this.name, key, err }, "reconcile failed; retrying"),
    });
  }

  async startInformers(): Promise<void> {
    await Promise.all([this.services.start(), this.pods.start(), this.slices.start()]);
  }

  async start(_signal: AbortSignal): Promise<void> {
    wireServiceEvents(this.services, this.pods, this.slices, managedServiceKey, (k) => this.queue.add(k));
    await this.startInformers();
  }

  stop(): void {
    this.queue.stop();
    this.services.stop();
    this.pods.stop();
    this.slices.stop();
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [ns = ""] = key.split("/");
    if (!this.caughtUp(key)) return { requeueAfterMs: 50 };
    const svc = this.services.get(key);
    const owned = this.slices.list((s) => managedServiceKey(s) === key);
    if (!svc || svc.metadata.deletionTimestamp || !hasSelector(svc)) {
      // gone, going, or no longer selecting: our slices for it are stale
      for (const s of owned) await this.remove(key, ns, s);
      return;
    }
    const pods = this.pods.list((p) => p.metadata.namespace === ns);
    const plan = planSlices(svc, pods, owned);
    for (const s of plan.create) {
      const made = await this.deps.client.create(refs.endpointslices, ns, s);
      this.expect(key, made.metadata.name!, Number(made.metadata.resourceVersion));
    }
    for (const s of plan.update) {
      const done = await this.deps.client.update(refs.endpointslices, ns, s);
      this.expect(key, done.metadata.name!, Number(done.metadata.resourceVersion));
    }
    for (const s of plan.delete) await this.remove(key, ns, s);
  }

  private async remove(key: string, ns: string, slice: KubeObject): Promise<void> {
    await this.deps.client.delete(refs.endpointslices, ns, slice.metadata.name!).catch(ignoreNotFound);
    this.expect(key, slice.metadata.name!, DELETED);
  }

  /**
   * Expectations (upstream's endpointSliceTracker): slices written but not yet seen in the
   * cache. Acting on a stale cache would create duplicate `<svc>-xxxxx` slices, so the key
   * waits for its own writes to arrive first.
   */
  private caughtUp(key: string): boolean {
    const want = this.expected.get(key);
    if (!want) return true;
    for (const [name, rv] of want) {
      const cached = this.slices.get(`${key.split("/")[0]}/${name}`);
      const seen =
        rv === DELETED ? !cached : cached !== undefined && Number(cached.metadata.resourceVersion) >= rv;
      if (!seen) return false;
    }
    this.expected.delete(key);
    return true;
  }

  private expect(key: string, name: string, rv: number): void {
    const m = this.expected.get(key) ?? new Map<string, number>();
    m.set(name, rv);
    this.expected.set(key, m);
  }
}

const DELETED = -1;
