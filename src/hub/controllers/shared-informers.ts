/**
 * SharedInformers: the hub's one informer factory (upstream's SharedInformerFactory). Every
 * controller, the scheduler and the edge desired index read the same cache of each resource,
 * so a 10k-pod cluster holds each pod once, not once per consumer.
 *
 * Design notes
 * - `informer(ref)` hands each consumer its own handle (InformerCache) over the shared
 *   Informer: handle.start() acquires the informer (starting it on first use) and resolves
 *   once it is synced; handle.stop() removes that consumer's handlers and releases it. Code
 *   written against a private Informer keeps its shape: construct, add handlers, start, stop.
 * - `acquire(ref)`/`release(ref)` count users per resource; `start()` is the owner's hold on
 *   every informer (the hub calls it once before the controllers start and `stop()` at the
 *   end). An informer stops when its last user lets go and the owner does not hold it; it
 *   keeps its handlers and relists when someone acquires it again.
 * - Cached objects are read-only and shared by every consumer: mutate copies only.
 * - The cache keeps no managedFields (the transform drops them as objects arrive): no
 *   controller reads them, and on a cluster driven by `kubectl apply` they are a large part
 *   of each object. Updates written from a cached copy keep the stored managedFields (the
 *   store, like upstream, keeps the live ones when an update carries none).
 * - `awaitCache` is our version of upstream's "expectations": after a controller writes, it
 *   waits (bounded) until its own write is visible in the cache, so the next reconcile of the
 *   same key never acts on a cache that predates the write (no duplicate pods).
 */
import type { KubeObject } from "../../api/object.js";
import type { Client, ResourceRef } from "../../client/client.js";
import { Informer, type InformerCache, type InformerHandlers } from "../../client/informer.js";
import type { Logger } from "../../lib/logger.js";
import { dropManagedFields } from "../shared-objects.js";

interface Entry {
  informer: Informer;
  started: Promise<void> | undefined;
  users: number;
  waiters: Set<Waiter>;
}

interface Waiter {
  key: string;
  check: (o: KubeObject | undefined) => boolean;
  resolve: () => void;
}

export interface SharedInformersOptions {
  logger?: Logger;
  /** wait before relisting after a watch error (default 200 ms) */
  relistDelayMs?: number;
}

const refKey = (r: ResourceRef): string => `${r.group}/${r.version}/${r.resource}`;

export class SharedInformers {
  private readonly entries = new Map<string, Entry>();
  /** group/resource → entry (the first version registered), for cached() */
  private readonly byResource = new Map<string, Entry>();
  private held = false;

  constructor(
    private readonly client: Client,
    private readonly opts: SharedInformersOptions = {},
  ) {}

  /** a consumer's handle on the shared informer for ref (start() it to use the cache) */
  informer(ref: ResourceRef): InformerCache {
    return new InformerHandle(this, this.entry(ref).informer);
  }

  /** registers informers without a consumer yet; start() then holds and starts them too */
  register(...refs: ResourceRef[]): void {
    for (const r of refs) this.entry(r);
  }

  /** the shared informer for ref, started and synced when the promise resolves */
  async acquire(ref: ResourceRef): Promise<Informer> {
    const e = this.entry(ref);
    e.users++;
    await this.run(e);
    return e.informer;
  }

  release(ref: ResourceRef): void {
    const e = this.entries.get(refKey(ref));
    if (!e) return;
    if (e.users > 0) e.users--;
    if (e.users === 0 && !this.held) this.pause(e);
  }

  /** the informer for ref if one exists (no start): a synchronous read of the shared cache */
  peek(ref: ResourceRef): Informer | undefined {
    return this.entries.get(refKey(ref))?.informer;
  }

  /**
   * The object cached under key by the informer of (group, resource), any version: how
   * SharedObjects finds a copy to share (CachedObjectLookup).
   */
  cached(group: string, resource: string, key: string): KubeObject | undefined {
    return this.byResource.get(`${group}/${resource}`)?.informer.get(key);
  }

  /** holds and starts every informer registered so far (and any registered later); idempotent */
  async start(): Promise<void> {
    this.held = true;
    await Promise.all([...this.entries.values()].map((e) => this.run(e)));
  }

  /** lets go of the owner's hold: informers without users stop */
  stop(): void {
    this.held = false;
    for (const e of this.entries.values()) if (e.users === 0) this.pause(e);
  }

