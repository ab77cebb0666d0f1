/**
 * DesiredIndex: the hub's DesiredSource — every node's desired set, computed in memory from the
 * store and kept current by one watch (docs/sync-protocol.md, "Desired set").
 *
 *   node N's set = every Service, EndpointSlice and Node                (shared by all nodes)
 *                + pods with spec.nodeName == N
 *                + the ConfigMaps, Secrets, PVCs those pods name, and the PVs those PVCs bind
 *                + the local-path PVs on N's disk (annotation edgekube.io/local-path-node), used
 *                  or not, so the agent sees them released and can clean their directories
 *
 * Design notes
 * - One watch over the whole registry, not one informer per resource: agents acknowledge a single
 *   revision watermark, so the hub must know that every change at or below the revision it
 *   reports has been seen. Separate watches progress independently and cannot say that; one
 *   ordered stream can (irrelevant keys are skipped by prefix, without parsing).
 * - A change's revision is the store revision at which the node's set changed. For an object
 *   written itself, that is its resourceVersion; for a ConfigMap entering (or leaving) the set
 *   because a pod started (or stopped) naming it, it is the pod write's revision. Otherwise an
 *   old ConfigMap entering the set would carry a revision below the agent's watermark and be
 *   skipped. Objects keep their real metadata.resourceVersion.
 * - History is in memory only (ChangeLog per node plus one for the shared part). After a hub
 *   restart or a lost watch everything is rebuilt from the store and the logs start at the
 *   rebuild revision, so agents with an older watermark get a snapshot: nothing is lost, and
 *   since a snapshot replaces the agent's set, nothing is duplicated.
 * - Reverse index (referenced key → nodes) so a Secret change touches only the nodes that use it.
 * - Objects are decoded through SharedObjects: read-only, without managedFields, and the same
 *   object the hub's shared informers cache for that write (one copy of each pod, not two).
 * - Nodes are held and sent as their agent view (node-view.ts); a Node write that leaves the
 *   view unchanged (status, heartbeats) changes no set and notifies nobody.
 * - digest(node) (set-digest.ts): the shared part's digest is kept incrementally, a node's
 *   own entries are hashed on demand (each object's hash cached with it), so an agent that
 *   reconnects after a hub restart with an unchanged set gets an empty delta, not a snapshot.
 */
import type { KubeObject } from "../../api/object.js";
import type { Logger } from "../../lib/logger.js";
import type { DesiredChange, DesiredObject } from "../../transport/envelope.js";
import { entryHash, SetDigest } from "../../transport/set-digest.js";
import type { DesiredSource } from "../../transport/sync-hub.js";
import { SharedObjects } from "../shared-objects.js";
import type { Backend, Watch, WatchEvent } from "../store/backend.js";
import { ChangeLog } from "./change-log.js";
import {
  claimVolume,
  GLOBAL_RESOURCES,
  NODE,
  POD,
  PV,
  PVC,
  podNode,
  podReferences,
  REGISTRY_PREFIX,
  resourceOf,
  SCOPED_RESOURCES,
  syncKey,
  volumeNode,
} from "./desired-refs.js";
import { nodeView, sameView } from "./node-view.js";

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

interface Held {
  revision: number;
  object: KubeObject;
  /** entryHash(key, object), computed when first needed */
  hash?: Buffer;
}
/** rev: revision of the last put into the set; objRev: the object's own revision then */
interface Entry {
  rev: number;
  objRev: number;
}
interface NodeSet {
  entries: Map<string, Entry>;
  refs: Set<string>;
  log: ChangeLog;
}

const PREFIXES = [...GLOBAL_RESOURCES, ...SCOPED_RESOURCES].map((r) => `${REGISTRY_PREFIX}${r}/`);
const GLOBAL = new Set(GLOBAL_RESOURCES);

export class DesiredIndex implements DesiredSource {
  private readonly log: Logger;
  private objects = new Map<string, Held>();
  private podsByNode = new Map<string, Set<string>>();
  /** local-path PVs by the node holding their directory */
  private volumesByNode = new Map<string, Set<string>>();
  private watchers = new Map<string, Set<string>>();
  private nodes = new Map<string, NodeSet>();
  private globals = new Map<string, Entry>();
  private globalLog = new ChangeLog(0);
  private globalDigest = new SetDigest();
  private processed = 0;
  private base = 0;
  private readonly subs = new Map<string, Set<() => void>>();
  private watch: Watch | undefined;
  private buffer: WatchEvent[] | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly decoder: SharedObjects;

