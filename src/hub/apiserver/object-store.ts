/**
 * ObjectStore: the generic registry (upstream's genericregistry.Store) between the HTTP
 * handlers — and the hub's in-process controllers — and the Backend. It owns object
 * lifecycle: names and uids, defaults and validation, optimistic concurrency, status
 * subresource rules, generation, finalizers and graceful deletion.
 *
 * Design notes
 * - Reads for lists and watches stay as stored strings where no selector needs the fields;
 *   single-object paths parse.
 * - Every write goes through `write()`, which defaults, validates and encodes once; dryRun
 *   runs the same path and stops before the backend.
 * - Deletion: an object with finalizers (or a bound pod with a grace period) gets
 *   deletionTimestamp and stays until the last finalizer is removed (by an update), then the
 *   update that empties them deletes it.
 */
import { randomUUID } from "node:crypto";
import { setDefaults } from "../../api/defaults/index.js";
import { ApiError, type StatusCause } from "../../api/errors.js";
import type { KubeObject } from "../../api/object.js";
import {
  type Backend,
  ConflictError,
  KeyExistsError,
  type KeyValue,
  NotFoundError,
} from "../store/backend.js";
import type { UserInfo } from "./auth.js";
import { decodeStored, encodeForStorage, spliceResourceVersion } from "./codec.js";
import { checkPreconditions, namespaceFinalizers, planDeletion } from "./deletion.js";
import { listPrefix, objectKey, storageRef } from "./keys.js";
import type { ResourceInfo } from "./resource-info.js";
import { prepareForCreate, prepareForUpdate, type Subresource } from "./strategy.js";
import {
  checkNamespaceOpen,
  generatedName,
  normalizeObject,
  timestamp,
  validateObject,
} from "./write-checks.js";

export { timestamp } from "./write-checks.js";

export interface WriteOptions {
  dryRun?: boolean;
  subresource?: Subresource;
  /** last step before validation (managedFields bookkeeping) */
  transform?: (next: KubeObject, old: KubeObject | undefined) => KubeObject;
  /**
   * the caller hands `input` over (a request body decoded for this call): it is changed in
   * place instead of cloned first
   */
  owned?: boolean;
  /**
   * called with the object's JSON as written (stored bytes with resourceVersion spliced in),
   * so a handler replies with those bytes instead of serializing the object again
   */
  onStored?: (json: string) => void;
  /**
   * who asked for the write (an API request's acting user), for admission's RBAC escalation
   * check; absent for the hub's own in-process writes, which it trusts
   */
  user?: UserInfo;
}

/** conflicts from the backend (a concurrent write) may be retried; precondition failures not */
const retryable = new WeakSet<ApiError>();

export interface DeleteOptions {
  dryRun?: boolean;
  gracePeriodSeconds?: number;
  propagationPolicy?: "Orphan" | "Background" | "Foreground";
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface DeleteResult {
  object: KubeObject;
  /** false when the object remains (finalizers, graceful pod deletion) */
  deleted: boolean;
}

export interface ObjectStoreDeps {
  backend: Backend;
  now?: () => Date;
  /** GC runs: Foreground/Orphan add their finalizers (otherwise nothing would remove them) */
  gcEnabled?: () => boolean;
  /** extra per-kind hook on create (service IP allocation, CRD schema checks …) */
  admit?: (
    info: ResourceInfo,
    obj: KubeObject,
    old: KubeObject | undefined,
    user: UserInfo | undefined,
  ) => Promise<void> | void;
  /**
   * custom resources (CRDs): prune and default `obj` by its schema in place, return schema
   * violations; runs on every write before validation (a no-op for built-ins)
   */
  customResource?: (info: ResourceInfo, obj: KubeObject, old: KubeObject | undefined) => StatusCause[];
}

export class ObjectStore {
  readonly backend: Backend;
  private readonly now: () => Date;

  constructor(private readonly deps: ObjectStoreDeps) {
    this.backend = deps.backend;
    this.now = deps.now ?? (() => new Date());
  }

  key(info: ResourceInfo, ns: string | undefined, name: string): string {
    return objectKey(storageRef(info), ns, name);
  }

  prefix(info: ResourceInfo, ns?: string): string {
    return listPrefix(storageRef(info), ns);
  }

