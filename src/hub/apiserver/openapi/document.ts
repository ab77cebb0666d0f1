/**
 * OpenAPI v3 documents: the `/openapi/v3` root (one entry per served group-version) and the
 * per-group-version document kubectl downloads for `explain` and to decide on server-side field
 * validation.
 *
 * Design notes
 * - A document is `paths` for the group-version's resources plus the transitive closure of the
 *   schemas they reference — the same shape as upstream's `/openapi/v3/apis/apps/v1`, so kubectl's
 *   explain templates and GVK lookups work unchanged.
 * - A resource's kind schema is its `schemaRef`, else the upstream-named built-in for its GVK, else
 *   the CRD-named extra schema; a kind without any (a CRD version with no schema yet) still gets
 *   its operations, with an open object schema, so field-validation probing keeps working.
 * - Output is deterministic (paths and schemas sorted) so the content hash is stable.
 */
import type { JsonObject } from "../../../api/object.js";
import { KUBE_VERSION } from "../../../lib/version.js";
import type { ResourceInfo, SubresourceInfo } from "../resource-info.js";
import { groupVersion } from "../resource-info.js";
import { crdSchemaName } from "./crd.js";
import { type ResourceSchemas, resourcePaths } from "./paths.js";
import { builtInSchema, closure, directRefs, refTo } from "./schemas.js";

/** Key of a group-version in the /openapi/v3 root: "api/v1", "apis/apps/v1". */
export function openApiV3Path(gv: string): string {
  return gv.includes("/") ? `apis/${gv}` : `api/${gv}`;
}

export function openApiV3Root(gvs: readonly { groupVersion: string; hash: string }[]): JsonObject {
  const paths: JsonObject = {};
  for (const { groupVersion: gv, hash } of [...gvs].sort((a, b) =>
    a.groupVersion.localeCompare(b.groupVersion),
  )) {
    const key = openApiV3Path(gv);
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
  }
  return { paths };
}

/** Upstream package prefix of a built-in group's schemas. */
function builtInPrefix(group: string): string {
  if (group === "") return "io.k8s.api.core";
  if (group === "apiextensions.k8s.io") return "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions";
  return `io.k8s.api.${group.replace(/\.k8s\.io$/, "").split(".")[0]}`;
}

/** The name of the schema describing group/version/kind, if one is known. */
function schemaNameFor(
  group: string,
  version: string,
  kind: string,
  extra: Readonly<Record<string, JsonObject>>,
): string | undefined {
  const candidates = [`${builtInPrefix(group)}.${version}.${kind}`, crdSchemaName(group, version, kind)];
  return candidates.find((n) => Object.hasOwn(extra, n) || builtInSchema(n) !== undefined);
}

function schemasFor(r: ResourceInfo, extra: Readonly<Record<string, JsonObject>>): ResourceSchemas {
  const use = (name: string | undefined): JsonObject | undefined =>
    name === undefined ? undefined : refTo(name);
  const kindName = r.schemaRef ?? schemaNameFor(r.group, r.version, r.kind, extra);
  const listName =
    kindName === undefined
      ? undefined
      : [
          kindName.slice(0, kindName.lastIndexOf(".") + 1) + r.listKind,
          schemaNameFor(r.group, r.version, r.listKind, extra),
        ].find((n) => n !== undefined && (Object.hasOwn(extra, n) || builtInSchema(n) !== undefined));
  const open: JsonObject = { type: "object", "x-kubernetes-preserve-unknown-fields": true };
  return {
    kind: use(kindName) ?? open,
    list: use(listName) ?? open,
    strategic:
      kindName !== undefined && builtInSchema(kindName) !== undefined && !Object.hasOwn(extra, kindName),
    subresource(sub: SubresourceInfo) {
      if (sub.name === "log" || !sub.kind) return undefined;
      return use(schemaNameFor(sub.group ?? r.group, sub.version ?? r.version, sub.kind, extra));
    },
  };
}

/**
 * The OpenAPI v3 document of one group-version ("v1", "apps/v1"). `resources` may hold other
 * group-versions too; only this one's are described. `extraSchemas` adds schemas the generated
 * table lacks (CRDs, from crdSchemas()).
 */
export function openApiV3Document(
  gv: string,
  resources: readonly ResourceInfo[],
  extraSchemas: Readonly<Record<string, JsonObject>> = {},
): JsonObject {
  const paths: Record<string, JsonObject> = {};
  const mine = resources.filter((r) => groupVersion(r) === gv);
  for (const r of mine) Object.assign(paths, resourcePaths(r, schemasFor(r, extraSchemas)));
  // Everything the operations reference (kinds, lists, Status, DeleteOptions, Patch) roots the closure.
  const used = directRefs(paths);
  const sortedPaths: JsonObject = {};
  for (const p of Object.keys(paths).sort()) sortedPaths[p] = paths[p];
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: KUBE_VERSION.gitVersion },
    paths: sortedPaths,
    components: {
      schemas: closure(used, extraSchemas),
      securitySchemes: {
        BearerToken: {
          description: "Bearer Token authentication",
          in: "header",
          name: "authorization",
          type: "apiKey",
        },
      },
    },
    security: [{ BearerToken: [] }],
  };
}
