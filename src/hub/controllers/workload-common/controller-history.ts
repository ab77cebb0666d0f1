/**
 * ControllerRevision history for DaemonSets and StatefulSets (upstream pkg/controller/history).
 *
 * Design notes
 * - A revision stores the pod template as upstream's patch shape
 *   `{"spec":{"template":{…,"$patch":"replace"}}}` so `kubectl rollout history/undo` read it.
 * - Its name is `<owner>-<hash>`; the hash is FNV-32a over the template's canonical JSON plus
 *   the owner's collisionCount, spelled with upstream's SafeEncodeString alphabet (no vowels,
 *   no look-alikes), so names and `controller-revision-hash` values look like upstream's.
 * - Equal template → the existing revision is reused; if it is not the newest its revision
 *   number is bumped (a rollback). A name taken by a different template is a hash collision:
 *   the caller bumps status.collisionCount and tries again.
 * - History is truncated to revisionHistoryLimit, never removing a live revision (one the
 *   owner's pods or status still name).
 */
import { isDeepStrictEqual } from "node:util";
import type { KubeObject } from "../../../api/object.js";
import { cloneJson, isObject } from "../../../api/object.js";
import { type Client, isNotFound, refs } from "../../../client/client.js";
import { newControllerRef } from "./pods.js";

export const REVISION_HASH_LABEL = "controller-revision-hash";

const SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/** upstream rand.SafeEncodeString */
export function safeEncode(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHABET[s.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (isObject(v)) {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

export function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  const bytes = Buffer.from(s, "utf8");
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function templateHash(template: unknown, collisionCount = 0): string {
  const base = canonical(template);
  return safeEncode(String(fnv32a(collisionCount > 0 ? `${base}#${collisionCount}` : base)));
}

/** the pod template a revision records */
export function revisionTemplate(rev: KubeObject): unknown {
  const data = rev.data as { spec?: { template?: Record<string, unknown> } } | undefined;
  const t = cloneJson(data?.spec?.template ?? {});
  delete t.$patch;
  return t;
}

export function revisionNumber(rev: KubeObject): number {
  return typeof rev.revision === "number" ? rev.revision : Number(rev.revision ?? 0);
}

export interface EnsuredRevision {
  revision: KubeObject;
  hash: string;
  collisionCount: number;
}

export class HashCollisionError extends Error {
  constructor(name: string) {
    super(`controller revision ${name} exists with a different template; bumping collisionCount`);
    this.name = "HashCollisionError";
  }
}

/**
 * Finds or creates the revision for `template` among `owned` (the owner's revisions, from
 * the cache). Returns the revision and the hash to label pods with.
 */
export async function ensureRevision(
  client: Client,
  owner: KubeObject,
  template: unknown,
  owned: KubeObject[],
  collisionCount: number,
): Promise<EnsuredRevision> {
  const ns = owner.metadata.namespace;
  const maxRev = owned.reduce((m, r) => Math.max(m, revisionNumber(r)), 0);
  const equal = owned.find((r) => isDeepStrictEqual(revisionTemplate(r), template));
  if (equal) {
    const hash = equal.metadata.labels?.[REVISION_HASH_LABEL] ?? "";
    if (revisionNumber(equal) === maxRev) return { revision: equal, hash, collisionCount };
    // a rollback to an older template: it becomes the newest revision again
    const bumped = await client.update(refs.controllerrevisions, ns, { ...equal, revision: maxRev + 1 });
    return { revision: bumped, hash, collisionCount };
  }
  let cc = collisionCount;
  for (let attempt = 0; attempt < 5; attempt++, cc++) {
    const hash = templateHash(template, cc);
    const name = `${owner.metadata.name}-${hash}`;
    const labels = {
      ...(((template as { metadata?: { labels?: Record<string, string> } }).metadata?.labels ?? {}) as Record<
        string,
        string
      >),
      [REVISION_HASH_LABEL]: hash,
    };
    const rev: KubeObject = {
      apiVersion: "apps/v1",
      kind: "ControllerRevision",
      metadata: { name, namespace: ns, labels, ownerReferences: [newControllerRef(owner)] },
      data: { spec: { template: { ...(template as object), $patch: "replace" } } },
      revision: maxRev + 1,
    };
    try {
      return { revision: await client.create(refs.controllerrevisions, ns, rev), hash, collisionCount: cc };
    } catch (e) {
      if ((e as { code?: number }).code !== 409) throw e;
      const existing = await client.get(refs.controllerrevisions, ns, name);
      if (existing && isDeepStrictEqual(revisionTemplate(existing), template)) {
        return { revision: existing, hash, collisionCount: cc };
      }
    }
  }
  throw new HashCollisionError(`${owner.metadata.name}-${templateHash(template, cc)}`);
}

/** deletes the oldest non-live revisions beyond `limit` */
export async function truncateHistory(
  client: Client,
  owned: KubeObject[],
  live: ReadonlySet<string>,
  limit: number,
): Promise<void> {
  const dead = owned
    .filter((r) => !live.has(r.metadata.name ?? ""))
    .sort((a, b) => revisionNumber(a) - revisionNumber(b));
  for (const r of dead.slice(0, Math.max(0, dead.length - limit))) {
    try {
      await client.delete(refs.controllerrevisions, r.metadata.namespace, r.metadata.name ?? "");
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}
