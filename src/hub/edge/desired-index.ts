/**
 * DesiredIndex: the hub's DesiredSource — every node's desired set (desired-sets.ts), built
 * from the store and kept current by one watch (docs/sync-protocol.md, "Desired set").
 *
 * Design notes
 * - One watch over the whole registry, not one informer per resource: agents acknowledge a single
 *   revision watermark, so the hub must know that every change at or below the revision it
 *   reports has been seen. Separate watches progress independently and cannot say that; one
 *   ordered stream can (irrelevant keys are skipped by prefix, without parsing).
 * - The watch starts before the lists, at the revision read before them, and its events are
 *   buffered until the sets are built: nothing written while the lists run is missed, and
 *   anything the lists already reflect is skipped by revision.
 * - After a lost watch everything is rebuilt from the store (as after a hub restart) and the
 *   history starts at the rebuild revision, so agents with an older watermark get a snapshot.
 *   The new sets are built aside and swapped in whole: pod() and the agents' deltas keep
 *   answering from the old ones while the lists run.
 * - Objects are decoded through SharedObjects: read-only, without managedFields, and the same
 *   object the hub's shared informers cache for that write (one copy of each pod, not two).
 */
import type { KubeObject } from "../../api/object.js";
import type { Logger } from "../../lib/logger.js";
import type { DesiredChange, DesiredObject } from "../../transport/envelope.js";
import type { DesiredSource } from "../../transport/sync-hub.js";
import { SharedObjects } from "../shared-objects.js";
import type { Backend, KeyValue, Watch, WatchEvent } from "../store/backend.js";
import { REGISTRY_PREFIX } from "./desired-refs.js";
import { agentView, DESIRED_PREFIXES, DesiredSets, type Held } from "./desired-sets.js";

export interface DesiredIndexOptions {
  backend: Backend;
  logger: Logger;
  /** per-log bound before old history is dropped (agents behind it get a snapshot) */
  maxLogEntries?: number;
  /**
   * decodes stored values; the hub passes the SharedObjects its informers use, so pods,
   * Services, ConfigMaps … are held once for both (default: a private one)
   */
  objects?: SharedObjects;
}

export class DesiredIndex implements DesiredSource {
  private readonly log: Logger;
  private sets: DesiredSets;
  private readonly subs = new Map<string, Set<() => void>>();
  private watch: Watch | undefined;
  private buffer: WatchEvent[] | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly decoder: SharedObjects;
  private readonly decode = (kv: KeyValue): KubeObject => this.decoder.decode(kv);

  constructor(private readonly opts: DesiredIndexOptions) {
    this.log = opts.logger.child({ component: "desired-index" });
    this.decoder = opts.objects ?? new SharedObjects();
    this.sets = new DesiredSets(new Map(), 0, this.decode, opts.maxLogEntries);
  }

  async start(signal?: AbortSignal): Promise<void> {
    this.stopped = false;
    signal?.addEventListener("abort", () => this.stop(), { once: true });
    await this.load();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.watch?.cancel();
    this.watch = undefined;
  }

  /** the revision the index has caught up with */
  get revision(): number {
    return this.sets.revision;
  }

  snapshot(node: string): { revision: number; objects: DesiredObject[] } {
    return this.sets.snapshot(node);
  }

  changesSince(
    node: string,
    watermark: number,
  ): { revision: number; changes: DesiredChange[] } | "compacted" {
    return this.sets.changesSince(node, watermark);
  }

  digest(node: string): { revision: number; digest: string } {
    return this.sets.digest(node);
  }

  subscribe(node: string, onChange: () => void): () => void {
    let set = this.subs.get(node);
    if (!set) {
      set = new Set();
      this.subs.set(node, set);
    }
    set.add(onChange);
    return () => set.delete(onChange);
  }

  /**
   * A pod as the index holds it (read-only), by name: the API server's check that a bound
   * service account token's pod still exists, synchronously and without a store read.
   */
  pod(namespace: string, name: string): KubeObject | undefined {
    return this.sets.pod(namespace, name);
  }

  /** (Re)builds everything from the store, then follows the watch. */
  private async load(): Promise<void> {
    const backend = this.opts.backend;
    this.watch?.cancel();
    this.buffer = [];
    const from = backend.currentRevision();
    this.watch = backend.watch(REGISTRY_PREFIX, {
      fromRevision: from,
      onEvents: (events) => {
        if (this.buffer) this.buffer.push(...events);
        else this.process(events);
        return true;
      },
      onError: (err) => this.lost(err),
    });
    const objects = new Map<string, Held>();
    let base = from;
    for (const prefix of DESIRED_PREFIXES) {
      const r = await backend.list(prefix);
      base = Math.max(base, r.revision);
      for (const kv of r.items) {
        const key = kv.key.slice(REGISTRY_PREFIX.length);
        objects.set(key, { revision: kv.revision, object: agentView(key, this.decode(kv)) });
      }
    }
    this.sets = new DesiredSets(objects, base, this.decode, this.opts.maxLogEntries);
    const buffered = this.buffer;
    this.buffer = undefined;
    this.process(buffered);
    this.log.info({ revision: base, ...this.sets.size }, "desired sets built");
    for (const subs of this.subs.values()) for (const cb of subs) cb();
  }

  private lost(err: Error): void {
    if (this.stopped) return;
    this.log.warn({ err: err.message }, "store watch ended; rebuilding the desired sets");
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      this.load().catch((e: Error) => this.lost(e));
    }, 200);
  }

  private process(events: readonly WatchEvent[]): void {
    const touched = this.sets.apply(events);
    const notify = touched.shared ? [...this.subs.keys()] : [...touched.nodes];
    for (const n of notify) for (const cb of this.subs.get(n) ?? []) cb();
  }
}
