/**
 * A CustomResourceDefinition as served resources: one ResourceInfo per served version, the
 * data discovery, routing, OpenAPI and storage derive everything from.
 *
 * Design notes
 * - All versions share one storage key space (group + plural); versions use conversion
 *   strategy None, so an object is served under each version with only apiVersion differing.
 * - `subresources.status` gives hasStatus semantics (status writes only via /status, spec
 *   writes bump generation); `subresources.scale` adds /scale with the CRD's paths.
 * - Names come from status.acceptedNames once the CRD controller accepted them, else from spec.
 */
import type { CustomResourceDefinition } from "kubernetes-types/apiextensions/v1";
import { crdSchemaName } from "../openapi/crd.js";
import { ALL_VERBS, type ResourceInfo, type SubresourceInfo } from "../resource-info.js";

export type { ScalePaths } from "../resource-info.js";

export interface CrdNames {
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  shortNames: string[];
  categories: string[];
}

/** spec.names with upstream's defaults (singular = lower(kind), listKind = kind + "List") */
export function specNames(crd: CustomResourceDefinition): CrdNames {
  const n = crd.spec?.names;
  const kind = n?.kind ?? "";
  return {
    plural: n?.plural ?? "",
    singular: n?.singular || kind.toLowerCase(),
    kind,
    listKind: n?.listKind || `${kind}List`,
    shortNames: [...(n?.shortNames ?? [])],
    categories: [...(n?.categories ?? [])],
  };
}

export function crdResourceInfos(
  crd: CustomResourceDefinition,
  names: CrdNames = specNames(crd),
): ResourceInfo[] {
  const group = crd.spec?.group ?? "";
  const out: ResourceInfo[] = [];
  for (const v of crd.spec?.versions ?? []) {
    if (!v.served) continue;
    const subs: SubresourceInfo[] = [];
    if (v.subresources?.status)
      subs.push({ name: "status", kind: names.kind, verbs: ["get", "patch", "update"] });
    const sc = v.subresources?.scale;
    if (sc)
      subs.push({
        name: "scale",
        kind: "Scale",
        group: "autoscaling",
        version: "v1",
        verbs: ["get", "patch", "update"],
      });
    const info: ResourceInfo = {
      group,
      version: v.name,
      resource: names.plural,
      singular: names.singular,
      kind: names.kind,
      listKind: names.listKind,
      namespaced: crd.spec?.scope !== "Cluster",
      shortNames: names.shortNames,
      categories: names.categories,
      verbs: ALL_VERBS,
      subresources: subs,
      hasStatus: v.subresources?.status !== undefined,
      schemaRef: crdSchemaName(group, v.name, names.kind),
      ...(sc
        ? {
            scale: {
              specReplicasPath: sc.specReplicasPath,
              statusReplicasPath: sc.statusReplicasPath,
              ...(sc.labelSelectorPath ? { labelSelectorPath: sc.labelSelectorPath } : {}),
            },
          }
        : {}),
    };
    out.push(info);
  }
  return out;
}
