/**
 * ResourceInfo: the data that describes one served resource. The registry is a list of these
 * (built-ins at start, CRDs added at run time), and discovery, OpenAPI, routing, tables and
 * storage keys are all derived from it, so a new kind needs data, not code.
 */

export type Verb = "create" | "delete" | "deletecollection" | "get" | "list" | "patch" | "update" | "watch";

export const ALL_VERBS: readonly Verb[] = [
  "create",
  "delete",
  "deletecollection",
  "get",
  "list",
  "patch",
  "update",
  "watch",
];

export interface SubresourceInfo {
  /** "status", "scale", "log", "exec", "attach", "portforward", "binding", "eviction", "proxy", "token" */
  readonly name: string;
  /** kind of the subresource body (Scale → autoscaling/v1 Scale; status → the parent kind) */
  readonly kind: string;
  readonly group?: string;
  readonly version?: string;
  readonly verbs: readonly string[];
}

export interface ColumnDefinition {
  readonly name: string;
  readonly type: string;
  readonly format: string;
  readonly description: string;
  /** 0 = always shown, 1 = only with -o wide */
  readonly priority: number;
}

export interface ResourceInfo {
  readonly group: string;
  readonly version: string;
  /** plural, lower case: "deployments" */
  readonly resource: string;
  readonly singular: string;
  readonly kind: string;
  readonly listKind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly verbs: readonly Verb[];
  readonly subresources: readonly SubresourceInfo[];
  /** whether writes to .spec bump metadata.generation (kinds with a spec/status split) */
  readonly hasStatus: boolean;
  /** OpenAPI component name of the kind's schema: "io.k8s.api.apps.v1.Deployment" */
  readonly schemaRef?: string;
  /** where /scale reads and writes replicas (CRDs' subresources.scale); default spec/status.replicas */
  readonly scale?: ScalePaths;
}

export interface ScalePaths {
  /** JSON path such as ".spec.replicas" */
  readonly specReplicasPath: string;
  readonly statusReplicasPath: string;
  readonly labelSelectorPath?: string;
}

export function groupVersion(r: Pick<ResourceInfo, "group" | "version">): string {
  return r.group === "" ? r.version : `${r.group}/${r.version}`;
}

/** "deployments.apps", "pods": how upstream names a resource in messages */
export function qualifiedResource(r: Pick<ResourceInfo, "group" | "resource">): string {
  return r.group === "" ? r.resource : `${r.resource}.${r.group}`;
}
