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
import type { Call } from "./context.js";

function toScale(obj: KubeObject): KubeObject {
  const spec = (obj.spec ?? {}) as { replicas?: number; selector?: unknown };
  const status = (obj.status ?? {}) as { replicas?: number };
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
    status: {
      replicas: status.replicas ?? 0,
      ...(isObject(spec.selector) ? { selector: labelSelectorMatcher(spec.selector).toString() } : {}),
    },
  };
}

export async function handleScale(call: Call): Promise<void> {
  const { info, rr, parts, req } = call;
  if (req.method === "GET") {
    sendJson(call.res, 200, toScale(await parts.store.get(info, rr.namespace, rr.name!)));
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
      const scale = toScale(cur);
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
      return { ...cur, spec: { ...(cur.spec as object), replicas } };
    },
    { dryRun },
  );
  sendJson(call.res, 200, toScale(out));
}
