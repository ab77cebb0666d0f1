/**
 * OpenAPI path items for one resource, laid out like upstream's group-version documents:
 * collection and item paths in their namespaced (`/api/v1/namespaces/{namespace}/pods/{name}`) or
 * cluster-scoped form, the all-namespaces list path, and subresource paths.
 *
 * Design notes
 * - Every operation carries `x-kubernetes-group-version-kind` and `x-kubernetes-action`: kubectl
 *   finds a kind's operations by that GVK (explain, field-validation probing), not by URL.
 * - Operations exist only for the verbs the ResourceInfo lists, so the document never promises
 *   what the router will refuse.
 * - Subresource bodies: `status` is the parent kind; others (scale → autoscaling/v1 Scale,
 *   eviction → policy/v1 Eviction, …) name their kind in SubresourceInfo. Streaming subresources
 *   (exec, attach, portforward, proxy) are "connect" actions with a plain string response.
 */
import type { JsonObject } from "../../../api/object.js";
import type { ResourceInfo, SubresourceInfo } from "../resource-info.js";
import {
  DELETE_PARAMS,
  deleteBody,
  LIST_PARAMS,
  NAME_PARAM,
  NAMESPACE_PARAM,
  objectBody,
  PATCH_PARAMS,
  PRETTY_PARAM,
  patchBody,
  responses,
  WRITE_PARAMS,
} from "./parameters.js";
import { refTo, STATUS } from "./schemas.js";

/** Where a resource's kind and list schemas live; chosen by the document builder. */
export interface ResourceSchemas {
  kind: JsonObject;
  list: JsonObject;
  /** whether strategic merge patch applies (built-in kinds only) */
  strategic: boolean;
  /** schema of a subresource body, or undefined when none is known */
  subresource(sub: SubresourceInfo): JsonObject | undefined;
}

type Gvk = { group: string; version: string; kind: string };

const CONNECT = new Set(["exec", "attach", "portforward", "proxy"]);

/** "rbac.authorization.k8s.io" → "RbacAuthorization", "" → "Core": upstream's operationId infix. */
function groupId(group: string): string {
  if (group === "") return "Core";
  return group
    .replace(/\.k8s\.io$/, "")
    .split(/[.-]/)
    .map((s) => s.charAt(0).toUpperCase() + s.slice(1))
    .join("");
}

function op(
  action: string,
  id: string,
  gvk: Gvk,
  description: string,
  extra: Readonly<JsonObject> = {},
): JsonObject {
  return {
    description,
    operationId: id,
    tags: [],
    ...extra,
    "x-kubernetes-action": action,
    "x-kubernetes-group-version-kind": gvk,
  };
}

