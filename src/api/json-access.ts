/**
 * Small, total accessors for untyped JSON objects. Defaulting and validation walk objects
 * that came straight off the wire, so every step must tolerate a missing or mistyped field
 * instead of throwing (a wrong type is reported by validation, never by a TypeError).
 */
import { isObject, type JsonObject } from "./object.js";

/** the object at v, or an empty throwaway object */
export const objAt = (v: unknown): JsonObject => (isObject(v) ? v : {});

/** the array at v, or an empty throwaway array */
export const arrAt = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** the objects in the array at v (non-objects skipped) */
export const objectsAt = (v: unknown): JsonObject[] => arrAt(v).filter(isObject);

export const strAt = (v: unknown): string => (typeof v === "string" ? v : "");

/** parent[key] as an object, created (and stored) when absent or not an object */
export function ensureObject(parent: JsonObject, key: string): JsonObject {
  const cur = parent[key];
  if (isObject(cur)) return cur;
  const fresh: JsonObject = {};
  parent[key] = fresh;
  return fresh;
}

/** set parent[key] = value only when it is absent (undefined, null or "") */
export function setDefault(parent: JsonObject, key: string, value: unknown): void {
  const cur = parent[key];
  if (cur === undefined || cur === null || cur === "") parent[key] = value;
}

/** a `Record<string,string>` view of a label/annotation map, non-strings dropped */
export function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObject(v)) for (const [k, x] of Object.entries(v)) if (typeof x === "string") out[k] = x;
  return out;
}
