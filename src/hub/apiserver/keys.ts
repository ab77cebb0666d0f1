/**
 * Storage keys, kine-style: `/registry/<group|core>/<resource>/<namespace>/<name>` for
 * namespaced resources and `/registry/<group|core>/<resource>/<name>` for cluster-scoped
 * ones, so a prefix selects a resource, or a resource in one namespace.
 */
import type { ResourceInfo } from "./resource-info.js";

export interface StorageRef {
  readonly group: string;
  readonly resource: string;
  readonly namespaced: boolean;
}

function base(r: StorageRef): string {
  return `/registry/${r.group === "" ? "core" : r.group}/${r.resource}/`;
}

export function objectKey(r: StorageRef, namespace: string | undefined, name: string): string {
  return r.namespaced ? `${base(r)}${namespace}/${name}` : `${base(r)}${name}`;
}

/** all objects of a resource, or of a resource in one namespace */
export function listPrefix(r: StorageRef, namespace?: string): string {
  return r.namespaced && namespace ? `${base(r)}${namespace}/` : base(r);
}

/**
 * Where a resource lives. events.k8s.io/v1 Events are stored apart from core/v1 Events
 * (upstream converts one into the other; here each API sees what was written through it).
 */
export function storageRef(info: ResourceInfo): StorageRef {
  return { group: info.group, resource: info.resource, namespaced: info.namespaced };
}
