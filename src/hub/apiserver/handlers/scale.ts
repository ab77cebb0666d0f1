/**
 * The scale subresource (deployments, replicasets, statefulsets and CRDs with a scale
 * subresource): an autoscaling/v1 Scale view of spec.replicas and status.replicas/selector.
 */
import { ApiError } from "../../../api/errors.js";
import { isObject, type KubeObject } from "../../../api/object.js";
import { applyJsonPatch, applyMergePatch } from "../../../api/patch/index.js";
import { labelSelectorMatcher } from "../../../api/selectors.js";
import { decodeBody, mediaType } from "../codec.js";
import { readBody, sendJson } from "../http.js";
import type { ResourceInfo } from "../resource-info.js";
import type { Call } from "./context.js";

/** ".spec.replicas" → ["spec", "replicas"] (CRD scale paths are simple field paths) */
function segments(path: string): string[] {
  return path.replace(/^\./, "").split(".").filter(Boolean);
}

function readPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const k of segments(path)) cur = isObject(cur) ? cur[k] : undefined;
  return cur;
}

function writePath(obj: KubeObject, path: string, value: unknown): KubeObject {
  const out = structuredClone(obj) as Record<string, unknown>;
  const keys = segments(path);
  let cur = out;
  keys.forEach((k, i) => {
    if (i === keys.length - 1) cur[k] = value;
    else {
      if (!isObject(cur[k])) cur[k] = {};
      cur = cur[k] as Record<string, unknown>;
    }
  });
  return out as KubeObject;
}

function toScale(obj: KubeObject, info: ResourceInfo): KubeObject {
  const spec = (obj.spec ?? {}) as { replicas?: number; selector?: unknown };
  const status = (obj.status ?? {}) as { replicas?: number };
  if (info.scale) {
    // a CRD's scale subresource: replicas and the (string) selector live where the CRD says
    const sel = info.scale.labelSelectorPath ? readPath(obj, info.scale.labelSelectorPath) : undefined;
    spec.replicas = readPath(obj, info.scale.specReplicasPath) as number | undefined;
    status.replicas = readPath(obj, info.scale.statusReplicasPath) as number | undefined;
    spec.selector = typeof sel === "string" ? sel : undefined;
  }
  const selector =
    typeof spec.selector === "string"
      ? { selector: spec.selector }
      : isObject(spec.selector)
        ? { selector: labelSelectorMatcher(spec.selector).toString() }
        : {};
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: {
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
      creationTimestamp: obj.metadata.creationTimestamp,
    },
    spec: { replicas: spec.replicas ?? 0 },
    status: { replicas: status.replicas ?? 0, ...selector },
  };
}

export async function handleScale(call: Call): Promise<void> {
  const { info, rr, parts, req } = call;
  if (req.method === "GET") {
    sendJson(call.res, 200, toScale(await parts.store.get(info, rr.namespace, rr.name!), info));
    return;
  }
  const raw = await readBody(req);
  const body = decodeBody(raw, req.headers["content-type"], parts.decode);
  const ct = mediaType(req.headers["content-type"]);
  const dryRun = call.query.all("dryRun").length > 0;
  const out = await parts.store.guaranteedUpdate(
    info,
    rr.namespace,
    rr.name!,
    (cur) => {
      const scale = toScale(cur, info);
      let next: unknown;
      if (req.method === "PUT") next = body;
      else if (ct === "application/json-patch+json") next = applyJsonPatch(scale, body as unknown[]);
      else next = applyMergePatch(scale, body as Record<string, unknown>);
      if (!isObject(next)) throw ApiError.badRequest("the scale body must be an object");
      const rv = (next.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
      if (req.method === "PUT" && rv && rv !== cur.metadata.resourceVersion)
        throw ApiError.conflict(info.resource, rr.name!, info.group);
      const replicas = (next.spec as { replicas?: unknown } | undefined)?.replicas;
      if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0) {
        throw ApiError.invalid(
          "Scale",
          rr.name!,
          [
            {
              reason: "FieldValueInvalid",
              field: "spec.replicas",
              message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
            },
          ],
          "autoscaling",
        );
      }
      if (info.scale) return writePath(cur, info.scale.specReplicasPath, replicas);
      return { ...cur, spec: { ...(cur.spec as object), replicas } };
    },
    { dryRun },
  );
  sendJson(call.res, 200, toScale(out, info));
}
