/**
 * Namespace controller: what every namespace needs and how it goes away.
 *
 * Design notes
 * - Defaults (upstream's serviceaccounts controller and root-ca-cert-publisher): each live
 *   namespace gets a `default` ServiceAccount and a `kube-root-ca.crt` ConfigMap. Both are
 *   kept: watches re-queue the namespace when someone deletes or edits them, and the
 *   ConfigMap's ca.crt is set back to the hub's CA when it differs (pods' projected service
 *   account volumes read it to trust https://kubernetes.default.svc).
 * - Lifecycle: a namespace with deletionTimestamp is Terminating; its contents are deleted
 *   (every namespaced resource in the registry), then the `kubernetes` finalizer is removed
 *   from spec.finalizers, which deletes the namespace.
 * - Level-triggered: the watch only enqueues names; reconcile(name) re-reads everything, so a
 *   missed or repeated event changes nothing.
 */
import { ApiError } from "../../../api/errors.js";
import type { KubeObject } from "../../../api/object.js";
import type { Logger } from "../../../lib/logger.js";
import { type ReconcileResult, WorkQueue } from "../../../lib/workqueue.js";
import { decodeStored } from "../../apiserver/codec.js";
import type { ObjectStore } from "../../apiserver/object-store.js";
import type { ResourceRegistry } from "../../apiserver/registry.js";
import type { ResourceInfo } from "../../apiserver/resource-info.js";
import type { Watch } from "../../store/backend.js";

const ROOT_CA_CONFIGMAP = "kube-root-ca.crt";

export interface NamespaceControllerDeps {
  store: ObjectStore;
  registry: ResourceRegistry;
  caPem: string;
  logger: Logger;
}

export class NamespaceController {
  private readonly queue: WorkQueue;
  private watch: Watch | undefined;
  private childWatches: Watch[] = [];

  constructor(private readonly deps: NamespaceControllerDeps) {
    this.queue = new WorkQueue((k) => this.reconcile(k), {
      concurrency: 2,
      onError: (key, err) => deps.logger.warn({ key, err }, "namespace reconcile failed; retrying"),
    });
  }

  private res(group: string, kind: string): ResourceInfo {
    const r = this.deps.registry.byKind(group, kind);
    if (!r) throw new Error(`resource ${kind} is not registered`);
    return r;
  }

  async start(_signal?: AbortSignal): Promise<void> {
    const ns = this.res("", "Namespace");
    const prefix = this.deps.store.prefix(ns);
    const list = await this.deps.store.backend.list(prefix);
    this.watch = this.deps.store.backend.watch(prefix, {
      fromRevision: list.revision,
      onEvents: (events) => {
        for (const e of events) if (e.type !== "delete") this.queue.add(e.kv.key.slice(prefix.length));
      },
      onError: (err) => this.deps.logger.error({ err }, "namespace watch ended"),
    });
    this.childWatches = [
      this.watchNamed(this.res("", "ConfigMap"), ROOT_CA_CONFIGMAP),
      this.watchNamed(this.res("", "ServiceAccount"), "default"),
    ];
    // watches on the children: a namespace waiting for its contents is re-checked as they go
    for (const kv of list.items) this.queue.add(kv.key.slice(prefix.length));
  }

  /** re-queues the namespace when its object `name` of this kind is written or deleted */
  private watchNamed(info: ResourceInfo, name: string): Watch {
    const prefix = this.deps.store.prefix(info);
    return this.deps.store.backend.watch(prefix, {
      fromRevision: this.deps.store.backend.currentRevision(),
      onEvents: (events) => {
        for (const e of events) {
          const [ns, n] = e.kv.key.slice(prefix.length).split("/");
          if (n === name && ns) this.queue.add(ns);
        }
      },
      onError: (err) => this.deps.logger.error({ err, resource: info.resource }, "watch ended"),
    });
  }

  stop(): void {
    this.watch?.cancel();
    for (const w of this.childWatches.splice(0)) w.cancel();
    this.queue.stop();
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  async reconcile(name: string): Promise<ReconcileResult> {
    const nsInfo = this.res("", "Namespace");
    const ns = await this.deps.store.tryGet(nsInfo, undefined, name);
    if (!ns) return;
    if (ns.metadata.deletionTimestamp) return this.finalize(ns);
    await this.ensure(this.res("", "ServiceAccount"), name, {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "default" },
    });
    await this.publishRootCA(name);
  }

  /** kube-root-ca.crt created when missing, its ca.crt set back to the hub's CA when changed */
  private async publishRootCA(ns: string): Promise<void> {
    const info = this.res("", "ConfigMap");
    const cur = await this.deps.store.tryGet(info, ns, ROOT_CA_CONFIGMAP);
    const caPem = this.deps.caPem;
    if (cur) {
      if ((cur.data as Record<string, unknown> | undefined)?.["ca.crt"] === caPem) return;
      try {
        await this.deps.store.guaranteedUpdate(info, ns, ROOT_CA_CONFIGMAP, (o) => ({
          ...o,
          data: { ...((o.data as Record<string, string> | undefined) ?? {}), "ca.crt": caPem },
        }));
      } catch (e) {
        if (!(e instanceof ApiError && (e.code === 404 || e.code === 403))) throw e;
      }
      return;
    }
    await this.ensure(info, ns, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: ROOT_CA_CONFIGMAP,
        annotations: {
          "kubernetes.io/description":
            "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.",
        },
      },
      data: { "ca.crt": caPem },
    });
  }

  private async ensure(info: ResourceInfo, ns: string, obj: KubeObject): Promise<void> {
    if (await this.deps.store.tryGet(info, ns, obj.metadata.name!)) return;
    try {
      await this.deps.store.create(info, ns, obj);
    } catch (e) {
      // AlreadyExists: someone else made it; Forbidden: the namespace started terminating
      if (e instanceof ApiError && (e.code === 409 || e.code === 403 || e.code === 404)) return;
      throw e;
    }
  }

  private async finalize(ns: KubeObject): Promise<ReconcileResult> {
    const name = ns.metadata.name!;
    let remaining = 0;
    for (const info of this.deps.registry.all()) {
      if (!info.namespaced || !info.verbs.includes("delete") || info.group === "events.k8s.io") continue;
      const list = await this.deps.store.backend.list(this.deps.store.prefix(info, name));
      for (const kv of list.items) {
        const obj = decodeStored(kv.value, kv.revision);
        remaining++;
        if (obj.metadata.deletionTimestamp) continue;
        try {
          await this.deps.store.delete(info, name, obj.metadata.name!, { propagationPolicy: "Background" });
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 404)) throw e;
        }
      }
    }
    if (remaining > 0) {
      // re-check soon: finalizers and graceful deletions of the contents take their time
      const left = await this.countContents(name);
      if (left > 0) return { requeueAfterMs: 500 };
    }
    const nsInfo = this.res("", "Namespace");
    await this.deps.store.guaranteedUpdate(nsInfo, undefined, name, (cur) => {
      const spec = (cur.spec ?? {}) as { finalizers?: string[] };
      return {
        ...cur,
        spec: { ...spec, finalizers: (spec.finalizers ?? []).filter((f) => f !== "kubernetes") },
      };
    });
    this.deps.logger.info({ namespace: name }, "namespace finalized");
  }

  private async countContents(name: string): Promise<number> {
    let n = 0;
    for (const info of this.deps.registry.all()) {
      if (!info.namespaced || info.group === "events.k8s.io") continue;
      n += await this.deps.store.backend.count(this.deps.store.prefix(info, name));
    }
    return n;
  }
}