  constructor(private readonly opts: DesiredIndexOptions) {
    this.log = opts.logger.child({ component: "desired-index" });
    this.decoder = opts.objects ?? new SharedObjects();
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
    return this.processed;
  }

  snapshot(node: string): { revision: number; objects: DesiredObject[] } {
    const objects: DesiredObject[] = [];
    const add = (key: string, e: Entry) => {
      const held = this.objects.get(key);
      if (held) objects.push({ key, revision: e.rev, object: held.object });
    };
    for (const [k, e] of this.globals) add(k, e);
    for (const [k, e] of this.nodes.get(node)?.entries ?? []) add(k, e);
    return { revision: this.processed, objects };
  }

  changesSince(
    node: string,
    watermark: number,
  ): { revision: number; changes: DesiredChange[] } | "compacted" {
    const set = this.nodes.get(node);
    if (!this.globalLog.covers(watermark) || !(set ? set.log.covers(watermark) : watermark >= this.base)) {
      return "compacted";
    }
    const newest = [
      ...this.globalLog.since(watermark).values(),
      ...(set?.log.since(watermark).values() ?? []),
    ];
    newest.sort((a, b) => a.revision - b.revision);
    const changes: DesiredChange[] = [];
    for (const e of newest) {
      if (e.op === "delete") {
        changes.push({ op: "delete", key: e.key, revision: e.revision });
        continue;
      }
      const held = this.objects.get(e.key);
      if (held) changes.push({ op: "put", key: e.key, revision: e.revision, object: held.object });
    }
    return { revision: this.processed, changes };
  }

  digest(node: string): { revision: number; digest: string } {
    const d = this.globalDigest.clone();
    for (const key of this.nodes.get(node)?.entries.keys() ?? []) {
      const held = this.objects.get(key);
      if (held) d.toggle(hashOf(key, held));
    }
    return { revision: this.processed, digest: d.hex() };
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
    return this.objects.get(syncKey(POD, namespace, name))?.object;
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
    // built aside and swapped in: pod() keeps answering from the old map while the lists run
    const objects = new Map<string, Held>();
    let base = from;
    for (const prefix of PREFIXES) {
      const r = await backend.list(prefix);
      base = Math.max(base, r.revision);
      for (const kv of r.items) {
        const key = kv.key.slice(REGISTRY_PREFIX.length);
        objects.set(key, {
          revision: kv.revision,
          object: agentView(key, this.decoder.decode(kv)),
        });
      }
    }
    this.objects = objects;
    this.base = base;
    this.processed = base;
    this.podsByNode = new Map();
    this.volumesByNode = new Map();
    this.watchers = new Map();
    this.nodes = new Map();
    this.globals = new Map();
    this.globalLog = new ChangeLog(base, (this.opts.maxLogEntries ?? 4096) * 4);
    this.globalDigest = new SetDigest();
    for (const [key, held] of this.objects) {
      const res = resourceOf(key);
      if (GLOBAL.has(res)) {
        this.globals.set(key, { rev: held.revision, objRev: held.revision });
        this.globalDigest.toggle(hashOf(key, held));
      }
      if (res === POD) this.bind(this.podsByNode, key, undefined, podNode(held.object));
      if (res === PV) this.bind(this.volumesByNode, key, undefined, volumeNode(held.object));
    }
    for (const node of new Set([...this.podsByNode.keys(), ...this.volumesByNode.keys()]))
      this.recompute(node, 0);
    const buffered = this.buffer;
    this.buffer = undefined;
    this.process(buffered);
    this.log.info(
      { revision: base, objects: this.objects.size, nodes: this.nodes.size },
      "desired sets built",
    );
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
    const touched = new Set<string>();
    let shared = false;
    for (const e of events) {
      const rev = e.kv.revision;
      if (rev > this.processed) this.processed = rev;
      if (!e.kv.key.startsWith(REGISTRY_PREFIX) || !PREFIXES.some((p) => e.kv.key.startsWith(p))) continue;
      const key = e.kv.key.slice(REGISTRY_PREFIX.length);
      const cur = this.objects.get(key);
      if (cur && cur.revision >= rev) continue; // already reflected by the initial lists
      let next: KubeObject | undefined;
      if (e.type === "delete") this.objects.delete(key);
      else {
        next = agentView(key, this.decoder.decode(e.kv));
        if (cur && resourceOf(key) === NODE && sameView(cur.object, next)) {
          // a status-only write: agents keep the view they have (same bytes, same digest)
          this.objects.set(key, { ...cur, revision: rev });
          continue;
        }
        this.objects.set(key, { revision: rev, object: next });
      }
      const res = resourceOf(key);
      if (GLOBAL.has(res)) {
        const held = this.objects.get(key);
        if (cur && this.globals.has(key)) this.globalDigest.toggle(hashOf(key, cur));
        if (next && held) {
          this.globals.set(key, { rev, objRev: rev });
          this.globalDigest.toggle(hashOf(key, held));
        } else if (!this.globals.delete(key)) continue;
        this.globalLog.append({ op: next ? "put" : "delete", key, revision: rev });
        shared = true;
      } else if (res === POD) {
        const before = cur ? podNode(cur.object) : undefined;
        const after = next ? podNode(next) : undefined;
        this.bind(this.podsByNode, key, before, after);
        for (const n of new Set([before, after])) if (n && this.recompute(n, rev)) touched.add(n);
      } else {
        if (res === PV) {
          const before = cur ? volumeNode(cur.object) : undefined;
          const after = next ? volumeNode(next) : undefined;
          this.bind(this.volumesByNode, key, before, after);
          for (const n of new Set([before, after])) if (n && this.recompute(n, rev)) touched.add(n);
        }
        for (const n of this.watchers.get(key) ?? []) if (this.recompute(n, rev)) touched.add(n);
      }
    }
    const notify = shared ? [...this.subs.keys()] : [...touched];
    for (const n of notify) for (const cb of this.subs.get(n) ?? []) cb();
  }

