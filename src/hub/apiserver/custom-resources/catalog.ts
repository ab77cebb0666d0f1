/**
 * CustomResourceCatalog: what the API server knows about served CRDs beyond their
 * ResourceInfo — each version's structural schema (prune, default, validate on every write),
 * Table printer from additionalPrinterColumns, and OpenAPI component schemas — kept in step
 * with the live ResourceRegistry by one call per CRD change.
 *
 * Design notes
 * - The CRD controller calls serve(crd) / unserve(name); the catalog updates its own maps
 *   first and the registry last, so registry listeners (discovery, OpenAPI rebuild) already see
 *   the new schemas when they run.
 * - admit() is the ObjectStore's `customResource` hook: a no-op for built-ins, so the store
 *   stays generic. Writes to a terminating CRD's resources are refused like upstream (405).
 * - A printer column whose JSONPath does not parse falls back to the default NAME/AGE table
 *   (upstream serves the default table too).
 */
import type { CustomResourceDefinition } from "kubernetes-types/apiextensions/v1";
import { ApiError, type StatusCause } from "../../../api/errors.js";
import type { JsonObject, KubeObject } from "../../../api/object.js";
import { crdSchemas } from "../openapi/crd.js";
import { type CrdPrinterColumn, crdPrinter, type TablePrinter } from "../printers/index.js";
import type { ResourceRegistry } from "../registry.js";
import type { ResourceInfo } from "../resource-info.js";
import type { Schema } from "../validation/unknown-fields.js";
import { type CrdNames, crdResourceInfos, specNames } from "./crd-resources.js";
import { applyDefaults, prune } from "./schema-prune.js";
import { type StructuralSchema, validateCustomObject } from "./schema-validate.js";

interface VersionEntry {
  crdName: string;
  schema: StructuralSchema | undefined;
  printer: TablePrinter;
}

function resourceKey(group: string, version: string, resource: string): string {
  return `${group}/${version}/${resource}`;
}

export class CustomResourceCatalog {
  private readonly versions = new Map<string, VersionEntry>();
  private readonly served = new Map<string, ResourceInfo[]>();
  private readonly components = new Map<string, Record<string, JsonObject>>();
  private readonly terminating = new Set<string>();
  private merged: Record<string, JsonObject> | undefined;

  constructor(private readonly registry: ResourceRegistry) {}

  /** Serve (or re-serve) every served version of a CRD under the given accepted names. */
  serve(crd: CustomResourceDefinition, names: CrdNames = specNames(crd)): ResourceInfo[] {
    const name = crd.metadata?.name ?? "";
    const infos = crdResourceInfos(crd, names);
    const previous = this.served.get(name) ?? [];
    for (const p of previous) this.versions.delete(resourceKey(p.group, p.version, p.resource));
    for (const v of crd.spec?.versions ?? []) {
      if (!v.served) continue;
      let printer: TablePrinter;
      try {
        printer = crdPrinter(v.additionalPrinterColumns as CrdPrinterColumn[] | undefined);
      } catch {
        printer = crdPrinter(undefined);
      }
      this.versions.set(resourceKey(crd.spec.group, v.name, names.plural), {
        crdName: name,
        schema: v.schema?.openAPIV3Schema as StructuralSchema | undefined,
        printer,
      });
    }
    this.components.set(name, crdSchemas(crd));
    this.merged = undefined;
    this.served.set(name, infos);
    const keep = new Set(infos.map((i) => resourceKey(i.group, i.version, i.resource)));
    for (const p of previous) {
      if (!keep.has(resourceKey(p.group, p.version, p.resource)))
        this.registry.remove(p.group, p.version, p.resource);
    }
    for (const i of infos) this.registry.add(i);
    return infos;
  }

  /** Stop serving a CRD's resources (after its instances are gone). */
  unserve(crdName: string): void {
    const previous = this.served.get(crdName) ?? [];
    for (const p of previous) this.versions.delete(resourceKey(p.group, p.version, p.resource));
    this.served.delete(crdName);
    this.components.delete(crdName);
    this.terminating.delete(crdName);
    this.merged = undefined;
    for (const p of previous) this.registry.remove(p.group, p.version, p.resource);
  }

  /** Refuse creates while the CRD is being deleted (its instances are being removed). */
  setTerminating(crdName: string, on: boolean): void {
    if (on) this.terminating.add(crdName);
    else this.terminating.delete(crdName);
  }

  isServed(crdName: string): boolean {
    return this.served.has(crdName);
  }

  servedResources(crdName: string): readonly ResourceInfo[] {
    return this.served.get(crdName) ?? [];
  }

  private entry(info: ResourceInfo): VersionEntry | undefined {
    return this.versions.get(resourceKey(info.group, info.version, info.resource));
  }

  /** the Table printer of a custom resource, undefined for built-ins */
  printer(info: ResourceInfo): TablePrinter | undefined {
    return this.entry(info)?.printer;
  }

  /** OpenAPI component schemas of every served CRD (for OpenApiCache extraSchemas) */
  schemas(): Record<string, JsonObject> {
    this.merged ??= Object.assign({}, ...this.components.values()) as Record<string, JsonObject>;
    return this.merged;
  }

  /** a CRD component schema by name, for fieldValidation's unknown-field walk */
  schema(name: string): Schema | undefined {
    return this.schemas()[name] as Schema | undefined;
  }

  /**
   * ObjectStore hook: prune unknown fields, apply schema defaults, then validate. Mutates
   * `obj` (the store's private copy); returns the schema violations.
   */
  admit(info: ResourceInfo, obj: KubeObject, old: KubeObject | undefined): StatusCause[] {
    const e = this.entry(info);
    if (!e) return [];
    if (!old && this.terminating.has(e.crdName)) {
      throw ApiError.methodNotAllowed(
        `create not allowed while custom resource definition is terminating: wait until ${e.crdName} is deleted, or recreate it then`,
      );
    }
    prune(e.schema, obj, true);
    applyDefaults(e.schema, obj);
    return validateCustomObject(e.schema, obj);
  }
}
