/**
 * Endpoints controller: keeps one core/v1 Endpoints per selector Service in step with the
 * ready pods it selects (upstream pkg/controller/endpoint).
 *
 * Design notes
 * - Level-triggered (STYLE.md): informers on services, pods and endpoints only enqueue the
 *   service key; reconcile(key) re-reads the caches, treats a missing service as "delete its
 *   Endpoints", writes only when the desired object differs, and is safe to run twice.
 * - Services without a selector are not ours: their Endpoints are user-managed (the
 *   `kubernetes` service's are written by KubernetesServiceController).
 */
import { isDeepStrictEqual } from "node:util";
import type { KubeObject } from "../../../api/object.js";
import { isNotFound, refs } from "../../../client/client.js";
import type { InformerCache } from "../../../client/informer.js";
import { WorkQueue } from "../../../lib/workqueue.js";
import type { Controller, ControllerDeps } from "../controller.js";
import { desiredEndpoints } from "./endpoints-subsets.js";
import { hasSelector } from "./pod-endpoints.js";
import { wireServiceEvents } from "./service-watch.js";

export class EndpointsController implements Controller {
  readonly name = "endpoints-controller";
  readonly services: InformerCache;
  readonly pods: InformerCache;
  readonly endpoints: InformerCache;
  private readonly queue: WorkQueue;

  constructor(private readonly deps: ControllerDeps) {
    this.services = deps.informers.informer(refs.services);
    this.pods = deps.informers.informer(refs.pods);
    this.endpoints = deps.informers.informer(refs.endpoints);
    this.queue = new WorkQueue((k) => this.reconcile(k), {
      concurrency: 2,
      onError: (key, err) =>
        deps.logger.warn({ component: this.name, key, err }, "reconcile failed; retrying"),
    });
  }

  /** start the caches without handlers (unit tests call reconcile directly) */
  async startInformers(): Promise<void> {
    await Promise.all([this.services.start(), this.pods.start(), this.endpoints.start()]);
  }

  async start(_signal: AbortSignal): Promise<void> {
    wireServiceEvents(
      this.services,
      this.pods,
      this.endpoints,
      (ep) => `${ep.metadata.namespace}/${ep.metadata.name}`,
      (k) => this.queue.add(k),
    );
    await this.startInformers();
  }

  stop(): void {
    this.queue.stop();
    this.services.stop();
    this.pods.stop();
    this.endpoints.stop();
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  async reconcile(key: string): Promise<void> {
    const [ns = "", name = ""] = key.split("/");
    const svc = this.services.get(key);
    const current = this.endpoints.get(key);
    if (!svc || svc.metadata.deletionTimestamp) {
      // the service is gone: its Endpoints go with it (only those we would have written)
      if (current && !svc) await this.deps.client.delete(refs.endpoints, ns, name).catch(ignoreNotFound);
      return;
    }
    if (!hasSelector(svc)) return;
    const pods = this.pods.list((p) => p.metadata.namespace === ns);
    const want = desiredEndpoints(svc, pods);
    if (!current) {
      await this.deps.client.create(refs.endpoints, ns, want);
      return;
    }
    if (
      isDeepStrictEqual(current.subsets ?? [], want.subsets ?? []) &&
      isDeepStrictEqual(current.metadata.labels ?? {}, want.metadata.labels ?? {}) &&
      isDeepStrictEqual(current.metadata.annotations ?? {}, want.metadata.annotations ?? {})
    )
      return;
    const next: KubeObject = {
      ...current,
      metadata: {
        ...current.metadata,
        labels: want.metadata.labels ?? {},
        annotations: want.metadata.annotations ?? {},
      },
    };
    if (want.subsets) next.subsets = want.subsets;
    else delete next.subsets;
    await this.deps.client.update(refs.endpoints, ns, next);
  }
}

export function ignoreNotFound(e: unknown): void {
  if (!isNotFound(e)) throw e;
}
