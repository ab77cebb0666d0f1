/**
 * FakeClient: the recording in-memory Client every controller unit test drives (the
 * client-go "fake clientset" of STYLE.md): preload objects with seed(), run reconcile(key),
 * then compare the recorded actions or the stored objects.
 *
 * Design notes
 * - The API server's observable rules, nothing more: names from generateName, a fresh uid
 *   per incarnation, resourceVersions from one counter, optimistic concurrency on
 *   resourceVersion, generation bumped on spec changes, `update` keeps status and
 *   `updateStatus` changes only status, uid preconditions on delete, finalizers (plus
 *   Foreground/Orphan propagation) turn a delete into a deletionTimestamp and removing the
 *   last finalizer of a terminating object deletes it. Errors are real ApiErrors.
 * - Uids are `uid-<name>` for the first object of a name and `uid-<name>-<n>` for later
 *   incarnations, so fixtures can predict them and a recreated namesake is still different.
 * - Watch events are delivered synchronously, so informers built on the fake are current
 *   when a write returns; `holdEvents` queues them until flush() to play a lagging informer.
 *   Like the real watch, a watch replays what happened after the resourceVersion it starts
 *   from (an informer's writes between its list and its watch are not lost); the replay runs
 *   on a microtask, and live events wait behind it so the order stays that of the writes.
 * - Time: creation and deletion timestamps come from `clock` when given (a test's movable
 *   clock), else from an internal clock that ticks one second per object, so ordering by
 *   creationTimestamp is deterministic.
 * - `defaulting` applies the API server's defaults to the kinds setDefaults knows and starts
 *   new pods Pending, for controllers that read defaulted fields back.
 */
import { setDefaults } from "../../src/api/defaults/index.js";
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

export interface FakeClientOptions {
  /** creation/deletion timestamps; default: one second later for every object */
  clock?: () => Date;
  /** apply the API server's defaults on create (and start pods Pending) */
  defaulting?: boolean;
}

interface Watcher {
  resource: string;
  namespace: string | undefined;
  onEvents: (events: ClientWatchEvent[]) => void;
  /** while a replay is being delivered: the batches still to deliver, in order */
  pending?: ClientWatchEvent[][];
}

interface LoggedEvent {
  rev: number;
  resource: string;
  type: ClientWatchEvent["type"];
  object: KubeObject;
}

/** group and kind of the resources setDefaults knows, for `defaulting` */
const KINDS: Record<string, [string, string]> = {
  pods: ["", "Pod"],
  nodes: ["", "Node"],
  persistentvolumeclaims: ["", "PersistentVolumeClaim"],
  events: ["", "Event"],
  daemonsets: ["apps", "DaemonSet"],
  statefulsets: ["apps", "StatefulSet"],
  controllerrevisions: ["apps", "ControllerRevision"],
  jobs: ["batch", "Job"],
  cronjobs: ["batch", "CronJob"],
};

const rkey = (ref: ResourceRef) => `${ref.group}/${ref.resource}`;
const seconds = (d: Date) => d.toISOString().replace(/\.\d+Z$/, "Z");

export class FakeClient implements Client {
  readonly actions: FakeAction[] = [];
  /** while true, watch events queue up until flush(): an informer lagging behind writes */
  holdEvents = false;
  /** make the next creates of this resource fail with this error */
  readonly failCreate = new Map<string, Error>();
  private readonly stored = new Map<string, KubeObject>();
  private readonly watchers = new Set<Watcher>();
  /** incarnations per object key, for uids */
  private readonly incarnations = new Map<string, number>();
  private held: (() => void)[] = [];
  /** every event with its revision, for watches that start from an older resourceVersion */
  private readonly log: LoggedEvent[] = [];
  private rv = 1;
  private seq = 0;
  private ticks = Date.parse("2026-01-01T00:00:00Z");

  constructor(private readonly opts: FakeClientOptions = {}) {}

  private now(): string {
    if (this.opts.clock) return seconds(this.opts.clock());
    this.ticks += 1000;
    return seconds(new Date(this.ticks));
  }

  private key(ref: ResourceRef, ns: string | undefined, name: string): string {
    return `${rkey(ref)}|${ns ?? ""}|${name}`;
  }

  private newUid(k: string, name: string): string {
    const n = (this.incarnations.get(k) ?? 0) + 1;
    this.incarnations.set(k, n);
    return n === 1 ? `uid-${name}` : `uid-${name}-${n}`;
  }

