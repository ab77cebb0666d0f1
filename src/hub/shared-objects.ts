/**
 * SharedObjects: decodes stored values so that the hub's read-only caches (the shared
 * informers and the edge desired index) hold one object per (key, revision), not one each.
 *
 * Design notes
 * - The watch bus hands the same event objects to every watcher, so a WeakMap keyed by the
 *   stored KeyValue lets whichever cache sees an event first decode it and the others reuse
 *   that object; entries vanish with the event.
 * - Lists read fresh rows, so for those (and for events that arrive as fresh rows, e.g. a
 *   replay after a paused watch) the shared informer cache is asked whether it already holds
 *   the key at exactly that revision. The hub starts its informers before the desired index
 *   loads, so the index's first build reuses the informers' objects.
 * - Every decoded object goes through the same transform (managedFields dropped): caches that
 *   share objects must agree on their shape, and the desired index hashes what it holds.
 * - Objects handed out are shared and read-only; callers that change one clone it first.
 */
import type { KubeObject } from "../api/object.js";
import { decodeStored } from "./apiserver/codec.js";
import type { KeyValue } from "./store/backend.js";

/** A read of the shared caches: the object cached under (group, resource, key), if any. */
export type CachedObjectLookup = (group: string, resource: string, key: string) => KubeObject | undefined;

const REGISTRY = "/registry/";

/** cached copies carry no managedFields: nothing in the hub reads them */
export function dropManagedFields(obj: KubeObject): KubeObject {
  if (obj.metadata.managedFields !== undefined) delete obj.metadata.managedFields;
  return obj;
}

export class SharedObjects {
  private readonly byEvent = new WeakMap<KeyValue, KubeObject>();
  private lookup: CachedObjectLookup | undefined;

  constructor(private readonly transform: (o: KubeObject) => KubeObject = dropManagedFields) {}

  /** where to look for an already-decoded copy (the hub's shared informers) */
  setLookup(lookup: CachedObjectLookup): void {
    this.lookup = lookup;
  }

  /** the object stored in kv, shared with every other cache that decoded the same write */
  decode(kv: KeyValue): KubeObject {
    const memo = this.byEvent.get(kv);
    if (memo) return memo;
    const obj = this.cached(kv) ?? this.transform(decodeStored(kv.value, kv.revision));
    this.byEvent.set(kv, obj);
    return obj;
  }

  private cached(kv: KeyValue): KubeObject | undefined {
    if (!this.lookup || !kv.key.startsWith(REGISTRY)) return undefined;
    const rest = kv.key.slice(REGISTRY.length);
    const g = rest.indexOf("/");
    const r = rest.indexOf("/", g + 1);
    if (g < 0 || r < 0) return undefined;
    const group = rest.slice(0, g);
    const obj = this.lookup(group === "core" ? "" : group, rest.slice(g + 1, r), rest.slice(r + 1));
    return obj && obj.metadata.resourceVersion === String(kv.revision) ? obj : undefined;
  }
}
