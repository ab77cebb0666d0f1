/**
 * A recording in-memory Client for unit tests of the endpoints, volume and CRD controllers:
 * objects live in maps, writes bump a revision counter and are delivered to watchers
 * synchronously (so informers are current right after a write), and every write is recorded
 * as `verb resource ns/name` for assertions. Generation, validation and finalizer semantics of
 * the real store are deliberately absent (pure-logic tests only); deleting an object that has
 * finalizers sets deletionTimestamp, and removing the last finalizer deletes it.
 */
import type { KubeObject } from "../../src/api/object.js";
import type {
  Client,
  ClientWatch,
  ClientWatchEvent,
  DeleteOptions,
  ListResult,
  ResourceRef,
} from "../../src/client/client.js";

export interface RecordedAction {
  verb: "create" | "update" | "updateStatus" | "delete";
  resource: string;
  namespace: string | undefined;
  name: string;
  object?: KubeObject;
}

function refKey(ref: ResourceRef): string {
  return `${ref.group}/${ref.resource}`;
}

function notFound(resource: string, name: string): Error {
  return Object.assign(new Error(`${resource} "${name}" not found`), { code: 404 });
}

export class FakeClient implements Client {
  readonly actions: RecordedAction[] = [];
  private readonly data = new Map<string, Map<string, KubeObject>>();
  private readonly watchers = new Set<{ ref: string; ns?: string; fn: (e: ClientWatchEvent[]) => void }>();
  private rev = 1;
  private seq = 0;

  private bucket(ref: ResourceRef): Map<string, KubeObject> {
    const b = this.data.get(refKey(ref)) ?? new Map<string, KubeObject>();
    this.data.set(refKey(ref), b);
    return b;
  }

  /** preload without recording (fixture) */
  seed(ref: ResourceRef, obj: KubeObject): KubeObject {
    const o = structuredClone(obj);
    o.metadata.uid ??= `uid-${obj.metadata.name}`;
    o.metadata.resourceVersion = String(++this.rev);
    o.metadata.creationTimestamp ??= "2024-01-01T00:00:00Z";
    this.bucket(ref).set(`${o.metadata.namespace ?? ""}/${o.metadata.name}`, o);
    this.emit(ref, "ADDED", o);
    return structuredClone(o);
  }

  /** recorded actions as short strings, for compact assertions */
  verbs(): string[] {
    return this.actions.map(
      (a) => `${a.verb} ${a.resource} ${a.namespace ? `${a.namespace}/` : ""}${a.name}`,
    );
  }

  objects(ref: ResourceRef, namespace?: string): KubeObject[] {
    return [...this.bucket(ref).values()]
      .filter((o) => namespace === undefined || o.metadata.namespace === namespace)
      .map((o) => structuredClone(o));
  }

  private emit(ref: ResourceRef, type: ClientWatchEvent["type"], obj: KubeObject): void {
    for (const w of this.watchers) {
      if (w.ref === refKey(ref) && (w.ns === undefined || w.ns === obj.metadata.namespace))
        w.fn([{ type, object: structuredClone(obj) }]);
    }
  }

  async get(ref: ResourceRef, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    const o = this.bucket(ref).get(`${namespace ?? ""}/${name}`);
    return o ? structuredClone(o) : undefined;
  }

  async list(ref: ResourceRef, namespace?: string): Promise<ListResult> {
    return { items: this.objects(ref, namespace), resourceVersion: String(this.rev) };
  }

  watch(
    ref: ResourceRef,
    namespace: string | undefined,
    _rv: string,
    onEvents: (events: ClientWatchEvent[]) => void,
  ): ClientWatch {
    const w = { ref: refKey(ref), ...(namespace !== undefined ? { ns: namespace } : {}), fn: onEvents };
    this.watchers.add(w);
    return { cancel: () => this.watchers.delete(w) };
  }

