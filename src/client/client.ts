/**
 * The API client contract controllers program against. The hub's controllers get an
 * in-process implementation over its object store (no HTTP, no serialization round trip);
 * anything else can implement it over HTTPS. Objects handed out are private copies.
 */
import type { KubeObject } from "../api/object.js";

export interface ResourceRef {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface ClientWatchEvent {
  type: WatchEventType;
  object: KubeObject;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
}

export interface ClientWatch {
  cancel(): void;
}

export interface DeleteOptions {
  propagationPolicy?: "Orphan" | "Background" | "Foreground";
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface Client {
  get(ref: ResourceRef, namespace: string | undefined, name: string): Promise<KubeObject | undefined>;
  list(ref: ResourceRef, namespace?: string): Promise<ListResult>;
  /** events after resourceVersion; onError(expired=true) means relist */
  watch(
    ref: ResourceRef,
    namespace: string | undefined,
    resourceVersion: string,
    onEvents: (events: ClientWatchEvent[]) => void,
    onError: (err: Error, expired: boolean) => void,
  ): ClientWatch;
  create(ref: ResourceRef, namespace: string | undefined, obj: KubeObject): Promise<KubeObject>;
  /** optimistic: obj.metadata.resourceVersion must be current (409 otherwise) */
  update(ref: ResourceRef, namespace: string | undefined, obj: KubeObject): Promise<KubeObject>;
  updateStatus(ref: ResourceRef, namespace: string | undefined, obj: KubeObject): Promise<KubeObject>;
  /**
   * read-modify-write with conflict retries. `ownedFields`: `fn` changes only values the
   * caller builds and knows valid, never metadata (the hub's lease renewals); an in-process
   * store may then skip defaults, validation and admission (src/hub/apiserver/owned-update.ts)
   */
  mutate(
    ref: ResourceRef,
    namespace: string | undefined,
    name: string,
    fn: (cur: KubeObject) => KubeObject,
    opts?: MutateOptions,
  ): Promise<KubeObject>;
  delete(ref: ResourceRef, namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<void>;
}

export interface MutateOptions {
  /** write the status subresource */
  status?: boolean;
  ownedFields?: boolean;
}

export const refs = {
  pods: { group: "", version: "v1", resource: "pods" },
  nodes: { group: "", version: "v1", resource: "nodes" },
  namespaces: { group: "", version: "v1", resource: "namespaces" },
  services: { group: "", version: "v1", resource: "services" },
  endpoints: { group: "", version: "v1", resource: "endpoints" },
  events: { group: "", version: "v1", resource: "events" },
  configmaps: { group: "", version: "v1", resource: "configmaps" },
  secrets: { group: "", version: "v1", resource: "secrets" },
  serviceaccounts: { group: "", version: "v1", resource: "serviceaccounts" },
  persistentvolumes: { group: "", version: "v1", resource: "persistentvolumes" },
  persistentvolumeclaims: { group: "", version: "v1", resource: "persistentvolumeclaims" },
  deployments: { group: "apps", version: "v1", resource: "deployments" },
  replicasets: { group: "apps", version: "v1", resource: "replicasets" },
  daemonsets: { group: "apps", version: "v1", resource: "daemonsets" },
  statefulsets: { group: "apps", version: "v1", resource: "statefulsets" },
  controllerrevisions: { group: "apps", version: "v1", resource: "controllerrevisions" },
  jobs: { group: "batch", version: "v1", resource: "jobs" },
  cronjobs: { group: "batch", version: "v1", resource: "cronjobs" },
  endpointslices: { group: "discovery.k8s.io", version: "v1", resource: "endpointslices" },
  storageclasses: { group: "storage.k8s.io", version: "v1", resource: "storageclasses" },
  leases: { group: "coordination.k8s.io", version: "v1", resource: "leases" },
  poddisruptionbudgets: { group: "policy", version: "v1", resource: "poddisruptionbudgets" },
  customresourcedefinitions: {
    group: "apiextensions.k8s.io",
    version: "v1",
    resource: "customresourcedefinitions",
  },
} as const satisfies Record<string, ResourceRef>;

export function isNotFound(e: unknown): boolean {
  return typeof e === "object" && e !== null && (e as { code?: unknown }).code === 404;
}

export function isConflict(e: unknown): boolean {
  return typeof e === "object" && e !== null && (e as { code?: unknown }).code === 409;
}
