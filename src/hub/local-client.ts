/**
 * LocalClient: the Client contract served in-process from the hub's object store, for the
 * hub's own controllers and scheduler. Same semantics as the HTTP API (defaults, validation,
 * optimistic concurrency, finalizers) without encoding requests.
 *
 * Objects from get() and writes are private copies. Listed and watched objects are private
 * copies too unless a `decode` is given: the hub's shared informers get a client whose lists
 * and watches decode through SharedObjects (read-only objects shared with the desired index).
 */
import { ApiError } from "../api/errors.js";
import type { KubeObject } from "../api/object.js";
import type {
  Client,
  ClientWatch,
  ClientWatchEvent,
  DeleteOptions,
  ListResult,
  MutateOptions,
  ResourceRef,
} from "../client/client.js";
import { decodeStored } from "./apiserver/codec.js";
import type { ObjectStore } from "./apiserver/object-store.js";
import { ownedUpdate } from "./apiserver/owned-update.js";
import type { ResourceRegistry } from "./apiserver/registry.js";
import type { ResourceInfo } from "./apiserver/resource-info.js";
import { CompactedError, type KeyValue } from "./store/backend.js";

const privateCopy = (kv: KeyValue): KubeObject => decodeStored(kv.value, kv.revision);

export class LocalClient implements Client {
  constructor(
    private readonly store: ObjectStore,
    private readonly registry: ResourceRegistry,
    private readonly decode: (kv: KeyValue) => KubeObject = privateCopy,
  ) {}

  private info(ref: ResourceRef): ResourceInfo {
    const i = this.registry.get(ref.group, ref.version, ref.resource);
    if (!i) throw ApiError.notFound(ref.resource, "", ref.group);
    return i;
  }

  async get(ref: ResourceRef, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    return this.store.tryGet(this.info(ref), namespace, name);
  }

  async list(ref: ResourceRef, namespace?: string): Promise<ListResult> {
    const r = await this.store.backend.list(this.store.prefix(this.info(ref), namespace));
    return {
      items: r.items.map((kv) => this.decode(kv)),
      resourceVersion: String(r.revision),
    };
  }

  watch(
    ref: ResourceRef,
    namespace: string | undefined,
    resourceVersion: string,
    onEvents: (events: ClientWatchEvent[]) => void,
    onError: (err: Error, expired: boolean) => void,
  ): ClientWatch {
    const prefix = this.store.prefix(this.info(ref), namespace);
    try {
      const w = this.store.backend.watch(prefix, {
        fromRevision: Number(resourceVersion) || 0,
        onEvents: (events) => {
          onEvents(
            events.map((e) => ({
              type: e.type === "create" ? "ADDED" : e.type === "update" ? "MODIFIED" : "DELETED",
              object: this.decode(e.kv),
            })),
          );
        },
        onError: (err) => onError(err, err instanceof CompactedError),
      });
      return { cancel: () => w.cancel() };
    } catch (e) {
      queueMicrotask(() => onError(e as Error, e instanceof CompactedError));
      return { cancel: () => {} };
    }
  }

  create(ref: ResourceRef, namespace: string | undefined, obj: KubeObject): Promise<KubeObject> {
    return this.store.create(this.info(ref), namespace, obj);
  }

  update(ref: ResourceRef, namespace: string | undefined, obj: KubeObject): Promise<KubeObject> {
    return this.store.update(this.info(ref), namespace, obj.metadata.name!, obj);
  }

  updateStatus(ref: ResourceRef, namespace: string | undefined, obj: KubeObject): Promise<KubeObject> {
    return this.store.update(this.info(ref), namespace, obj.metadata.name!, obj, { subresource: "status" });
  }

  mutate(
    ref: ResourceRef,
    namespace: string | undefined,
    name: string,
    fn: (cur: KubeObject) => KubeObject,
    opts: MutateOptions = {},
  ): Promise<KubeObject> {
    if (opts.ownedFields && !opts.status) return ownedUpdate(this.store, this.info(ref), namespace, name, fn);
    return this.store.guaranteedUpdate(
      this.info(ref),
      namespace,
      name,
      fn,
      opts.status ? { subresource: "status" } : {},
    );
  }

  async delete(
    ref: ResourceRef,
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions = {},
  ): Promise<void> {
    await this.store.delete(this.info(ref), namespace, name, opts);
  }
}
