/**
 * Informer: a read-only local cache of one resource kept current by list + watch, relisting
 * when the watch expires (410) or breaks, and telling handlers what changed. Handlers should
 * only enqueue keys (STYLE.md); reconcilers read from the cache.
 *
 * "NEVER modify objects from the store": objects in the cache are shared; clone before change.
 * An optional transform (upstream's SetTransform) trims each object once as it enters the cache,
 * e.g. dropping managedFields nobody here reads.
 *
 * Design notes
 * - The watch starts at the list's resourceVersion, so nothing written between the list and
 *   the watch is missed, and a relist after a 410 or a broken watch does the same again.
 * - A relist is diffed against the cache instead of clearing it: handlers hear onUpdate only
 *   for objects whose resourceVersion moved and onDelete for those missing from the new list,
 *   so a relist does not re-enqueue every key of a large cache, and readers never see it empty.
 * - At most one relist is pending (one timer, a fixed delay): a watch that keeps failing costs
 *   one list per delay, not a growing pile of concurrent relists.
 * - A consumer that adds handlers after the sync is replayed onAdd for every cached object, so a
 *   late consumer of a shared informer starts from the same state as an early one.
 */
import type { KubeObject } from "../api/object.js";
import type { Client, ClientWatch, ClientWatchEvent, ResourceRef } from "./client.js";

export interface InformerHandlers {
  onAdd?(obj: KubeObject): void;
  onUpdate?(obj: KubeObject, old: KubeObject): void;
  onDelete?(obj: KubeObject): void;
}

/**
 * What a consumer of a (possibly shared) informer sees: a read-only cache plus handlers.
 * start() resolves once the cache is synced; stop() detaches this consumer.
 */
export interface InformerCache {
  readonly ref: ResourceRef;
  get(key: string): KubeObject | undefined;
  list(filter?: (o: KubeObject) => boolean): KubeObject[];
  /** handlers added after sync get onAdd for every cached object first; returns a remover */
  addHandlers(h: InformerHandlers): () => void;
  hasSynced(): boolean;
  waitForSync(): Promise<void>;
  start(): Promise<void>;
  stop(): void;
}

export interface InformerOptions {
  namespace?: string;
  /** applied once to every listed or watched object before it is cached and handed out */
  transform?: (obj: KubeObject) => KubeObject;
  /** wait before relisting after an error */
  relistDelayMs?: number;
  onError?: (err: Error) => void;
}

export function objectKey(obj: KubeObject): string {
  const ns = obj.metadata.namespace;
  return ns ? `${ns}/${obj.metadata.name}` : (obj.metadata.name ?? "");
}

export class Informer implements InformerCache {
  private readonly cache = new Map<string, KubeObject>();
  /** replaced, never spliced: removing a handler during an emit must not skip another */
  private handlers: InformerHandlers[] = [];
  private watch: ClientWatch | undefined;
  private synced = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private syncWaiters: (() => void)[] = [];

  constructor(
    private readonly client: Client,
    readonly ref: ResourceRef,
    private readonly opts: InformerOptions = {},
  ) {}

  addHandlers(h: InformerHandlers): () => void {
    this.handlers = [...this.handlers, h];
    if (this.synced) for (const o of this.cache.values()) h.onAdd?.(o);
    return () => {
      this.handlers = this.handlers.filter((x) => x !== h);
    };
  }

  /** objects cached */
  get size(): number {
    return this.cache.size;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.relist();
  }

  stop(): void {
    this.stopped = true;
    this.watch?.cancel();
    if (this.timer) clearTimeout(this.timer);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((r) => this.syncWaiters.push(r));
  }

  get(key: string): KubeObject | undefined {
    return this.cache.get(key);
  }

  list(filter?: (o: KubeObject) => boolean): KubeObject[] {
    const all = [...this.cache.values()];
    return filter ? all.filter(filter) : all;
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    this.watch?.cancel();
    try {
      const res = await this.client.list(this.ref, this.opts.namespace);
      const seen = new Set<string>();
      const tf = this.opts.transform;
      for (const item of res.items) {
        const o = tf ? tf(item) : item;
        const k = objectKey(o);
        seen.add(k);
        const old = this.cache.get(k);
        this.cache.set(k, o);
        if (!old) this.emit((h) => h.onAdd?.(o));
        else if (old.metadata.resourceVersion !== o.metadata.resourceVersion)
          this.emit((h) => h.onUpdate?.(o, old));
      }
      for (const [k, o] of this.cache) {
        if (!seen.has(k)) {
          this.cache.delete(k);
          this.emit((h) => h.onDelete?.(o));
        }
      }
      this.markSynced();
      this.watch = this.client.watch(
        this.ref,
        this.opts.namespace,
        res.resourceVersion,
        (events) => this.apply(events),
        (err) => {
          this.opts.onError?.(err);
          this.scheduleRelist();
        },
      );
    } catch (e) {
      this.opts.onError?.(e as Error);
      this.scheduleRelist();
    }
  }

  private scheduleRelist(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.relist();
    }, this.opts.relistDelayMs ?? 200);
  }

  private markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    const w = this.syncWaiters;
    this.syncWaiters = [];
    for (const r of w) r();
  }

  private apply(events: ClientWatchEvent[]): void {
    const tf = this.opts.transform;
    for (const e of events) {
      const obj = tf ? tf(e.object) : e.object;
      const k = objectKey(obj);
      const old = this.cache.get(k);
      if (e.type === "DELETED") {
        this.cache.delete(k);
        this.emit((h) => h.onDelete?.(obj));
      } else {
        this.cache.set(k, obj);
        if (old) this.emit((h) => h.onUpdate?.(obj, old));
        else this.emit((h) => h.onAdd?.(obj));
      }
    }
  }

  private emit(fn: (h: InformerHandlers) => void): void {
    for (const h of this.handlers) fn(h);
  }
}
