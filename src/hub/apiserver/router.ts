/**
 * Resource request dispatch: (method, path shape, subresource) → handler, with upstream's
 * 404/405 answers for what is not served.
 */
import { ApiError } from "../../api/errors.js";
import { VIRTUAL_KINDS } from "./builtin-resources.js";
import type { Call } from "./handlers/context.js";
import { handleDelete, handleDeleteCollection } from "./handlers/delete.js";
import { handleList } from "./handlers/list.js";
import { handleReview } from "./handlers/reviews.js";
import { handleScale } from "./handlers/scale.js";
import { handleWatch } from "./handlers/watch.js";
import { handleCreate, handleGet, handlePatch, handleUpdate } from "./handlers/write.js";
import type { Verb } from "./resource-info.js";

/** handlers for subresources served by other components (log, exec, binding, eviction …) */
export type SubresourceHandler = (call: Call) => Promise<void>;

export interface RouterExtensions {
  /** keyed by `<group>/<resource>/<subresource>`, e.g. "/pods/log" */
  subresources: Map<string, SubresourceHandler>;
}

function requireVerb(call: Call, verb: Verb): void {
  if (!call.info.verbs.includes(verb)) {
    throw ApiError.methodNotAllowed(
      `the server does not allow this method on the requested resource (${verb} ${call.info.resource})`,
    );
  }
}

export async function routeResource(call: Call, ext: RouterExtensions): Promise<void> {
  const { req, rr, info } = call;
  const method = req.method ?? "GET";
  if (rr.subresource) {
    const sub = info.subresources.find((s) => s.name === rr.subresource);
    if (!sub) throw ApiError.notFound(`${info.resource}/${rr.subresource}`, rr.name ?? "", info.group);
    const custom = ext.subresources.get(`${info.group}/${info.resource}/${rr.subresource}`);
    if (custom) return custom(call);
    if (rr.subresource === "scale") return handleScale(call);
    if (rr.subresource === "status" || rr.subresource === "finalize") {
      const sr = rr.subresource === "status" ? "status" : "";
      if (method === "GET") return handleGet(call);
      if (method === "PUT") return handleUpdate(call, sr);
      if (method === "PATCH") return handlePatch(call, sr);
      throw ApiError.methodNotAllowed(`${method} is not supported on ${info.resource}/${rr.subresource}`);
    }
    throw ApiError.notFound(`${info.resource}/${rr.subresource}`, rr.name ?? "", info.group);
  }
  if (VIRTUAL_KINDS.has(info.kind)) {
    if (method !== "POST") throw ApiError.methodNotAllowed(`${info.resource} only supports create`);
    const custom = ext.subresources.get(`${info.group}/${info.resource}/`);
    return custom ? custom(call) : handleReview(call);
  }
  if (rr.name === undefined) {
    switch (method) {
      case "GET":
        if (call.query.bool("watch")) {
          requireVerb(call, "watch");
          return handleWatch(call);
        }
        requireVerb(call, "list");
        return handleList(call);
      case "POST":
        requireVerb(call, "create");
        return handleCreate(call);
      case "DELETE":
        requireVerb(call, "deletecollection");
        return handleDeleteCollection(call);
      default:
        throw ApiError.methodNotAllowed(`${method} is not supported on the ${info.resource} collection`);
    }
  }
  switch (method) {
    case "GET":
      if (call.query.bool("watch")) {
        requireVerb(call, "watch");
        return handleWatch(call);
      }
      requireVerb(call, "get");
      return handleGet(call);
    case "PUT":
      requireVerb(call, "update");
      return handleUpdate(call);
    case "PATCH":
      requireVerb(call, "patch");
      return handlePatch(call);
    case "DELETE":
      requireVerb(call, "delete");
      return handleDelete(call);
    case "POST":
      throw ApiError.methodNotAllowed(
        `POST is not supported on a single ${info.singular}: create on the collection instead`,
      );
    default:
      throw ApiError.methodNotAllowed(`${method} is not supported`);
  }
}