  /** puts (or replaces) an object without recording an action (test fixtures) */
  seed(ref: ResourceRef, obj: KubeObject): KubeObject {
    const o = cloneJson(obj);
    const k = this.key(ref, o.metadata.namespace, o.metadata.name ?? "");
    const cur = this.stored.get(k);
    o.metadata.uid ??= cur?.metadata.uid ?? this.newUid(k, o.metadata.name ?? "");
    o.metadata.creationTimestamp ??= cur?.metadata.creationTimestamp ?? this.now();
    o.metadata.resourceVersion = String(++this.rv);
    this.stored.set(k, o);
    this.emit(ref, cur ? "MODIFIED" : "ADDED", o);
    return cloneJson(o);
  }

  /** stored copy, for assertions */
  peek(ref: ResourceRef, ns: string | undefined, name: string): KubeObject | undefined {
    const o = this.stored.get(this.key(ref, ns, name));
    return o ? cloneJson(o) : undefined;
  }

  /** stored copies of a resource, of one namespace or all */
  objects(ref: ResourceRef, ns?: string): KubeObject[] {
    const prefix = `${rkey(ref)}|`;
    return [...this.stored.entries()]
      .filter(([k, o]) => k.startsWith(prefix) && (ns === undefined || o.metadata.namespace === ns))
      .map(([, o]) => cloneJson(o));
  }

  /** recorded writes, Events left out */
  writes(verb?: FakeAction["verb"], resource?: string): FakeAction[] {
    return this.actions.filter(
      (a) => (!verb || a.verb === verb) && (!resource || a.resource === resource) && a.resource !== "events",
    );
  }

  /** every recorded action as `verb resource ns/name`, for compact assertions */
  verbs(): string[] {
    return this.actions.map(
      (a) => `${a.verb} ${a.resource} ${a.namespace ? `${a.namespace}/` : ""}${a.name}`,
    );
  }

  async get(ref: ResourceRef, ns: string | undefined, name: string): Promise<KubeObject | undefined> {
    return this.peek(ref, ns, name);
  }

  async list(ref: ResourceRef, ns?: string): Promise<ListResult> {
    return { items: this.objects(ref, ns), resourceVersion: String(this.rv) };
  }

  watch(
    ref: ResourceRef,
    namespace: string | undefined,
    rv: string,
    onEvents: (events: ClientWatchEvent[]) => void,
  ): ClientWatch {
    const w: Watcher = { resource: rkey(ref), namespace, onEvents };
    this.watchers.add(w);
    const from = Number(rv) || 0;
    const replay = this.log.filter((e) => e.rev > from && this.matches(w, e));
    if (replay.length > 0) {
      w.pending = replay.map((e) => [{ type: e.type, object: cloneJson(e.object) }]);
      queueMicrotask(() => {
        for (let batch = w.pending?.shift(); batch; batch = w.pending?.shift()) {
          if (this.watchers.has(w)) w.onEvents(batch);
        }
        delete w.pending;
      });
    }
    return { cancel: () => this.watchers.delete(w) };
  }

  async create(ref: ResourceRef, ns: string | undefined, obj: KubeObject): Promise<KubeObject> {
    const fail = this.failCreate.get(ref.resource);
    if (fail) throw fail;
    const o = cloneJson(obj);
    if (!o.metadata.name && o.metadata.generateName)
      o.metadata.name = `${o.metadata.generateName}${++this.seq}`;
    if (ns !== undefined) o.metadata.namespace = ns;
    const name = o.metadata.name ?? "";
    const k = this.key(ref, ns, name);
    if (this.stored.has(k)) throw ApiError.alreadyExists(ref.resource, name, ref.group);
    const kind = KINDS[ref.resource];
    if (this.opts.defaulting && kind) setDefaults(kind[0], kind[1], o);
    if (this.opts.defaulting && ref.resource === "pods") o.status = { phase: "Pending" };
    o.metadata.uid = this.newUid(k, name);
    o.metadata.generation = 1;
    o.metadata.creationTimestamp = this.now();
    o.metadata.resourceVersion = String(++this.rv);
    this.stored.set(k, o);
    this.record("create", ref, ns, name, o);
    this.emit(ref, "ADDED", o);
    return cloneJson(o);
  }