  private bind(
    byNode: Map<string, Set<string>>,
    key: string,
    before: string | undefined,
    after: string | undefined,
  ): void {
    if (before && before !== after) byNode.get(before)?.delete(key);
    if (after) {
      let set = byNode.get(after);
      if (!set) {
        set = new Set();
        byNode.set(after, set);
      }
      set.add(key);
    }
  }

  /**
   * Recomputes a node's scoped set; changes are logged at `rev` (0 = initial build: no log, an
   * entry's revision is the object's own). Returns whether the set changed.
   */
  private recompute(node: string, rev: number): boolean {
    let set = this.nodes.get(node);
    if (!set) {
      set = {
        entries: new Map(),
        refs: new Set(),
        log: new ChangeLog(this.base, this.opts.maxLogEntries ?? 4096),
      };
      this.nodes.set(node, set);
    }
    const wanted = new Map<string, number>();
    const refs = new Set<string>();
    const want = (key: string) => {
      refs.add(key);
      const held = this.objects.get(key);
      if (held) wanted.set(key, held.revision);
      return held;
    };
    for (const podKey of this.podsByNode.get(node) ?? []) {
      const pod = this.objects.get(podKey);
      if (!pod) continue;
      wanted.set(podKey, pod.revision);
      for (const r of podReferences(pod.object)) {
        const held = want(r);
        const pv = held && resourceOf(r) === PVC ? claimVolume(held.object) : undefined;
        if (pv) want(pv);
      }
    }
    for (const pvKey of this.volumesByNode.get(node) ?? []) want(pvKey);
    for (const r of set.refs) {
      if (refs.has(r)) continue;
      const w = this.watchers.get(r);
      w?.delete(node);
      if (w?.size === 0) this.watchers.delete(r);
    }
    for (const r of refs) {
      let w = this.watchers.get(r);
      if (!w) {
        w = new Set();
        this.watchers.set(r, w);
      }
      w.add(node);
    }
    set.refs = refs;
    let changed = false;
    for (const [key, objRev] of wanted) {
      const e = set.entries.get(key);
      if (e && e.objRev === objRev) continue;
      set.entries.set(key, { rev: rev || objRev, objRev });
      if (rev) set.log.append({ op: "put", key, revision: rev });
      changed = true;
    }
    for (const key of [...set.entries.keys()]) {
      if (wanted.has(key)) continue;
      set.entries.delete(key);
      if (rev) set.log.append({ op: "delete", key, revision: rev });
      changed = true;
    }
    return changed;
  }
}

/** What agents receive for an object: Nodes as their agent view, everything else as stored. */
function agentView(key: string, object: KubeObject): KubeObject {
  return resourceOf(key) === NODE ? nodeView(object) : object;
}

function hashOf(key: string, held: Held): Buffer {
  held.hash ??= entryHash(key, held.object);
  return held.hash;
}
