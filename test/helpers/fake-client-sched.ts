/**
 * A recording in-memory Client for unit tests of the scheduler, node lifecycle and
 * disruption controllers: objects live in maps, writes bump a revision and notify watchers,
 * and every write is recorded as `verb resource ns/name` for assertions.
 */
import { ApiError } from "../../src/api/errors.js";
import type { KubeObject } from "../../src/api/object.js";
import type {
  Client,
  ClientWatch,
  ClientWatchEvent,
  DeleteOptions,
  ListResult,
  ResourceRef,
} from "../../src/client/client.js";

interface Watcher {
  ref: string;
  ns: string | undefined;
  fn: (e: ClientWatchEvent[]) => void;
}

export class FakeSchedClient implements Client {
  readonly actions: string[] = [];
  private readonly data = new Map<string, Map<string, KubeObject>>();
  private readonly watchers = new Set<Watcher>();
  /** every event with its revision: a watch replays what happened after its list */
  private readonly log: { rev: number; ref: string; type: ClientWatchEvent["type"]; obj: KubeObject }[] = [];
  private rev = 1;

  private bucket(ref: ResourceRef): Map<string, KubeObject> {
    const k = `${ref.group}/${ref.resource}`;
    let b = this.data.get(k);
    if (!b) {
      b = new Map();
      this.data.set(k, b);
    }
    return b;
  }

  private emit(ref: ResourceRef, type: ClientWatchEvent["type"], obj: KubeObject): void {
    const k = `${ref.group}/${ref.resource}`;
    this.log.push({ rev: this.rev, ref: k, type, obj: structuredClone(obj) });
    for (const w of this.watchers) {
      if (w.ref !== k || (w.ns && w.ns !== obj.metadata.namespace)) continue;
      const copy = structuredClone(obj);
      queueMicrotask(() => w.fn([{ type, object: copy }]));
    }
  }

  /** preload or overwrite without recording (test fixtures) */
  seed(ref: ResourceRef, obj: KubeObject): KubeObject {
    const o = structuredClone(obj);
    o.metadata.resourceVersion = String(++this.rev);
    o.metadata.uid ??= `uid-${o.metadata.name}`;
    const key = `${o.metadata.namespace ?? ""}/${o.metadata.name}`;
    const existed = this.bucket(ref).has(key);
    this.bucket(ref).set(key, o);
    this.emit(ref, existed ? "MODIFIED" : "ADDED", o);
    return structuredClone(o);
  }

  async get(ref: ResourceRef, ns: string | undefined, name: string): Promise<KubeObject | undefined> {
    const o = this.bucket(ref).get(`${ns ?? ""}/${name}`);
    return o ? structuredClone(o) : undefined;
  }

  async list(ref: ResourceRef, ns?: string): Promise<ListResult> {
    const items = [...this.bucket(ref).values()].filter((o) => !ns || o.metadata.namespace === ns);
    return { items: items.map((o) => structuredClone(o)), resourceVersion: String(this.rev) };
  }

  watch(
    ref: ResourceRef,
    ns: string | undefined,
    rv: string,
    onEvents: (e: ClientWatchEvent[]) => void,
  ): ClientWatch {
    const w: Watcher = { ref: `${ref.group}/${ref.resource}`, ns, fn: onEvents };
    const from = Number(rv) || 0;
    for (const e of this.log) {
      if (e.rev <= from || e.ref !== w.ref || (ns && ns !== e.obj.metadata.namespace)) continue;
      const copy = structuredClone(e.obj);
      queueMicrotask(() => w.fn([{ type: e.type, object: copy }]));
    }
    this.watchers.add(w);
    return { cancel: () => this.watchers.delete(w) };
  }

  async create(ref: ResourceRef, ns: string | undefined, obj: KubeObject): Promise<KubeObject> {
    const key = `${ns ?? ""}/${obj.metadata.name}`;
    if (this.bucket(ref).has(key)) throw ApiError.alreadyExists(ref.resource, obj.metadata.name ?? "");
    this.actions.push(`create ${ref.resource} ${key}`);
    return this.seed(ref, { ...obj, metadata: { ...obj.metadata, ...(ns ? { namespace: ns } : {}) } });
  }

  private async write(
    verb: string,
    ref: ResourceRef,
    ns: string | undefined,
    obj: KubeObject,
  ): Promise<KubeObject> {
    const key = `${ns ?? ""}/${obj.metadata.name}`;
    const cur = this.bucket(ref).get(key);
    if (!cur) throw ApiError.notFound(ref.resource, obj.metadata.name ?? "");
    if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== cur.metadata.resourceVersion)
      throw ApiError.conflict(ref.resource, obj.metadata.name ?? "");
    this.actions.push(`${verb} ${ref.resource} ${key}`);
    return this.seed(ref, obj);
  }

  update(ref: ResourceRef, ns: string | undefined, obj: KubeObject): Promise<KubeObject> {
    return this.write("update", ref, ns, obj);
  }

  updateStatus(ref: ResourceRef, ns: string | undefined, obj: KubeObject): Promise<KubeObject> {
    return this.write("update-status", ref, ns, obj);
  }

  async mutate(
    ref: ResourceRef,
    ns: string | undefined,
    name: string,
    fn: (cur: KubeObject) => KubeObject,
    opts: { status?: boolean } = {},
  ): Promise<KubeObject> {
    const cur = await this.get(ref, ns, name);
    if (!cur) throw ApiError.notFound(ref.resource, name);
    return this.write(opts.status ? "update-status" : "update", ref, ns, fn(cur));
  }

  async delete(ref: ResourceRef, ns: string | undefined, name: string, _opts?: DeleteOptions): Promise<void> {
    const key = `${ns ?? ""}/${name}`;
    const cur = this.bucket(ref).get(key);
    if (!cur) throw ApiError.notFound(ref.resource, name);
    this.actions.push(`delete ${ref.resource} ${key}`);
    this.bucket(ref).delete(key);
    this.rev++;
    this.emit(ref, "DELETED", cur);
  }

  /** stored objects of one resource (assertions) */
  objects(ref: ResourceRef): KubeObject[] {
    return [...this.bucket(ref).values()].map((o) => structuredClone(o));
  }
}
