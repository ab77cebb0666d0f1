/**
 * Writes on single objects: create (POST), update (PUT), patch (PATCH: json, merge,
 * strategic merge, server-side apply) and get. Each write honours dryRun, fieldValidation and
 * fieldManager, and records managedFields like upstream so server-side apply knows owners.
 *
 * Design notes
 * - Patches are applied inside ObjectStore.guaranteedUpdate's read-modify-write: a patch that
 *   loses a race with another writer is re-applied to the newer object, as upstream does,
 *   unless the patch itself names a resourceVersion (then the conflict is the caller's).
 * - managedFields are recorded by a transform the store runs as the last step before
 *   validation, so they describe the object exactly as it will be stored (defaults included).
 * - The reply reuses the bytes the store wrote (onStored) instead of serializing the object a
 *   second time.
 */
import { ApiError } from "../../../api/errors.js";
import { isObject, type KubeObject } from "../../../api/object.js";
import {
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  serverSideApply,
  supportsStrategicMerge,
  updateManagedFields,
} from "../../../api/patch/index.js";
import { decodeBody, decodeObjectBody, mediaType } from "../codec.js";
import { readBody, sendJson, sendRaw } from "../http.js";
import { timestamp } from "../object-store.js";
import { buildTable } from "../printers/index.js";
import { groupVersion, type ResourceInfo } from "../resource-info.js";
import type { Subresource } from "../strategy.js";
import { unknownFields } from "../validation/unknown-fields.js";
import type { Call } from "./context.js";

function dryRun(call: Call): boolean {
  const v = call.query.all("dryRun");
  for (const d of v) {
    if (d !== "All") throw ApiError.badRequest(`dryRun: Unsupported value: "${d}": supported values: "All"`);
  }
  return v.length > 0;
}

function fieldManager(call: Call): string {
  const fm = call.query.str("fieldManager");
  if (fm !== undefined) {
    if (fm.length > 128) throw ApiError.badRequest("fieldManager: Too long: may not be more than 128 bytes");
    return fm;
  }
  const ua = call.req.headers["user-agent"] ?? "unknown";
  return ua.split("/")[0] ?? "unknown";
}

/** fieldValidation: Strict → 400 on unknown fields; Warn (default) → Warning header; Ignore */
function checkFields(call: Call, obj: unknown, verb: string): void {
  const mode = call.query.str("fieldValidation") ?? "Warn";
  if (mode !== "Strict" && mode !== "Warn" && mode !== "Ignore") {
    throw ApiError.badRequest(
      `fieldValidation: Unsupported value: "${mode}": supported values: "Ignore", "Strict", "Warn"`,
    );
  }
  if (mode === "Ignore" || !call.info.schemaRef) return;
  const unknown = unknownFields(call.parts.schemas, call.info.schemaRef, obj);
  if (unknown.length === 0) return;
  if (mode === "Strict") {
    const list = unknown.map((f) => `unknown field "${f}"`).join(", ");
    throw ApiError.badRequest(
      `${call.info.kind} in version "${call.info.version}" cannot be handled as a ${call.info.kind}: strict decoding error: ${list}`,
    );
  }
  for (const f of unknown) call.warnings.push(`unknown field "${f}"`);
  void verb;
}

function managed(call: Call, sub: Subresource, manager: string) {
  const now = timestamp(call.parts.now());
  const apiVersion = groupVersion(call.info);
  return (next: KubeObject, old: KubeObject | undefined): KubeObject =>
    updateManagedFields({
      ...(old ? { old } : {}),
      updated: next,
      manager,
      operation: "Update",
      now,
      apiVersion,
      ...(sub ? { subresource: sub } : {}),
    }) as KubeObject;
}

/**
 * `json`, when given, is the object as the store wrote it (resourceVersion spliced in): sent
 * as is, so a write serializes its object once for the store and the reply alike.
 */
function reply(call: Call, code: number, obj: KubeObject, json?: string): void {
  if (call.accept.table) {
    const t = buildTable(call.parts.printerFor(call.info), [obj], {
      includeObject: "Metadata",
      resourceVersion: obj.metadata.resourceVersion ?? "",
      now: call.parts.now(),
    });
    sendJson(call.res, code, t);
    return;
  }
  if (json !== undefined) sendRaw(call.res, code, json);
  else sendJson(call.res, code, obj);
}

export async function handleGet(call: Call): Promise<void> {
  const obj = await call.parts.store.get(call.info, call.rr.namespace, call.rr.name!);
  reply(call, 200, obj);
}

export async function handleCreate(call: Call): Promise<void> {
  const body = decodeObjectBody(
    await readBody(call.req),
    call.req.headers["content-type"],
    call.parts.decode,
  );
  checkFields(call, body, "create");
  let json: string | undefined;
  const created = await call.parts.store.create(call.info, call.rr.namespace, body, {
    dryRun: dryRun(call),
    transform: managed(call, "", fieldManager(call)),
    owned: true,
    onStored: (j) => (json = j),
    user: call.user,
  });
  reply(call, 201, created, json);
}

