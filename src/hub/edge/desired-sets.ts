/**
 * DesiredSets: every node's desired set at one point of the store's history, in memory, and
 * the change history each set has had since that point (docs/sync-protocol.md, "Desired set").
 *
 *   node N's set = every Service, EndpointSlice and Node                (shared by all nodes)
 *                + pods with spec.nodeName == N
 *                + the ConfigMaps, Secrets, PVCs those pods name, and the PVs those PVCs bind
 *                + the local-path PVs on N's disk (annotation edgekube.io/local-path-node), used
 *                  or not, so the agent sees them released and can clean their directories
 *
 * Design notes
 * - Pure: no store, no timers, no subscribers. DesiredIndex (desired-index.ts) lists the store,
 *   builds one of these from the lists, feeds it the watch's events in revision order, and
 *   builds a fresh one when the watch is lost. Keeping the model apart from the follower lets
 *   the follower swap a whole rebuilt model in at once.
 * - A change's revision is the store revision at which the node's set changed. For an object
 *   written itself, that is its resourceVersion; for a ConfigMap entering (or leaving) the set
 *   because a pod started (or stopped) naming it, it is the pod write's revision. Otherwise an
 *   old ConfigMap entering the set would carry a revision below the agent's watermark and be
 *   skipped. Objects keep their real metadata.resourceVersion.
 * - History is in memory only (ChangeLog per node plus one for the shared part), starting at the
 *   build revision (`base`): an agent with an older watermark gets a snapshot, and since a
 *   snapshot replaces the agent's set, nothing is lost or duplicated.
 * - Reverse index (referenced key → nodes) so a Secret change touches only the nodes that use it.
 * - Nodes are held and sent as their agent view (node-view.ts); a Node write that leaves the
 *   view unchanged (status, heartbeats) changes no set and notifies nobody.
 * - digest(node) (set-digest.ts): the shared part's digest is kept incrementally, a node's
 *   own entries are hashed on demand (each object's hash cached with it), so an agent that
 *   reconnects after a hub restart with an unchanged set gets an empty delta, not a snapshot.
 */
import type { KubeObject } from "../../api/object.js";
import type { DesiredChange, DesiredObject } from "../../transport/envelope.js";
import { entryHash, SetDigest } from "../../transport/set-digest.js";
import type { KeyValue, WatchEvent } from "../store/backend.js";
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

/** An object of the synced resources as the sets hold it (read-only). */
export interface Held {
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

/** The store prefixes whose objects can be in some node's set. */
export const DESIRED_PREFIXES = [...GLOBAL_RESOURCES, ...SCOPED_RESOURCES].map(
  (r) => `${REGISTRY_PREFIX}${r}/`,
);
const GLOBAL = new Set(GLOBAL_RESOURCES);

/** Which subscribers a batch of events concerns: every node when the shared part changed. */
export interface Touched {
  shared: boolean;
  nodes: Set<string>;
}

export class DesiredSets {
  private readonly podsByNode = new Map<string, Set<string>>();
  /** local-path PVs by the node holding their directory */
  private readonly volumesByNode = new Map<string, Set<string>>();
  private readonly watchers = new Map<string, Set<string>>();
  private readonly nodes = new Map<string, NodeSet>();
  private readonly globals = new Map<string, Entry>();
  private readonly globalLog: ChangeLog;
  private readonly globalDigest = new SetDigest();
  private processed: number;

  /**
   * Builds every node's set from `objects` (sync key → held object, as listed at `base`);
   * the history starts empty at `base`.
   */
  constructor(
    private readonly objects: Map<string, Held>,
    private readonly base: number,
    private readonly decode: (kv: KeyValue) => KubeObject,
    private readonly maxLogEntries = 4096,
  ) {
    this.processed = base;
    this.globalLog = new ChangeLog(base, maxLogEntries * 4);
    for (const [key, held] of objects) {
      const res = resourceOf(key);
      if (GLOBAL.has(res)) {
        this.globals.set(key, { rev: held.revision, objRev: held.revision });
        this.globalDigest.toggle(hashOf(key, held));
      }
      if (res === POD) bind(this.podsByNode, key, undefined, podNode(held.object));
      if (res === PV) bind(this.volumesByNode, key, undefined, volumeNode(held.object));
    }
    for (const node of new Set([...this.podsByNode.keys(), ...this.volumesByNode.keys()]))
      this.recompute(node, 0);
  }

  /** the revision the sets are consistent at */
  get revision(): number {
    return this.processed;
  }

  get size(): { objects: number; nodes: number } {
    return { objects: this.objects.size, nodes: this.nodes.size };
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

  pod(namespace: string, name: string): KubeObject | undefined {
    return this.objects.get(syncKey(POD, namespace, name))?.object;
  }

  /** Applies watch events (in revision order); returns whose sets changed. */
  apply(events: readonly WatchEvent[]): Touched {
    const touched: Touched = { shared: false, nodes: new Set() };
    for (const e of events) {
      const rev = e.kv.revision;
      if (rev > this.processed) this.processed = rev;
      if (!e.kv.key.startsWith(REGISTRY_PREFIX) || !DESIRED_PREFIXES.some((p) => e.kv.key.startsWith(p)))
        continue;
      const key = e.kv.key.slice(REGISTRY_PREFIX.length);
      const cur = this.objects.get(key);
      if (cur && cur.revision >= rev) continue; // already reflected by the initial lists
      let next: KubeObject | undefined;
      if (e.type === "delete") this.objects.delete(key);
      else {
        next = agentView(key, this.decode(e.kv));
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
        touched.shared = true;
      } else if (res === POD) {
        const before = cur ? podNode(cur.object) : undefined;
        const after = next ? podNode(next) : undefined;
        bind(this.podsByNode, key, before, after);
        for (const n of new Set([before, after])) if (n && this.recompute(n, rev)) touched.nodes.add(n);
      } else {
        if (res === PV) {
          const before = cur ? volumeNode(cur.object) : undefined;
          const after = next ? volumeNode(next) : undefined;
          bind(this.volumesByNode, key, before, after);
          for (const n of new Set([before, after])) if (n && this.recompute(n, rev)) touched.nodes.add(n);
        }
        for (const n of this.watchers.get(key) ?? []) if (this.recompute(n, rev)) touched.nodes.add(n);
      }
    }
    return touched;
  }

  /**
   * Recomputes a node's scoped set; changes are logged at `rev` (0 = initial build: no log, an
   * entry's revision is the object's own). Returns whether the set changed.
   */
  private recompute(node: string, rev: number): boolean {
    let set = this.nodes.get(node);
    if (!set) {
      set = { entries: new Map(), refs: new Set(), log: new ChangeLog(this.base, this.maxLogEntries) };
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
    for (const r of refs) bind(this.watchers, node, undefined, r);
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
export function agentView(key: string, object: KubeObject): KubeObject {
  return resourceOf(key) === NODE ? nodeView(object) : object;
}

/** Moves `member` from the group `before` to the group `after` (either may be absent). */
function bind(groups: Map<string, Set<string>>, member: string, before?: string, after?: string): void {
  if (before && before !== after) groups.get(before)?.delete(member);
  if (after) {
    let set = groups.get(after);
    if (!set) {
      set = new Set();
      groups.set(after, set);
    }
    set.add(member);
  }
}

function hashOf(key: string, held: Held): Buffer {
  held.hash ??= entryHash(key, held.object);
  return held.hash;
}