  async getKV(info: ResourceInfo, ns: string | undefined, name: string): Promise<KeyValue> {
    const kv = await this.backend.get(this.key(info, ns, name));
    if (!kv) throw ApiError.notFound(info.resource, name, info.group, info.kind);
    return kv;
  }

  async get(info: ResourceInfo, ns: string | undefined, name: string): Promise<KubeObject> {
    const kv = await this.getKV(info, ns, name);
    return decodeStored(kv.value, kv.revision);
  }

  async tryGet(info: ResourceInfo, ns: string | undefined, name: string): Promise<KubeObject | undefined> {
    const kv = await this.backend.get(this.key(info, ns, name));
    return kv ? decodeStored(kv.value, kv.revision) : undefined;
  }

  async create(
    info: ResourceInfo,
    ns: string | undefined,
    input: KubeObject,
    opts: WriteOptions = {},
  ): Promise<KubeObject> {
    const obj = opts.owned ? input : structuredClone(input);
    normalizeObject(info, ns, obj);
    const m = obj.metadata;
    if (!m.name && m.generateName) m.name = generatedName(m.generateName);
    await checkNamespaceOpen(this.backend, info, ns, m.name ?? "");
    delete m.resourceVersion;
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    m.uid = randomUUID();
    m.creationTimestamp = timestamp(this.now());
    delete m.generation;
    prepareForCreate(info, obj);
    setDefaults(info.group, info.kind, obj);
    if (opts.transform) Object.assign(obj, opts.transform(obj, undefined));
    validateObject(info, obj, undefined, this.deps.customResource);
    await this.deps.admit?.(info, obj, undefined, opts.user);
    if (opts.dryRun) {
      if (await this.backend.get(this.key(info, ns, m.name!)))
        throw ApiError.alreadyExists(info.resource, m.name!, info.group);
      return obj;
    }
    try {
      const stored = encodeForStorage(obj);
      const kv = await this.backend.create(this.key(info, ns, m.name!), stored);
      m.resourceVersion = String(kv.revision);
      opts.onStored?.(spliceResourceVersion(stored, kv.revision));
      return obj;
    } catch (e) {
      if (e instanceof KeyExistsError) throw ApiError.alreadyExists(info.resource, m.name!, info.group);
      throw e;
    }
  }

