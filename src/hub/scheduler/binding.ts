/**
 * Pod binding: `POST /api/v1/namespaces/{ns}/pods/{name}/binding` (and the older
 * `POST /api/v1/namespaces/{ns}/bindings`), a `Binding{target:{kind:Node,name}}` that sets
 * spec.nodeName once and marks PodScheduled=True. The scheduler binds through the same
 * `StoreBinder`, in process, so there is one implementation.
 *
 * Design notes
 * - Like upstream's BindingREST (setPodHostAndAnnotations) the write goes to storage
 *   directly, not through the pod update strategy: spec.nodeName is otherwise immutable, and
 *   skipping defaulting/validation keeps binding cheap (hundreds per second).
 * - 409 when the pod is already bound ("pod x is already assigned to node …") or is being
 *   deleted, as upstream; a UID in the Binding is a precondition.
 */
import { ApiError, fieldErr } from "../../api/errors.js";
import { isObject, type KubeObject } from "../../api/object.js";
import { metaTime } from "../../api/time.js";
import { decodeBody, decodeStored, encodeForStorage } from "../apiserver/codec.js";
import { readBody, sendJson } from "../apiserver/http.js";
import type { ObjectStore } from "../apiserver/object-store.js";
import type { ResourceRegistry } from "../apiserver/registry.js";
import type { ResourceInfo } from "../apiserver/resource-info.js";
import type { SubresourceHandler } from "../apiserver/router.js";
import { ConflictError } from "../store/backend.js";

export interface BindRequest {
  namespace: string;
  name: string;
  node: string;
  uid?: string;
  annotations?: Record<string, string>;
}

/** what the scheduler needs: bind a pod to a node (throws ApiError 404/409) */
export interface PodBinder {
  bind(req: BindRequest): Promise<void>;
}

interface Condition {
  type: string;
  status: string;
  lastProbeTime?: string | null;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export class StoreBinder implements PodBinder {
  private readonly pods: ResourceInfo;

  constructor(
    private readonly store: ObjectStore,
    registry: ResourceRegistry,
    private readonly now: () => Date = () => new Date(),
  ) {
    const pods = registry.byKind("", "Pod");
    if (!pods) throw new Error("the Pod resource is not registered: the binder cannot work");
    this.pods = pods;
  }

  async bind(req: BindRequest): Promise<void> {
    const key = this.store.key(this.pods, req.namespace, req.name);
    for (let attempt = 0; ; attempt++) {
      const kv = await this.store.getKV(this.pods, req.namespace, req.name);
      const pod = decodeStored(kv.value, kv.revision);
      const next = applyBinding(pod, req, this.now());
      try {
        await this.store.backend.update(key, encodeForStorage(next), kv.revision);
        return;
      } catch (e) {
        // a concurrent status write: re-read and re-check (it may have been bound meanwhile)
        if (e instanceof ConflictError && attempt < 8) continue;
        throw e;
      }
    }
  }
}

/** the bound pod, or ApiError 409 when it cannot be bound */
export function applyBinding(pod: KubeObject, req: BindRequest, now: Date): KubeObject {
  const name = pod.metadata.name ?? req.name;
  if (req.uid && req.uid !== pod.metadata.uid) {
    throw ApiError.conflict(
      "pods",
      name,
      "",
      `Precondition failed: UID in precondition: ${req.uid}, UID in object meta: ${pod.metadata.uid}`,
    );
  }
  if (pod.metadata.deletionTimestamp) {
    throw ApiError.conflict("pods", name, "", `pod ${name} is being deleted, cannot be assigned to a host`);
  }
  const spec = (pod.spec ?? {}) as { nodeName?: string };
  if (spec.nodeName) {
    throw ApiError.conflict("pods", name, "", `pod ${name} is already assigned to node "${spec.nodeName}"`);
  }
  const status = (pod.status ?? {}) as { conditions?: Condition[] };
  const conditions = (status.conditions ?? []).filter((c) => c.type !== "PodScheduled");
  const prev = (status.conditions ?? []).find((c) => c.type === "PodScheduled");
  conditions.push({
    type: "PodScheduled",
    status: "True",
    lastProbeTime: null,
    lastTransitionTime:
      prev?.status === "True" && prev.lastTransitionTime ? prev.lastTransitionTime : metaTime(now),
  });
  const annotations = { ...(pod.metadata.annotations ?? {}), ...(req.annotations ?? {}) };
  return {
    ...pod,
    metadata: { ...pod.metadata, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
    spec: { ...spec, nodeName: req.node },
    status: { ...status, conditions },
  };
}

/** parse a Binding body into a bind request (422/400 in upstream's words) */
export function parseBinding(body: unknown, namespace: string, urlName: string | undefined): BindRequest {
  if (!isObject(body)) throw ApiError.badRequest("the request body must be a Binding object");
  const meta = isObject(body.metadata) ? body.metadata : {};
  const name = typeof meta.name === "string" ? meta.name : "";
  if (urlName !== undefined && name !== "" && name !== urlName) {
    throw ApiError.badRequest(`name in URL does not match name in Binding object (${urlName} vs ${name})`);
  }
  const podName = urlName ?? name;
  if (!podName)
    throw ApiError.invalid("Binding", "", [
      fieldErr.required("metadata.name", "name or generateName is required"),
    ]);
  const target = isObject(body.target) ? body.target : {};
  const kind = typeof target.kind === "string" ? target.kind : "";
  if (kind !== "" && kind !== "Node") {
    throw ApiError.invalid("Binding", podName, [
      fieldErr.notSupported("target.kind", kind, ["Node", "<empty>"]),
    ]);
  }
  const node = typeof target.name === "string" ? target.name : "";
  if (!node) throw ApiError.invalid("Binding", podName, [fieldErr.required("target.name")]);
  const annotations = isObject(meta.annotations) ? (meta.annotations as Record<string, string>) : undefined;
  const uid = typeof meta.uid === "string" && meta.uid ? meta.uid : undefined;
  return { namespace, name: podName, node, ...(uid ? { uid } : {}), ...(annotations ? { annotations } : {}) };
}

/** router extension for `/pods/binding` (urlName from the path) and `/bindings/` (from the body) */
export function bindingHandler(binder: PodBinder, fromPath: boolean): SubresourceHandler {
  return async (call) => {
    if (call.req.method !== "POST") throw ApiError.methodNotAllowed("binding only supports create (POST)");
    const body = decodeBody(await readBody(call.req), call.req.headers["content-type"], call.parts.decode);
    const ns = call.rr.namespace;
    if (!ns) throw ApiError.badRequest("bindings are namespaced: a namespace is required");
    const req = parseBinding(body, ns, fromPath ? call.rr.name : undefined);
    if (call.query.all("dryRun").length === 0) await binder.bind(req);
    sendJson(call.res, 201, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 });
  };
}