  /**
   * Resolves once `check(cached object)` holds for `key` or after `timeoutMs` (the watch
   * may be relisting; the reconcile that follows re-reads anyway).
   */
  awaitCache(
    ref: ResourceRef,
    key: string,
    check: (o: KubeObject | undefined) => boolean,
    timeoutMs = 5000,
  ): Promise<void> {
    const e = this.entry(ref);
    if (check(e.informer.get(key))) return Promise.resolve();
    return new Promise((resolve) => {
      const w: Waiter = {
        key,
        check,
        resolve: () => {
          clearTimeout(t);
          e.waiters.delete(w);
          resolve();
        },
      };
      const t = setTimeout(w.resolve, timeoutMs);
      e.waiters.add(w);
    });
  }

  /** cache holds `obj` at least as new as a write that returned it */
  awaitWrite(ref: ResourceRef, obj: KubeObject): Promise<void> {
    const rv = Number(obj.metadata.resourceVersion ?? 0);
    return this.awaitCache(ref, keyOf(obj), (o) => !!o && Number(o.metadata.resourceVersion ?? 0) >= rv);
  }

  /** cache no longer holds the object, or holds it marked for deletion */
  awaitDelete(ref: ResourceRef, key: string): Promise<void> {
    return this.awaitCache(ref, key, (o) => !o || !!o.metadata.deletionTimestamp);
  }

  private entry(ref: ResourceRef): Entry {
    const k = refKey(ref);
    let e = this.entries.get(k);
    if (e) return e;
    const informer = new Informer(this.client, ref, {
      relistDelayMs: this.opts.relistDelayMs ?? 200,
      transform: dropManagedFields,
      onError: (err) => this.opts.logger?.debug({ err, resource: ref.resource }, "informer relisting"),
    });
    const waiters = new Set<Waiter>();
    const poke = (o: KubeObject) => {
      if (waiters.size === 0) return;
      const key = keyOf(o);
      for (const w of [...waiters]) if (w.key === key && w.check(informer.get(key))) w.resolve();
    };
    informer.addHandlers({ onAdd: poke, onUpdate: poke, onDelete: poke });
    e = { informer, started: undefined, users: 0, waiters };
    this.entries.set(k, e);
    if (!this.byResource.has(`${ref.group}/${ref.resource}`))
      this.byResource.set(`${ref.group}/${ref.resource}`, e);
    if (this.held) void this.run(e);
    return e;
  }

  private run(e: Entry): Promise<void> {
    e.started ??= e.informer.start().then(() => e.informer.waitForSync());
    return e.started;
  }

  /** stops the watch; the entry (and its consumers' handlers) stays for a later restart */
  private pause(e: Entry): void {
    e.informer.stop();
    e.started = undefined;
    for (const w of [...e.waiters]) w.resolve();
  }
}

/** One consumer's view of a shared informer: its own handlers, one acquire per start. */
class InformerHandle implements InformerCache {
  private removers: (() => void)[] = [];
  private acquired = false;

  constructor(
    private readonly factory: SharedInformers,
    private readonly inner: Informer,
  ) {}

  get ref(): ResourceRef {
    return this.inner.ref;
  }

  get(key: string): KubeObject | undefined {
    return this.inner.get(key);
  }

  list(filter?: (o: KubeObject) => boolean): KubeObject[] {
    return this.inner.list(filter);
  }

  addHandlers(h: InformerHandlers): () => void {
    const remove = this.inner.addHandlers(h);
    this.removers.push(remove);
    return remove;
  }

  hasSynced(): boolean {
    return this.inner.hasSynced();
  }

  waitForSync(): Promise<void> {
    return this.inner.waitForSync();
  }

  async start(): Promise<void> {
    if (!this.acquired) {
      this.acquired = true;
      await this.factory.acquire(this.inner.ref);
    } else await this.inner.waitForSync();
  }

  stop(): void {
    for (const r of this.removers) r();
    this.removers = [];
    if (this.acquired) this.factory.release(this.inner.ref);
    this.acquired = false;
  }
}

export function keyOf(o: KubeObject): string {
  const ns = o.metadata.namespace;
  return ns ? `${ns}/${o.metadata.name}` : (o.metadata.name ?? "");
}

export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf("/");
  return i < 0 ? { namespace: "", name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
