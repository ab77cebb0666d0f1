/**
 * A recording in-memory Client for unit tests of the workload controllers: it keeps objects
 * per resource, assigns names/uids/resourceVersions like the API server, applies the same
 * defaults, delivers watch events synchronously, and records every write as an action.
 */
import { randomUUID } from "node:crypto";
import { setDefaults } from "../../src/api/defaults/index.js";
import { cloneJson, type KubeObject } from "../../src/api/object.js";
import type {
  Client,
  ClientWatch,
  ClientWatchEvent,
  DeleteOptions,
  ListResult,
  ResourceRef,
} from "../../src/client/client.js";
import { EventRecorder } from "../../src/hub/controllers/events.js";
import { SharedInformers } from "../../src/hub/controllers/shared-informers.js";
import { silentLogger } from "../../src/lib/logger.js";

export interface Action {
  verb: "create" | "update" | "updateStatus" | "delete";
  resource: string;
  namespace: string | undefined;
  name: string;
  object?: KubeObject;
}

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

function err(code: number, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export class FakeWorkloadClient implements Client {
  readonly actions: Action[] = [];
  private readonly data = new Map<string, Map<string, KubeObject>>();
  private readonly watchers = new Map<string, Set<(e: ClientWatchEvent[]) => void>>();
  private rv = 1;
  private seq = 0;

  constructor(private readonly clock: () => Date = () => new Date("2024-01-01T00:00:00Z")) {}

  private table(ref: ResourceRef): Map<string, KubeObject> {
    let t = this.data.get(ref.resource);
    if (!t) {
      t = new Map();
      this.data.set(ref.resource, t);
    }
    return t;
  }

  private static key(ns: string | undefined, name: string): string {
    return ns ? `${ns}/${name}` : name;
  }

  private emit(ref: ResourceRef, type: ClientWatchEvent["type"], obj: KubeObject): void {
    for (const w of this.watchers.get(ref.resource) ?? []) w([{ type, object: cloneJson(obj) }]);
  }

  /** puts an object in place without recording an action (test fixtures) */
  seed(ref: ResourceRef, obj: KubeObject): KubeObject {
    const o = cloneJson(obj);
    o.metadata.uid ??= randomUUID();
    o.metadata.creationTimestamp ??= this.clock()
      .toISOString()
      .replace(/\.\d{3}Z$/, "Z");
    o.metadata.resourceVersion = String(++this.rv);
    const exists = this.table(ref).has(FakeWorkloadClient.key(o.metadata.namespace, o.metadata.name ?? ""));
    this.table(ref).set(FakeWorkloadClient.key(o.metadata.namespace, o.metadata.name ?? ""), o);
    this.emit(ref, exists ? "MODIFIED" : "ADDED", o);
    return cloneJson(o);
  }

  /** the current objects of a resource */
  objects(ref: ResourceRef, ns?: string): KubeObject[] {
    return [...this.table(ref).values()]
      .filter((o) => !ns || o.metadata.namespace === ns)
      .map((o) => cloneJson(o));
  }

  writes(resource?: string): Action[] {
    return this.actions.filter((a) => !resource || a.resource === resource);
  }

  async get(ref: ResourceRef, ns: string | undefined, name: string): Promise<KubeObject | undefined> {
    const o = this.table(ref).get(FakeWorkloadClient.key(ns, name));
    return o ? cloneJson(o) : undefined;
  }

  async list(ref: ResourceRef, ns?: string): Promise<ListResult> {
    return { items: this.objects(ref, ns), resourceVersion: String(this.rv) };
  }

  watch(
    ref: ResourceRef,
    _ns: string | undefined,
    _rv: string,
    onEvents: (events: ClientWatchEvent[]) => void,
  ): ClientWatch {
    let set = this.watchers.get(ref.resource);
    if (!set) {
      set = new Set();
      this.watchers.set(ref.resource, set);
    }
    set.add(onEvents);
    return { cancel: () => set.delete(onEvents) };
  }

  async create(ref: ResourceRef, ns: string | undefined, obj: KubeObject): Promise<KubeObject> {
    const o = cloneJson(obj);
    o.metadata.namespace = ns;
    if (!o.metadata.name && o.metadata.generateName)
      o.metadata.name = `${o.metadata.generateName}${(++this.seq).toString(36).padStart(5, "x")}`;
    const k = FakeWorkloadClient.key(ns, o.metadata.name ?? "");
    if (this.table(ref).has(k)) throw err(409, `${ref.resource} "${o.metadata.name}" already exists`);
    const kind = KINDS[ref.resource];
    if (kind) setDefaults(kind[0], kind[1], o);
    if (ref.resource === "pods") o.status = { phase: "Pending" };
    if (ref.resource !== "events")
      this.actions.push({
        verb: "create",
        resource: ref.resource,
        namespace: ns,
        name: o.metadata.name ?? "",
        object: cloneJson(o),
      });
    o.metadata.generation = 1;
    return this.seed(ref, o);
  }

  async update(ref: ResourceRef, ns: string | undefined, obj: KubeObject): Promise<KubeObject> {
    return this.write(ref, ns, obj, "update");
  }

  async updateStatus(ref: ResourceRef, ns: string | undefined, obj: KubeObject): Promise<KubeObject> {
    return this.write(ref, ns, obj, "updateStatus");
  }

  private write(
    ref: ResourceRef,
    ns: string | undefined,
    obj: KubeObject,
    verb: "update" | "updateStatus",
  ): KubeObject {
    const k = FakeWorkloadClient.key(ns, obj.metadata.name ?? "");
    const cur = this.table(ref).get(k);
    if (!cur) throw err(404, `${ref.resource} "${obj.metadata.name}" not found`);
    if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== cur.metadata.resourceVersion) {
      throw err(409, "the object has been modified");
    }
    const next =
      verb === "updateStatus"
        ? { ...cur, status: cloneJson(obj.status) }
        : { ...cloneJson(obj), status: cur.status };
    next.metadata = {
      ...next.metadata,
      uid: cur.metadata.uid,
      creationTimestamp: cur.metadata.creationTimestamp,
    };
    if (ref.resource !== "events")
      this.actions.push({
        verb,
        resource: ref.resource,
        namespace: ns,
        name: obj.metadata.name ?? "",
        object: cloneJson(next),
      });
    if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      this.table(ref).delete(k);
      this.emit(ref, "DELETED", next);
      return cloneJson(next);
    }
    return this.seed(ref, next);
  }

  async mutate(
    ref: ResourceRef,
    ns: string | undefined,
    name: string,
    fn: (cur: KubeObject) => KubeObject,
    opts: { status?: boolean } = {},
  ): Promise<KubeObject> {
    const cur = await this.get(ref, ns, name);
    if (!cur) throw err(404, `${ref.resource} "${name}" not found`);
    return this.write(ref, ns, fn(cur), opts.status ? "updateStatus" : "update");
  }

  async delete(
    ref: ResourceRef,
    ns: string | undefined,
    name: string,
    opts: DeleteOptions = {},
  ): Promise<void> {
    const k = FakeWorkloadClient.key(ns, name);
    const cur = this.table(ref).get(k);
    if (!cur) throw err(404, `${ref.resource} "${name}" not found`);
    if (opts.preconditions?.uid && opts.preconditions.uid !== cur.metadata.uid)
      throw err(409, "uid precondition failed");
    this.actions.push({ verb: "delete", resource: ref.resource, namespace: ns, name });
    if ((cur.metadata.finalizers ?? []).length > 0) {
      this.seed(ref, {
        ...cur,
        metadata: { ...cur.metadata, deletionTimestamp: this.clock().toISOString() },
      });
      return;
    }
    this.table(ref).delete(k);
    this.emit(ref, "DELETED", cur);
  }
}

/** ControllerDeps over the fake, with a movable clock */
export function fakeWorkloadDeps(start = "2024-01-01T00:00:00Z"): {
  client: FakeWorkloadClient;
  deps: import("../../src/hub/controllers/controller.js").ControllerDeps;
  clock: { now: Date; advance(ms: number): void };
  informers: SharedInformers;
} {
  const clock = {
    now: new Date(start),
    advance(ms: number) {
      this.now = new Date(this.now.getTime() + ms);
    },
  };
  const now = () => clock.now;
  const client = new FakeWorkloadClient(now);
  const logger = silentLogger();
  const informers = new SharedInformers(client);
  const deps = { client, events: new EventRecorder(client, logger, now), logger, now, informers };
  return { client, deps, clock, informers };
}

/** the reasons and messages of recorded events, in order */
export function eventsOf(client: FakeWorkloadClient): string[] {
  return client
    .objects({ group: "", version: "v1", resource: "events" })
    .sort((a, b) =>
      String(a.metadata.resourceVersion).localeCompare(String(b.metadata.resourceVersion), undefined, {
        numeric: true,
      }),
    )
    .map((e) => `${e.reason}: ${e.message}`);
}
