/**
 * The untyped object shape the API machinery works on. Typed views of the built-in kinds
 * come from `kubernetes-types` (type-only); the server itself treats every kind, built-in
 * or CRD, as this generic shape so the resource registry can stay data-driven.
 */
import type { ObjectMeta as K8sObjectMeta } from "kubernetes-types/meta/v1";

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };
/** ObjectMeta as the server handles it: the server fills uid, timestamps and generation. */
export type ObjectMeta = Mutable<K8sObjectMeta>;

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: unknown };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function apiVersionOf(group: string, version: string): string {
  return group === "" ? version : `${group}/${version}`;
}

export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf("/");
  return i < 0
    ? { group: "", version: apiVersion }
    : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

/** Deep copy of plain JSON data. Cached objects are read-only: clone before changing. */
export function cloneJson<T>(v: T): T {
  return structuredClone(v);
}