/** Path items for one resource, keyed by path. */
export function resourcePaths(r: ResourceInfo, s: ResourceSchemas): Record<string, JsonObject> {
  const base = r.group === "" ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  const scope = r.namespaced ? `${base}/namespaces/{namespace}` : base;
  const scopeId = r.namespaced ? "Namespaced" : "";
  const idOf = (verb: string, suffix = "") =>
    `${verb}${groupId(r.group)}${capital(r.version)}${scopeId}${r.kind}${suffix}`;
  const gvk: Gvk = { group: r.group, version: r.version, kind: r.kind };
  const has = (v: string) => (r.verbs as readonly string[]).includes(v);
  const scopeParams = r.namespaced ? [NAMESPACE_PARAM, PRETTY_PARAM] : [PRETTY_PARAM];
  const out: Record<string, JsonObject> = {};

  const collection: JsonObject = { parameters: scopeParams };
  if (has("list")) {
    collection.get = op("list", idOf("list"), gvk, `list or watch objects of kind ${r.kind}`, {
      parameters: LIST_PARAMS,
      responses: responses(["200"], s.list),
    });
  }
  if (has("create")) {
    collection.post = op("post", idOf("create"), gvk, `create a ${r.kind}`, {
      parameters: WRITE_PARAMS,
      requestBody: objectBody(s.kind),
      responses: responses(["200", "201", "202"], s.kind),
    });
  }
  if (has("deletecollection")) {
    collection.delete = op(
      "deletecollection",
      idOf("deleteCollection"),
      gvk,
      `delete collection of ${r.kind}`,
      {
        parameters: [...LIST_PARAMS, ...DELETE_PARAMS],
        requestBody: deleteBody(),
        responses: responses(["200"], refTo(STATUS)),
      },
    );
  }
  if (Object.keys(collection).length > 1) out[`${scope}/${r.resource}`] = collection;

  const item: JsonObject = { parameters: [NAME_PARAM(r.kind), ...scopeParams] };
  if (has("get")) {
    item.get = op("get", idOf("read"), gvk, `read the specified ${r.kind}`, {
      responses: responses(["200"], s.kind),
    });
  }
  if (has("update")) {
    item.put = op("put", idOf("replace"), gvk, `replace the specified ${r.kind}`, {
      parameters: WRITE_PARAMS,
      requestBody: objectBody(s.kind),
      responses: responses(["200", "201"], s.kind),
    });
  }
  if (has("delete")) {
    item.delete = op("delete", idOf("delete"), gvk, `delete a ${r.kind}`, {
      parameters: DELETE_PARAMS,
      requestBody: deleteBody(),
      responses: responses(["200", "202"], s.kind),
    });
  }
  if (has("patch")) {
    item.patch = op("patch", idOf("patch"), gvk, `partially update the specified ${r.kind}`, {
      parameters: PATCH_PARAMS,
      requestBody: patchBody(s.strategic),
      responses: responses(["200", "201"], s.kind),
    });
  }
  if (Object.keys(item).length > 1) out[`${scope}/${r.resource}/{name}`] = item;

  if (r.namespaced && has("list")) {
    out[`${base}/${r.resource}`] = {
      parameters: [PRETTY_PARAM],
      get: op(
        "list",
        `list${groupId(r.group)}${capital(r.version)}${r.kind}ForAllNamespaces`,
        gvk,
        `list or watch objects of kind ${r.kind}`,
        { parameters: LIST_PARAMS, responses: responses(["200"], s.list) },
      ),
    };
  }

  for (const sub of r.subresources) {
    const schema = sub.name === "status" ? s.kind : (s.subresource(sub) ?? { type: "string" });
    const subGvk: Gvk =
      sub.name === "status"
        ? gvk
        : { group: sub.group ?? r.group, version: sub.version ?? r.version, kind: sub.kind };
    const suffix = capital(sub.name);
    const entry: JsonObject = { parameters: [NAME_PARAM(sub.kind), ...scopeParams] };
    const connect = CONNECT.has(sub.name);
    for (const verb of sub.verbs) {
      if (connect && (verb === "get" || verb === "create")) {
        const method = verb === "get" ? "get" : "post";
        entry[method] = op(
          "connect",
          idOf(`connect${capital(method)}`, suffix),
          subGvk,
          `connect ${method.toUpperCase()} requests to ${sub.name} of ${r.kind}`,
          {
            responses: responses(["200"], { type: "string" }),
          },
        );
      } else if (verb === "get") {
        entry.get = op("get", idOf("read", suffix), subGvk, `read ${sub.name} of the specified ${r.kind}`, {
          responses: responses(["200"], schema),
        });
      } else if (verb === "update") {
        entry.put = op(
          "put",
          idOf("replace", suffix),
          subGvk,
          `replace ${sub.name} of the specified ${r.kind}`,
          {
            parameters: WRITE_PARAMS,
            requestBody: objectBody(schema),
            responses: responses(["200", "201"], schema),
          },
        );
      } else if (verb === "patch") {
        entry.patch = op(
          "patch",
          idOf("patch", suffix),
          subGvk,
          `partially update ${sub.name} of the specified ${r.kind}`,
          {
            parameters: PATCH_PARAMS,
            requestBody: patchBody(s.strategic),
            responses: responses(["200", "201"], schema),
          },
        );
      } else if (verb === "create") {
        entry.post = op("post", idOf("create", suffix), subGvk, `create ${sub.name} of a ${r.kind}`, {
          parameters: WRITE_PARAMS,
          requestBody: objectBody(schema),
          responses: responses(["200", "201", "202"], schema),
        });
      }
    }
    if (Object.keys(entry).length > 1) out[`${scope}/${r.resource}/{name}/${sub.name}`] = entry;
  }
  return out;
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