  /**
   * Update with optimistic concurrency. `input.metadata.resourceVersion` set → must match;
   * unset → unconditional (upstream AllowUnconditionalUpdate).
   */
  async update(
    info: ResourceInfo,
    ns: string | undefined,
    name: string,
    input: KubeObject,
    opts: WriteOptions = {},
  ): Promise<KubeObject> {
    const obj = opts.owned ? input : structuredClone(input);
    normalizeObject(info, ns, obj);
    if (obj.metadata.name !== undefined && obj.metadata.name !== name) {
      throw ApiError.badRequest(
        `the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    obj.metadata.name = name;
    const wanted = obj.metadata.resourceVersion;
    const unconditional = wanted === undefined || wanted === "";
    // An unconditional update applies to whatever is current, so a write that races it between
    // the read and the store's compare-and-swap is retried, not reported: upstream runs it
    // through GuaranteedUpdate and never answers 409 to a PUT without a resourceVersion.
    const pristine = unconditional && !opts.dryRun ? structuredClone(obj) : undefined;
    for (let attempt = 0; ; attempt++) {
      const kv = await this.getKV(info, ns, name);
      if (!unconditional && wanted !== String(kv.revision)) {
        throw ApiError.conflict(info.resource, name, info.group);
      }
      const old = decodeStored(kv.value, kv.revision);
      const incoming = attempt === 0 || !pristine ? obj : structuredClone(pristine);
      try {
        return await this.write(info, ns, name, incoming, old, kv, opts);
      } catch (e) {
        if (pristine && e instanceof ApiError && retryable.has(e) && attempt < 8) continue;
        throw e;
      }
    }
  }

  /**
   * Read-modify-write with retries on conflict (patches and in-process controllers):
   * `mutate` gets a private copy of the current object.
   */
  async guaranteedUpdate(
    info: ResourceInfo,
    ns: string | undefined,
    name: string,
    mutate: (current: KubeObject) => KubeObject | Promise<KubeObject>,
    opts: WriteOptions = {},
  ): Promise<KubeObject> {
    for (let attempt = 0; ; attempt++) {
      const kv = await this.getKV(info, ns, name);
      const old = decodeStored(kv.value, kv.revision);
      const next = await mutate(decodeStored(kv.value, kv.revision));
      normalizeObject(info, ns, next);
      next.metadata.name = name;
      try {
        return await this.write(info, ns, name, next, old, kv, opts);
      } catch (e) {
        if (e instanceof ApiError && retryable.has(e) && attempt < 8 && !opts.dryRun) continue;
        throw e;
      }
    }
  }

  private async write(
    info: ResourceInfo,
    ns: string | undefined,
    name: string,
    incoming: KubeObject,
    old: KubeObject,
    current: KeyValue,
    opts: WriteOptions,
  ): Promise<KubeObject> {
    const revision = current.revision;
    let next = prepareForUpdate(info, incoming, old, opts.subresource ?? "");
    delete next.metadata.resourceVersion;
    if (opts.subresource !== "status") setDefaults(info.group, info.kind, next);
    if (opts.transform) next = opts.transform(next, old);
    validateObject(info, next, old, this.deps.customResource);
    await this.deps.admit?.(info, next, old, opts.user);
    // the update that removes the last finalizer of a deleting object deletes it
    const finalize =
      next.metadata.deletionTimestamp !== undefined &&
      (next.metadata.finalizers ?? []).length === 0 &&
      namespaceFinalizers(info, next) === 0;
    if (opts.dryRun) return { ...next, metadata: { ...next.metadata, resourceVersion: String(revision) } };
    const key = this.key(info, ns, name);
    try {
      if (finalize) {
        const kv = await this.backend.delete(key, revision);
        return { ...next, metadata: { ...next.metadata, resourceVersion: String(kv.revision) } };
      }
      const encoded = encodeForStorage(next);
      // an update that changes nothing is not written (as upstream): no new resourceVersion, no
      // watch event, and a status resent after a lost acknowledgement leaves no second write.
      // Stored values are encodeForStorage output and JSON.parse→stringify is the identity on
      // them, so the stored string stands for encodeForStorage(old).
      if (encoded === current.value) {
        opts.onStored?.(spliceResourceVersion(current.value, revision));
        return { ...old, metadata: { ...old.metadata, resourceVersion: String(revision) } };
      }
      const kv = await this.backend.update(key, encoded, revision);
      next.metadata.resourceVersion = String(kv.revision);
      opts.onStored?.(spliceResourceVersion(encoded, kv.revision));
      return next;
    } catch (e) {
      if (e instanceof ConflictError) {
        const err = ApiError.conflict(info.resource, name, info.group);
        retryable.add(err);
        throw err;
      }
      if (e instanceof NotFoundError) throw ApiError.notFound(info.resource, name, info.group, info.kind);
      throw e;
    }
  }

  async delete(
    info: ResourceInfo,
    ns: string | undefined,
    name: string,
    opts: DeleteOptions = {},
  ): Promise<DeleteResult> {
    for (let attempt = 0; ; attempt++) {
      const kv = await this.getKV(info, ns, name);
      const cur = decodeStored(kv.value, kv.revision);
      checkPreconditions(info, cur, kv.revision, opts);
      const plan = planDeletion(info, cur, opts, this.deps.gcEnabled?.() ?? false, (grace) =>
        timestamp(new Date(this.now().getTime() + grace * 1000)),
      );
      try {
        if (plan.kind === "now") {
          if (opts.dryRun) return { object: cur, deleted: true };
          const del = await this.backend.delete(this.key(info, ns, name), kv.revision);
          return {
            object: { ...cur, metadata: { ...cur.metadata, resourceVersion: String(del.revision) } },
            deleted: true,
          };
        }
        if (plan.kind === "unchanged") return { object: cur, deleted: false };
        const next = plan.next;
        if (opts.dryRun) return { object: next, deleted: false };
        delete next.metadata.resourceVersion;
        const up = await this.backend.update(this.key(info, ns, name), encodeForStorage(next), kv.revision);
        next.metadata.resourceVersion = String(up.revision);
        return { object: next, deleted: false };
      } catch (e) {
        if (e instanceof ConflictError && attempt < 8) continue;
        if (e instanceof NotFoundError) throw ApiError.notFound(info.resource, name, info.group, info.kind);
        throw e;
      }
    }
  }
}