export async function handleUpdate(call: Call, sub: Subresource = ""): Promise<void> {
  const body = decodeObjectBody(
    await readBody(call.req),
    call.req.headers["content-type"],
    call.parts.decode,
  );
  checkFields(call, body, "update");
  let json: string | undefined;
  const updated = await call.parts.store.update(call.info, call.rr.namespace, call.rr.name!, body, {
    dryRun: dryRun(call),
    subresource: sub,
    transform: managed(call, sub, fieldManager(call)),
    owned: true,
    onStored: (j) => (json = j),
    user: call.user,
  });
  reply(call, 200, updated, json);
}

export async function handlePatch(call: Call, sub: Subresource = ""): Promise<void> {
  const { info, rr, parts } = call;
  const ct = mediaType(call.req.headers["content-type"]);
  const raw = await readBody(call.req);
  const patch = decodeBody(raw, call.req.headers["content-type"], parts.decode);
  const gk = { group: info.group, kind: info.kind };
  const manager = fieldManager(call);
  let json: string | undefined;
  const opts = {
    dryRun: dryRun(call),
    subresource: sub,
    onStored: (j: string) => (json = j),
    user: call.user,
  };
  if (ct === "application/apply-patch+yaml") {
    if (!isObject(patch)) throw ApiError.badRequest("an apply patch must be an object");
    if (call.query.str("fieldManager") === undefined) {
      throw ApiError.badRequest(
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
      );
    }
    checkFields(call, patch, "apply");
    const applied = patch as KubeObject;
    applied.metadata ??= {};
    const force = call.query.bool("force");
    const apiVersion = groupVersion(info);
    const now = timestamp(parts.now());
    const existing = await parts.store.tryGet(info, rr.namespace, rr.name!);
    if (!existing) {
      if (sub) throw ApiError.notFound(info.resource, rr.name!, info.group, info.kind);
      const obj = serverSideApply({ applied, manager, force, gk, now, apiVersion }) as KubeObject;
      obj.metadata.name ??= rr.name;
      if (obj.metadata.name !== rr.name)
        throw ApiError.badRequest("the name of the object does not match the name on the URL");
      const created = await parts.store.create(info, rr.namespace, obj, {
        dryRun: opts.dryRun,
        owned: true,
        onStored: opts.onStored,
        user: call.user,
      });
      reply(call, 201, created, json);
      return;
    }
    const out = await parts.store.guaranteedUpdate(
      info,
      rr.namespace,
      rr.name!,
      (cur) => serverSideApply({ live: cur, applied, manager, force, gk, now, apiVersion }) as KubeObject,
      opts,
    );
    reply(call, 200, out, json);
    return;
  }
  let apply: (cur: KubeObject) => KubeObject;
  switch (ct) {
    case "application/json-patch+json":
      if (!Array.isArray(patch)) throw ApiError.badRequest("a JSON patch must be an array of operations");
      apply = (cur) => applyJsonPatch(cur, patch) as KubeObject;
      break;
    case "application/merge-patch+json":
      if (!isObject(patch)) throw ApiError.badRequest("a merge patch must be a JSON object");
      checkFields(call, patch, "patch");
      apply = (cur) => applyMergePatch(cur, patch) as KubeObject;
      break;
    case "application/strategic-merge-patch+json":
      if (!supportsStrategicMerge(gk)) {
        throw new ApiError(
          415,
          "UnsupportedMediaType",
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
        );
      }
      if (!isObject(patch)) throw ApiError.badRequest("a strategic merge patch must be a JSON object");
      checkFields(call, stripDirectives(patch), "patch");
      apply = (cur) => applyStrategicMergePatch(cur, patch, gk) as KubeObject;
      break;
    default:
      throw new ApiError(
        415,
        "UnsupportedMediaType",
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got "${ct}")`,
      );
  }
  const out = await parts.store.guaranteedUpdate(
    info,
    rr.namespace,
    rr.name!,
    (cur) => {
      const next = apply(cur);
      if (!isObject(next) || !isObject(next.metadata))
        throw ApiError.badRequest("the patch removed metadata");
      const rv = next.metadata.resourceVersion;
      if (rv !== undefined && rv !== cur.metadata.resourceVersion)
        throw ApiError.conflict(info.resource, rr.name!, info.group);
      return next;
    },
    { ...opts, transform: managed(call, sub, manager) },
  );
  reply(call, 200, out, json);
}

/** `$setElementOrder/x`, `$patch`, … are directives, not fields */
function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) if (!k.startsWith("$")) out[k] = stripDirectives(val);
  return out;
}

export type { ResourceInfo };