  async create(ref: ResourceRef, namespace: string | undefined, obj: KubeObject): Promise<KubeObject> {
    const o = structuredClone(obj);
    if (!o.metadata.name && o.metadata.generateName)
      o.metadata.name = `${o.metadata.generateName}${++this.seq}`;
    if (namespace !== undefined) o.metadata.namespace = namespace;
    const k = `${namespace ?? ""}/${o.metadata.name}`;
    if (this.bucket(ref).has(k))
      throw Object.assign(new Error(`${ref.resource} "${o.metadata.name}" already exists`), { code: 409 });
    o.metadata.uid = `uid-${o.metadata.name}`;
    o.metadata.resourceVersion = String(++this.rev);
    o.metadata.creationTimestamp ??= "2024-01-01T00:00:00Z";
    this.bucket(ref).set(k, o);
    this.actions.push({
      verb: "create",
      resource: ref.resource,
      namespace,
      name: o.metadata.name!,
      object: o,
    });
    this.emit(ref, "ADDED", o);
    return structuredClone(o);
  }

  private write(
    ref: ResourceRef,
    namespace: string | undefined,
    obj: KubeObject,
    status: boolean,
  ): KubeObject {
    const k = `${namespace ?? ""}/${obj.metadata.name}`;
    const cur = this.bucket(ref).get(k);
    if (!cur) throw notFound(ref.resource, obj.metadata.name ?? "");
    const rv = obj.metadata.resourceVersion;
    if (rv && rv !== cur.metadata.resourceVersion)
      throw Object.assign(new Error("the object has been modified"), { code: 409 });
    const o = status
      ? { ...structuredClone(cur), status: structuredClone(obj.status) }
      : structuredClone(obj);
    o.metadata.resourceVersion = String(++this.rev);
    this.actions.push({
      verb: status ? "updateStatus" : "update",
      resource: ref.resource,
      namespace,
      name: o.metadata.name!,
      object: o,
    });
    if (o.metadata.deletionTimestamp && (o.metadata.finalizers ?? []).length === 0) {
      this.bucket(ref).delete(k);
      this.emit(ref, "DELETED", o);
    } else {
      this.bucket(ref).set(k, o);
      this.emit(ref, "MODIFIED", o);
    }
    return structuredClone(o);
  }

  async update(ref: ResourceRef, namespace: string | undefined, obj: KubeObject): Promise<KubeObject> {
    return this.write(ref, namespace, obj, false);
  }

  async updateStatus(ref: ResourceRef, namespace: string | undefined, obj: KubeObject): Promise<KubeObject> {
    return this.write(ref, namespace, obj, true);
  }

  async mutate(
    ref: ResourceRef,
    namespace: string | undefined,
    name: string,
    fn: (cur: KubeObject) => KubeObject,
    opts: { status?: boolean } = {},
  ): Promise<KubeObject> {
    // read-modify-write in one synchronous step: like the real store's retries, never conflicts
    const cur = this.bucket(ref).get(`${namespace ?? ""}/${name}`);
    if (!cur) throw notFound(ref.resource, name);
    return this.write(ref, namespace, fn(structuredClone(cur)), opts.status === true);
  }

  async delete(
    ref: ResourceRef,
    namespace: string | undefined,
    name: string,
    _opts?: DeleteOptions,
  ): Promise<void> {
    const k = `${namespace ?? ""}/${name}`;
    const cur = this.bucket(ref).get(k);
    if (!cur) throw notFound(ref.resource, name);
    this.actions.push({ verb: "delete", resource: ref.resource, namespace, name });
    if ((cur.metadata.finalizers ?? []).length > 0) {
      if (cur.metadata.deletionTimestamp) return;
      const o = { ...cur, metadata: { ...cur.metadata, deletionTimestamp: "2024-01-01T00:00:01Z" } };
      o.metadata.resourceVersion = String(++this.rev);
      this.bucket(ref).set(k, o);
      this.emit(ref, "MODIFIED", o);
      return;
    }
    this.bucket(ref).delete(k);
    this.emit(ref, "DELETED", cur);
  }
}
