/**
 * Discovery documents, legacy (`/api`, `/apis`, one APIResourceList per group-version) and
 * aggregated v2 (one APIGroupDiscoveryList for `/api` and one for `/apis`, which spares
 * kubectl a request per group-version). Derived from the registry and cached per registry
 * version.
 *
 * Design notes
 * - Documents are cached as serialized JSON strings per path: clients ask for discovery far
 *   more often than it changes, so a served document is a map lookup with no re-encoding.
 * - The whole cache is dropped when the registry's version moves (a CRD established or
 *   removed), never patched, so a document cannot disagree with the registry it came from.
 */
import type { ResourceRegistry } from "./registry.js";
import { groupVersion, type ResourceInfo } from "./resource-info.js";

export const AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/** groups in the order discovery lists them (core first, then as registered) */
function orderedGroups(reg: ResourceRegistry): [string, string[]][] {
  return [...reg.groups().entries()];
}

function apiResource(r: ResourceInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: r.resource,
    singularName: r.singular,
    namespaced: r.namespaced,
    kind: r.kind,
    verbs: [...r.verbs],
  };
  if (r.shortNames.length > 0) out.shortNames = [...r.shortNames];
  if (r.categories.length > 0) out.categories = [...r.categories];
  return out;
}

function subresourceEntries(r: ResourceInfo): Record<string, unknown>[] {
  return r.subresources.map((s) => {
    const e: Record<string, unknown> = {
      name: `${r.resource}/${s.name}`,
      singularName: "",
      namespaced: r.namespaced,
      kind: s.kind,
      verbs: [...s.verbs],
    };
    if (s.group !== undefined) e.group = s.group;
    if (s.version !== undefined) e.version = s.version;
    return e;
  });
}

export class Discovery {
  private cachedAt = -1;
  private docs = new Map<string, string>();

  constructor(
    private readonly registry: ResourceRegistry,
    private readonly extraGroups: () => {
      group: string;
      version: string;
      resources: Record<string, unknown>[];
    }[] = () => [],
  ) {}

  private cache(key: string, build: () => unknown): string {
    if (this.cachedAt !== this.registry.version) {
      this.docs = new Map();
      this.cachedAt = this.registry.version;
    }
    let s = this.docs.get(key);
    if (s === undefined) {
      s = JSON.stringify(build());
      this.docs.set(key, s);
    }
    return s;
  }

  apiVersions(): string {
    return this.cache("/api", () => ({
      kind: "APIVersions",
      versions: ["v1"],
      serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "" }],
    }));
  }

  private groupDoc(name: string, versions: string[]): Record<string, unknown> {
    const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
    return { name, versions: vs, preferredVersion: vs[0] };
  }

  apiGroupList(): string {
    return this.cache("/apis", () => ({
      kind: "APIGroupList",
      apiVersion: "v1",
      groups: [
        ...orderedGroups(this.registry)
          .filter(([g]) => g !== "")
          .map(([g, vs]) => this.groupDoc(g, vs)),
        ...this.extraGroups().map((e) => this.groupDoc(e.group, [e.version])),
      ],
    }));
  }

  apiGroup(group: string): string | undefined {
    const vs = this.registry.groups().get(group);
    const extra = this.extraGroups().find((e) => e.group === group);
    if (!vs && !extra) return undefined;
    return this.cache(`/apis/${group}`, () => ({
      kind: "APIGroup",
      apiVersion: "v1",
      ...this.groupDoc(group, vs ?? [extra!.version]),
    }));
  }

  resourceList(group: string, version: string): string | undefined {
    const rs = this.registry.inGroupVersion(group, version);
    const extra = this.extraGroups().find((e) => e.group === group && e.version === version);
    if (rs.length === 0 && !extra) return undefined;
    return this.cache(`${group}/${version}`, () => ({
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion: groupVersion({ group, version }),
      resources: extra ? extra.resources : rs.flatMap((r) => [apiResource(r), ...subresourceEntries(r)]),
    }));
  }

  /** aggregated discovery v2 for `/api` (core) or `/apis` (every other group) */
  aggregated(core: boolean): string {
    return this.cache(core ? "agg:/api" : "agg:/apis", () => ({
      kind: "APIGroupDiscoveryList",
      apiVersion: "apidiscovery.k8s.io/v2",
      metadata: {},
      items: [
        ...orderedGroups(this.registry)
          .filter(([g]) => (g === "") === core)
          .map(([g, vs]) => ({
            metadata: { name: g },
            versions: vs.map((v) => ({
              version: v,
              freshness: "Current",
              resources: this.registry.inGroupVersion(g, v).map(aggregatedResource),
            })),
          })),
        ...(core
          ? []
          : this.extraGroups().map((e) => ({
              metadata: { name: e.group },
              versions: [
                {
                  version: e.version,
                  freshness: "Current",
                  resources: e.resources.map((r) => ({
                    resource: r.name,
                    responseKind: { group: e.group, version: e.version, kind: r.kind },
                    scope: r.namespaced ? "Namespaced" : "Cluster",
                    singularResource: r.singularName,
                    verbs: r.verbs,
                  })),
                },
              ],
            }))),
      ],
    }));
  }
}

function aggregatedResource(r: ResourceInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {
    resource: r.resource,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? "Namespaced" : "Cluster",
    singularResource: r.singular,
    verbs: [...r.verbs],
  };
  if (r.shortNames.length > 0) out.shortNames = [...r.shortNames];
  if (r.categories.length > 0) out.categories = [...r.categories];
  if (r.subresources.length > 0) {
    out.subresources = r.subresources.map((s) => ({
      subresource: s.name,
      responseKind: { group: s.group ?? r.group, version: s.version ?? r.version, kind: s.kind },
      verbs: [...s.verbs],
    }));
  }
  return out;
}
