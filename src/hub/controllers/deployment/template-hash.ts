/**
 * pod-template-hash: the name suffix and label that tie a ReplicaSet to one version of a
 * Deployment's pod template (upstream controller.ComputeHash and EqualIgnoreHash).
 *
 * Design notes
 * - FNV-32a over a canonical JSON rendering of the template (keys sorted), then the
 *   collisionCount as 4 little-endian bytes, then upstream's SafeEncodeString of the decimal
 *   number (each digit mapped into "bcdfghjklmnpqrstvwxz2456789": no vowels, no words).
 *   Upstream hashes Go's spew dump, so the strings differ from a real cluster's; what matters
 *   is that they are stable for a template and change when it changes.
 * - Templates are compared ignoring the pod-template-hash label, so a template patched back
 *   to an old version (rollout undo) finds the old ReplicaSet again.
 */
import { isDeepStrictEqual } from "node:util";
import { cloneJson, isObject } from "../../../api/object.js";

export const POD_TEMPLATE_HASH = "pod-template-hash";
const ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789";

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (isObject(v)) {
    const keys = Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

function fnv32a(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function safeEncodeString(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) out += ALPHANUMS[s.charCodeAt(i) % ALPHANUMS.length];
  return out;
}

export function computeHash(template: unknown, collisionCount?: number): string {
  let h = fnv32a(new TextEncoder().encode(canonical(template)));
  if (collisionCount !== undefined && collisionCount !== null) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(b, h);
  }
  return safeEncodeString(String(h));
}

function withoutHash(template: unknown): unknown {
  if (!isObject(template)) return template;
  const t = cloneJson(template);
  const meta = isObject(t.metadata) ? t.metadata : undefined;
  const labels = meta && isObject(meta.labels) ? meta.labels : undefined;
  if (labels) {
    delete labels[POD_TEMPLATE_HASH];
    if (Object.keys(labels).length === 0 && meta) delete meta.labels;
  }
  return t;
}

/** the two pod templates are equal but for the pod-template-hash label */
export function equalIgnoreHash(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(withoutHash(a), withoutHash(b));
}
