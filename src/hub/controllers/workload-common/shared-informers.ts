/**
 * SharedInformers: one list+watch cache per resource, shared by the workload controllers
 * (DaemonSet, StatefulSet, Job, CronJob all watch pods; one cache instead of four).
 *
 * Design notes
 * - `start()` is idempotent and memoized: every controller awaits the same sync, so the first
 *   reconcile of any of them sees complete caches.
 * - `awaitCache` is our version of upstream's "expectations": after a controller writes, it
 *   waits (bounded) until its own write is visible in the cache, so the next reconcile of the
 *   same key never acts on a cache that predates the write (no duplicate pods).
 */
import type { KubeObject } from "../../../api/object.js";
import type { Client, ResourceRef } from "../../../client/client.js";
import { Informer } from "../../../client/informer.js";

interface Waiter {
  key: string;
  check: (o: KubeObject | undefined) => boolean;
  resolve: () => void;
}

const refKey = (r: ResourceRef): string => `${r.group}/${r.version}/${r.resource}`;

export class SharedInformers {
  private readonly informers = new Map<string, Informer>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private started: Promise<void> | undefined;
  private users = 0;

  constructor(private readonly client: Client) {}

  /** the informer for a resource; call before start() so it is synced with the rest */
  informer(ref: ResourceRef): Informer {
    const k = refKey(ref);
    let inf = this.informers.get(k);
    if (!inf) {
      inf = new Informer(this.client, ref, { relistDelayMs: 200 });
      const ws = new Set<Waiter>();
      this.waiters.set(k, ws);
      const poke = (o: KubeObject) => this.poke(ws, inf!, o);
      inf.addHandlers({ onAdd: poke, onUpdate: poke, onDelete: poke });
      this.informers.set(k, inf);
      if (this.started) void inf.start();
    }
    return inf;
  }

  /** starts every informer once; later callers await the same sync */
  start(): Promise<void> {
    this.users++;
    this.started ??= Promise.all([...this.informers.values()].map((i) => i.start())).then(() => {});
    return this.started;
  }

  /** stops the informers when the last user stops */
  stop(): void {
    if (this.users > 0) this.users--;
    if (this.users > 0) return;
    for (const i of this.informers.values()) i.stop();
    for (const ws of this.waiters.values()) for (const w of ws) w.resolve();
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
    const inf = this.informer(ref);
    if (check(inf.get(key))) return Promise.resolve();
    const ws = this.waiters.get(refKey(ref))!;
    return new Promise((resolve) => {
      const w: Waiter = {
        key,
        check,
        resolve: () => {
          clearTimeout(t);
          ws.delete(w);
          resolve();
        },
      };
      const t = setTimeout(w.resolve, timeoutMs);
      ws.add(w);
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

  private poke(ws: Set<Waiter>, inf: Informer, o: KubeObject): void {
    if (ws.size === 0) return;
    const k = keyOf(o);
    for (const w of [...ws]) if (w.key === k && w.check(inf.get(k))) w.resolve();
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
