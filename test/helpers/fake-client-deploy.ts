/**
 * A recording fake Client for unit tests of the apps controllers and the garbage collector:
 * an in-memory object map with resourceVersions, generateName, optimistic updates, finalizer
 * semantics for deletes (Foreground/Orphan add their finalizers) and synchronous watch
 * delivery, so informers built on it see every write before the write returns. Every write
 * is appended to `actions` for tests to compare.
 */
import { randomUUID } from "node:crypto";
import { ApiError } from "../../src/api/errors.js";
import { cloneJson, type KubeObject } from "../../src/api/object.js";
import type {
  Client,
  ClientWatch,
  ClientWatchEvent,
  DeleteOptions,
  ListResult,
  ResourceRef,
} from "../../src/client/client.js";

export interface FakeAction {
  verb: "create" | "update" | "updateStatus" | "delete";
  resource: string;
  namespace: string | undefined;
  name: string;
  object?: KubeObject;
  options?: DeleteOptions;
}

interface Watcher {
  resource: string;
  namespace: string | undefined;
  onEvents: (events: ClientWatchEvent[]) => void;
}

const rkey = (ref: ResourceRef) => `${ref.group}/${ref.resource}`;

export class FakeClientDeploy implements Client {
  readonly actions: FakeAction[] = [];
  private readonly objects = new Map<string, KubeObject>();
  private readonly watchers = new Set<Watcher>();
  private rv = 1;
  private seq = 0;
  /** creation timestamps advance one second per object so ordering is deterministic */
  private clock = Date.parse("2026-01-01T00:00:00Z");
  /** while true, watch events queue up until flush(): an informer lagging behind writes */
  holdEvents = false;
  private held: (() => void)[] = [];
  /** make the next create of this resource fail with this error */
  failCreate: Map<string, Error> = new Map();

  private tick(): number {
    this.clock += 1000;
    return this.clock;
  }

  private key(ref: ResourceRef, ns: string | undefined, name: string): string {
    return `${rkey(ref)}|${ns ?? ""}|${name}`;
  }

  /** put an object without recording an action (test fixtures) */
  seed(ref: ResourceRef, obj: KubeObject): KubeObject {
    const o = cloneJson(obj);
    o.metadata.uid ??= randomUUID();
    o.metadata.creationTimestamp ??= new Date(this.tick()).toISOString().replace(/\.\d+Z$/, "Z");
    o.metadata.resourceVersion = String(++this.rv);
    this.objects.set(this.key(ref, o.metadata.namespace, o.metadata.name ?? ""), o);
    this.emit(ref, "ADDED", o);
    return cloneJson(o);
  }

  /** stored copy, for assertions */
  peek(ref: ResourceRef, ns: string | undefined, name: string): KubeObject | undefined {
    const o = this.objects.get(this.key(ref, ns, name));
    return o ? cloneJson(o) : undefined;
  }

  all(ref: ResourceRef, ns?: string): KubeObject[] {
    const prefix = `${rkey(ref)}|${ns ?? ""}`;
    return [...this.objects.entries()]
      .filter(([k]) => (ns === undefined ? k.startsWith(`${rkey(ref)}|`) : k.startsWith(`${prefix}|`)))
      .map(([, o]) => cloneJson(o));
  }

  writes(verb?: FakeAction["verb"], resource?: string): FakeAction[] {
    return this.actions.filter(
      (a) => (!verb || a.verb === verb) && (!resource || a.resource === resource) && a.resource !== "events",
    );
  }

  async get(ref: ResourceRef, ns: string | undefined, name: string): Promise<KubeObject | undefined> {
    return this.peek(ref, ns, name);
  }

  async list(ref: ResourceRef, ns?: string): Promise<ListResult> {
    return { items: this.all(ref, ns), resourceVersion: String(this.rv) };
  }

  watch(
    ref: ResourceRef,
    namespace: string | undefined,
    _rv: string,
    onEvents: (events: ClientWatchEvent[]) => void,
  ): ClientWatch {
    const w: Watcher = { resource: rkey(ref), namespace, onEvents };
    this.watchers.add(w);
    return { cancel: () => this.watchers.delete(w) };
  }