  async update(ref: ResourceRef, ns: string | undefined, obj: KubeObject): Promise<KubeObject> {
    return this.write(ref, ns, obj, false);
  }

  async updateStatus(ref: ResourceRef, ns: string | undefined, obj: KubeObject): Promise<KubeObject> {
    return this.write(ref, ns, obj, true);
  }

  /** read-modify-write in one synchronous step: like the real client's retries, never conflicts */
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
    const cur = this.stored.get(k);
    if (!cur) throw ApiError.notFound(ref.resource, name, ref.group);
    if (opts.preconditions?.uid && opts.preconditions.uid !== cur.metadata.uid)
      throw ApiError.conflict(ref.resource, name, ref.group, "uid precondition failed");
    this.actions.push({ verb: "delete", resource: ref.resource, namespace: ns, name, options: opts });
    const fins = [...(cur.metadata.finalizers ?? [])];
    if (opts.propagationPolicy === "Foreground" && !fins.includes("foregroundDeletion"))
      fins.push("foregroundDeletion");
    if (opts.propagationPolicy === "Orphan" && !fins.includes("orphan")) fins.push("orphan");
    if (fins.length === 0) {
      this.stored.delete(k);
      this.emit(ref, "DELETED", cur, ++this.rv);
      return;
    }
    if (cur.metadata.deletionTimestamp && fins.length === (cur.metadata.finalizers ?? []).length) return;
    const next = cloneJson(cur);
    next.metadata.finalizers = fins;
    next.metadata.deletionTimestamp ??= this.now();
    next.metadata.resourceVersion = String(++this.rv);
    this.stored.set(k, next);
    this.emit(ref, "MODIFIED", next);
  }

  /** delivers the events held while holdEvents was true */
  flush(): void {
    const h = this.held;
    this.held = [];
    for (const f of h) f();
  }

  private write(ref: ResourceRef, ns: string | undefined, obj: KubeObject, status: boolean): KubeObject {
    const name = obj.metadata.name ?? "";
    const k = this.key(ref, ns, name);
    const cur = this.stored.get(k);
    if (!cur) throw ApiError.notFound(ref.resource, name, ref.group);
    if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== cur.metadata.resourceVersion)
      throw ApiError.conflict(ref.resource, name, ref.group);
    const next: KubeObject = status
      ? { ...cloneJson(cur), status: cloneJson(obj.status) }
      : { ...cloneJson(obj), status: cloneJson(cur.status) };
    next.metadata.uid = cur.metadata.uid;
    next.metadata.creationTimestamp = cur.metadata.creationTimestamp;
    if (!status && JSON.stringify(next.spec) !== JSON.stringify(cur.spec))
      next.metadata.generation = (cur.metadata.generation ?? 1) + 1;
    next.metadata.resourceVersion = String(++this.rv);
    this.record(status ? "updateStatus" : "update", ref, ns, name, next);
    if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      this.stored.delete(k);
      this.emit(ref, "DELETED", next);
    } else {
      this.stored.set(k, next);
      this.emit(ref, "MODIFIED", next);
    }
    return cloneJson(next);
  }

  private record(
    verb: FakeAction["verb"],
    ref: ResourceRef,
    ns: string | undefined,
    name: string,
    o: KubeObject,
  ) {
    this.actions.push({ verb, resource: ref.resource, namespace: ns, name, object: cloneJson(o) });
  }

  private emit(ref: ResourceRef, type: ClientWatchEvent["type"], o: KubeObject, rev?: number): void {
    const e: LoggedEvent = {
      rev: rev ?? Number(o.metadata.resourceVersion),
      resource: rkey(ref),
      type,
      object: cloneJson(o),
    };
    this.log.push(e);
    if (this.holdEvents) this.held.push(() => this.deliver(e));
    else this.deliver(e);
  }

  private deliver(e: LoggedEvent): void {
    for (const w of this.watchers) {
      if (!this.matches(w, e)) continue;
      const batch = [{ type: e.type, object: cloneJson(e.object) }];
      if (w.pending) w.pending.push(batch);
      else w.onEvents(batch);
    }
  }

  private matches(w: Watcher, e: LoggedEvent): boolean {
    return (
      w.resource === e.resource && (w.namespace === undefined || w.namespace === e.object.metadata.namespace)
    );
  }
}
