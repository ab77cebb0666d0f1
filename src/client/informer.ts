/**
 * Informer: a read-only local cache of one resource kept current by list + watch, relisting
 * when the watch expires (410) or breaks, and telling handlers what changed. Handlers should
 * only enqueue keys (STYLE.md); reconcilers read from the cache.
 *
 * "NEVER modify objects from the store": objects in the cache are shared; clone before change.
 */
import type { KubeObject } from "../api/object.js";
import type { Client, ClientWatch, ClientWatchEvent, ResourceRef } from "./client.js";

export interface InformerHandlers {
  onAdd?(obj: KubeObject): void;
  onUpdate?(obj: KubeObject, old: KubeObject): void;
  onDelete?(obj: KubeObject): void;
}

export interface InformerOptions {
  namespace?: string;
  /** wait before relisting after an error */
  relistDelayMs?: number;
  onError?: (err: Error) => void;
}

export function objectKey(obj: KubeObject): string {
  const ns = obj.metadata.namespace;
  return ns ? `${ns}/${obj.metadata.name}` : (obj.metadata.name ?? "");
}

export class Informer {
  private readonly cache = new Map<string, KubeObject>();
  private readonly handlers: InformerHandlers[] = [];
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

  addHandlers(h: InformerHandlers): void {
    this.handlers.push(h);
    if (this.synced) for (const o of this.cache.values()) h.onAdd?.(o);
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
      for (const o of res.items) {
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
    for (const e of events) {
      const k = objectKey(e.object);
      const old = this.cache.get(k);
      if (e.type === "DELETED") {
        this.cache.delete(k);
        this.emit((h) => h.onDelete?.(e.object));
      } else {
        this.cache.set(k, e.object);
        if (old) this.emit((h) => h.onUpdate?.(e.object, old));
        else this.emit((h) => h.onAdd?.(e.object));
      }
    }
  }

  private emit(fn: (h: InformerHandlers) => void): void {
    for (const h of this.handlers) fn(h);
  }
}
