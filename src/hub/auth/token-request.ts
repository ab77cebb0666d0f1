/**
 * POST serviceaccounts/{name}/token (authentication.k8s.io/v1 TokenRequest): what
 * `kubectl create token` calls. Upstream's limits: at least 10 minutes, default 1 hour.
 */
import { ApiError } from "../../api/errors.js";
import { isObject } from "../../api/object.js";
import { decodeObjectBody } from "../apiserver/codec.js";
import type { Call } from "../apiserver/handlers/context.js";
import { readBody, sendJson } from "../apiserver/http.js";
import type { ServiceAccountTokens } from "./service-account-tokens.js";

export function tokenRequestHandler(tokens: ServiceAccountTokens): (call: Call) => Promise<void> {
  return async (call) => {
    const { rr, parts, info } = call;
    if (call.req.method !== "POST")
      throw ApiError.methodNotAllowed("serviceaccounts/token only supports create");
    const body = decodeObjectBody(await readBody(call.req), call.req.headers["content-type"], parts.decode);
    const spec = isObject(body.spec) ? body.spec : {};
    const exp = typeof spec.expirationSeconds === "number" ? spec.expirationSeconds : 3600;
    if (exp < 600) {
      throw ApiError.invalid(
        "TokenRequest",
        rr.name ?? "",
        [
          {
            reason: "FieldValueInvalid",
            field: "spec.expirationSeconds",
            message: `Invalid value: ${exp}: may not specify a duration less than 10 minutes`,
          },
        ],
        "authentication.k8s.io",
      );
    }
    if (exp > 2 ** 32) {
      throw ApiError.invalid(
        "TokenRequest",
        rr.name ?? "",
        [
          {
            reason: "FieldValueTooLong",
            field: "spec.expirationSeconds",
            message: `Invalid value: ${exp}: may not specify a duration larger than 2^32 seconds`,
          },
        ],
        "authentication.k8s.io",
      );
    }
    const sa = await parts.store.get(info, rr.namespace, rr.name!);
    const audiences = Array.isArray(spec.audiences)
      ? spec.audiences.filter((a): a is string => typeof a === "string")
      : [];
    const ref =
      isObject(spec.boundObjectRef) && spec.boundObjectRef.kind === "Pod" ? spec.boundObjectRef : undefined;
    // upstream: the bound pod must exist; its uid is filled in (or must match when given), since
    // the authenticator refuses a token whose pod uid is not the live pod's
    let bound: Record<string, unknown> | undefined;
    if (ref) {
      const podName = String(ref.name ?? "");
      const pod = await parts.store.tryGet(parts.registry.byKind("", "Pod")!, rr.namespace, podName);
      if (!pod) throw ApiError.notFound("pods", podName);
      if (ref.uid && ref.uid !== pod.metadata.uid) {
        throw ApiError.conflict(
          "pods",
          podName,
          "",
          `the UID in the bound object reference (${String(ref.uid)}) does not match the UID in record. The object might have been deleted and then recreated`,
        );
      }
      bound = { ...ref, uid: pod.metadata.uid };
    }
    const t = tokens.issue({
      namespace: rr.namespace ?? "",
      name: rr.name ?? "",
      uid: sa.metadata.uid ?? "",
      audiences,
      expirationSeconds: exp,
      ...(bound ? { pod: { name: String(bound.name ?? ""), uid: String(bound.uid ?? "") } } : {}),
      now: parts.now(),
    });
    sendJson(call.res, 201, {
      kind: "TokenRequest",
      apiVersion: "authentication.k8s.io/v1",
      metadata: { name: rr.name, namespace: rr.namespace, creationTimestamp: null },
      spec: {
        audiences: audiences.length > 0 ? audiences : ["https://kubernetes.default.svc.cluster.local"],
        expirationSeconds: exp,
        boundObjectRef: bound ?? null,
      },
      status: t,
    });
  };
}
