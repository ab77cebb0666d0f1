/**
 * DELETE on an object and on a collection. DeleteOptions come from the body (kubectl sends
 * `{"propagationPolicy":"Background"}`) or the query. An object deleted at once is answered
 * with a Success Status naming it; one that stays (finalizers, graceful pod deletion,
 * Terminating namespace) is answered with its current state, as upstream does.
 */
import { ApiError } from "../../../api/errors.js";
import { isObject } from "../../../api/object.js";
import { decodeBody } from "../codec.js";
import { readBody, sendJson } from "../http.js";
import type { DeleteOptions } from "../object-store.js";
import { compileSelection } from "../selection.js";
import type { Call } from "./context.js";

const POLICIES = ["Orphan", "Background", "Foreground"] as const;

async function deleteOptions(call: Call): Promise<DeleteOptions> {
  const raw = await readBody(call.req);
  const body =
    raw.length > 0
      ? decodeBody(raw, call.req.headers["content-type"] ?? "application/json", call.parts.decode)
      : {};
  if (!isObject(body)) throw ApiError.badRequest("DeleteOptions must be a JSON object");
  const q = call.query;
  const opts: DeleteOptions = {};
  const grace =
    typeof body.gracePeriodSeconds === "number" ? body.gracePeriodSeconds : q.int("gracePeriodSeconds");
  if (grace !== undefined) {
    if (grace < 0) throw ApiError.badRequest("gracePeriodSeconds: Invalid value: must be >= 0");
    opts.gracePeriodSeconds = grace;
  }
  let policy = (
    typeof body.propagationPolicy === "string" ? body.propagationPolicy : q.str("propagationPolicy")
  ) as string | undefined;
  if (policy === undefined && (body.orphanDependents === true || q.str("orphanDependents") === "true"))
    policy = "Orphan";
  if (policy !== undefined) {
    if (!(POLICIES as readonly string[]).includes(policy)) {
      throw ApiError.invalid("DeleteOptions", "", [
        {
          reason: "FieldValueNotSupported",
          field: "propagationPolicy",
          message: `Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan", "nil"`,
        },
      ]);
    }
    opts.propagationPolicy = policy as DeleteOptions["propagationPolicy"];
  }
  const dry = Array.isArray(body.dryRun) ? (body.dryRun as string[]) : q.all("dryRun");
  if (dry.length > 0) opts.dryRun = true;
  if (isObject(body.preconditions)) {
    const p = body.preconditions;
    opts.preconditions = {
      ...(typeof p.uid === "string" ? { uid: p.uid } : {}),
      ...(typeof p.resourceVersion === "string" ? { resourceVersion: p.resourceVersion } : {}),
    };
  }
  return opts;
}

export async function handleDelete(call: Call): Promise<void> {
  const { info, rr, parts } = call;
  const opts = await deleteOptions(call);
  const r = await parts.store.delete(info, rr.namespace, rr.name!, opts);
  if (r.deleted) {
    sendJson(call.res, 200, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Success",
      details: { name: rr.name, group: info.group, kind: info.resource, uid: r.object.metadata.uid },
    });
    return;
  }
  sendJson(call.res, 200, r.object);
}

export async function handleDeleteCollection(call: Call): Promise<void> {
  const { info, rr, parts, query } = call;
  const opts = await deleteOptions(call);
  const pred = compileSelection(info, query.str("labelSelector"), query.str("fieldSelector"));
  const list = await parts.store.backend.list(parts.store.prefix(info, rr.namespace));
  const { decodeStored } = await import("../codec.js");
  for (const kv of list.items) {
    const obj = decodeStored(kv.value, kv.revision);
    if (pred && !pred(obj)) continue;
    try {
      await parts.store.delete(info, obj.metadata.namespace, obj.metadata.name!, opts);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
    }
  }
  sendJson(call.res, 200, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success" });
}
