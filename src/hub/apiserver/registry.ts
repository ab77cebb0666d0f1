/**
 * ResourceRegistry: the live set of served resources. Built-ins are registered at start and
 * CRDs at run time; discovery, OpenAPI, routing and storage all read from here, and listeners
 * hear about changes so cached documents (discovery, OpenAPI) are rebuilt.
 */
import { groupVersion, type ResourceInfo } from "./resource-info.js";

export type RegistryListener = () => void;

export class ResourceRegistry {
  private readonly byPath = new Map<string, ResourceInfo>();
  private readonly listeners = new Set<RegistryListener>();
  private generation = 0;

  constructor(initial: readonly ResourceInfo[] = []) {
    for (const r of initial) this.byPath.set(this.pathKey(r.group, r.version, r.resource), r);
  }

  private pathKey(group: string, version: string, resource: string): string {
    return `${group}/${version}/${resource}`;
  }

  /** bumps on every change, so callers can cache derived documents */
  get version(): number {
    return this.generation;
  }

  add(r: ResourceInfo): void {
    this.byPath.set(this.pathKey(r.group, r.version, r.resource), r);
    this.changed();
  }

  remove(group: string, version: string, resource: string): void {
    if (this.byPath.delete(this.pathKey(group, version, resource))) this.changed();
  }

  onChange(fn: RegistryListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(): void {
    this.generation++;
    for (const fn of this.listeners) fn();
  }

  get(group: string, version: string, resource: string): ResourceInfo | undefined {
    return this.byPath.get(this.pathKey(group, version, resource));
  }

  /** the served resource for a kind in a group (any version, preferred first) */
  byKind(group: string, kind: string, version?: string): ResourceInfo | undefined {
    let found: ResourceInfo | undefined;
    for (const r of this.byPath.values()) {
      if (r.group !== group || r.kind !== kind) continue;
      if (version === undefined || r.version === version) return r;
      found ??= r;
    }
    return version === undefined ? found : undefined;
  }

  all(): ResourceInfo[] {
    return [...this.byPath.values()];
  }

  /** group → versions (in registration order), with "" for the core group */
  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const r of this.byPath.values()) {
      const vs = out.get(r.group) ?? [];
      if (!vs.includes(r.version)) vs.push(r.version);
      out.set(r.group, vs);
    }
    return out;
  }

  inGroupVersion(group: string, version: string): ResourceInfo[] {
    return this.all().filter((r) => r.group === group && r.version === version);
  }

  groupVersions(): string[] {
    const seen = new Set<string>();
    for (const r of this.byPath.values()) seen.add(groupVersion(r));
    return [...seen];
  }
}