  async create(ref: ResourceRef, ns: string | undefined, obj: KubeObject): Promise<KubeObject> {
    const fail = this.failCreate.get(ref.resource);
    if (fail) throw fail;
    const o = cloneJson(obj);
    if (!o.metadata.name && o.metadata.generateName)
      o.metadata.name = `${o.metadata.generateName}x${++this.seq}`;
    o.metadata.namespace = ns;
    const k = this.key(ref, ns, o.metadata.name ?? "");
    if (this.objects.has(k)) throw ApiError.alreadyExists(ref.resource, o.metadata.name ?? "", ref.group);
    o.metadata.uid = randomUUID();
    o.metadata.generation = 1;
    o.metadata.creationTimestamp = new Date(this.tick()).toISOString().replace(/\.\d+Z$/, "Z");
    o.metadata.resourceVersion = String(++this.rv);
    this.objects.set(k, o);
    this.actions.push({
      verb: "create",
      resource: ref.resource,
      namespace: ns,
      name: o.metadata.name ?? "",
      object: cloneJson(o),
    });
    this.emit(ref, "ADDED", o);
    return cloneJson(o);
  }

  private write(ref: ResourceRef, ns: string | undefined, obj: KubeObject, status: boolean): KubeObject {
    const name = obj.metadata.name ?? "";
    const k = this.key(ref, ns, name);
    const cur = this.objects.get(k);
    if (!cur) throw ApiError.notFound(ref.resource, name, ref.group);
    if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== cur.metadata.resourceVersion)
      throw ApiError.conflict(ref.resource, name, ref.group);
    const next: KubeObject = status
      ? { ...cloneJson(cur), status: cloneJson(obj.status) }
      : { ...cloneJson(obj), status: cur.status };
    if (!status && JSON.stringify(next.spec) !== JSON.stringify(cur.spec))
      next.metadata.generation = (cur.metadata.generation ?? 1) + 1;
    next.metadata.resourceVersion = String(++this.rv);
    this.actions.push({
      verb: status ? "updateStatus" : "update",
      resource: ref.resource,
      namespace: ns,
      name,
      object: cloneJson(next),
    });
    if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      this.objects.delete(k);
      this.emit(ref, "DELETED", next);
    } else {
      this.objects.set(k, next);
      this.emit(ref, "MODIFIED", next);
    }
    return cloneJson(next);
  }

  async update(ref: ResourceRef, ns: string | undefined, obj: KubeObject): Promise<KubeObject> {
    return this.write(ref, ns, obj, false);
  }

  async updateStatus(ref: ResourceRef, ns: string | undefined, obj: KubeObject): Promise<KubeObject> {
    return this.write(ref, ns, obj, true);
  }

  async mutate(
    ref: ResourceRef,
    ns: string | undefined,
    name: string,
    fn: (cur: KubeObject) => KubeObject,
    opts: { status?: boolean } = {},
  ): Promise<KubeObject> {
    const cur = this.peek(ref, ns, name);
    if (!cur) throw ApiError.notFound(ref.resource, name, ref.group);
    return this.write(ref, ns, fn(cur), opts.status === true);
  }

  async delete(
    ref: ResourceRef,
    ns: string | undefined,
    name: string,
    opts: DeleteOptions = {},
  ): Promise<void> {
    const k = this.key(ref, ns, name);
    const cur = this.objects.get(k);
    if (!cur) throw ApiError.notFound(ref.resource, name, ref.group);
    if (opts.preconditions?.uid && opts.preconditions.uid !== cur.metadata.uid)
      throw ApiError.conflict(ref.resource, name, ref.group, "uid precondition failed");
    this.actions.push({ verb: "delete", resource: ref.resource, namespace: ns, name, options: opts });
    const fins = [...(cur.metadata.finalizers ?? [])];
    if (opts.propagationPolicy === "Foreground" && !fins.includes("foregroundDeletion"))
      fins.push("foregroundDeletion");
    if (opts.propagationPolicy === "Orphan" && !fins.includes("orphan")) fins.push("orphan");
    if (fins.length === 0) {
      this.objects.delete(k);
      this.emit(ref, "DELETED", cur);
      return;
    }
    const next = cloneJson(cur);
    next.metadata.finalizers = fins;
    next.metadata.deletionTimestamp ??= "2026-01-01T00:00:00Z";
    next.metadata.resourceVersion = String(++this.rv);
    this.objects.set(k, next);
    this.emit(ref, "MODIFIED", next);
  }

  flush(): void {
    const h = this.held;
    this.held = [];
    for (const f of h) f();
  }

  private emit(ref: ResourceRef, type: ClientWatchEvent["type"], o: KubeObject): void {
    if (this.holdEvents) {
      const copy = cloneJson(o);
      this.held.push(() => this.emit(ref, type, copy));
      return;
    }
    for (const w of this.watchers) {
      if (w.resource !== rkey(ref)) continue;
      if (w.namespace !== undefined && w.namespace !== o.metadata.namespace) continue;
      w.onEvents([{ type, object: cloneJson(o) }]);
    }
  }
}
