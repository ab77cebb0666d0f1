/**
 * Which node and container a pod stream request addresses, with upstream's answers when it
 * cannot be served (pkg/registry/core/pod/strategy.go: LogLocation, streamLocation,
 * PortForwardLocation).
 */
import type { Pod } from "kubernetes-types/core/v1";
import { ApiError, type StatusReason } from "../../api/errors.js";
import type { KubeObject } from "../../api/object.js";
import type { StreamMux, StreamOpenError } from "../../transport/streams/index.js";

export interface PodTarget {
  node: string;
  podUid: string;
  /** the pod name, for messages on the agent (upstream names pods without namespace) */
  pod: string;
  container: string;
}

/** Opens streams to agents (StreamMux fits). */
export interface StreamOpener {
  open: StreamMux["open"];
}

/** Reads a pod from the store; undefined when it does not exist. */
export type PodGetter = (namespace: string, name: string) => Promise<KubeObject | undefined>;

function names(list: { name: string }[] | undefined): string[] {
  return (list ?? []).map((c) => c.name);
}

/**
 * Picks the container: the named one (app, init or ephemeral), or the only app container.
 * `kubectl.kubernetes.io/default-container` is honoured as upstream's kubectl does client-side.
 */
export function pickContainer(pod: Pod, requested: string | undefined): string {
  const name = pod.metadata?.name ?? "";
  const spec = pod.spec;
  const app = names(spec?.containers);
  const init = names(spec?.initContainers);
  const eph = names(spec?.ephemeralContainers);
  if (requested) {
    if (app.includes(requested) || init.includes(requested) || eph.includes(requested)) return requested;
    throw ApiError.badRequest(`container ${requested} is not valid for pod ${name}`);
  }
  if (app.length === 1) return app[0]!;
  const preferred = pod.metadata?.annotations?.["kubectl.kubernetes.io/default-container"];
  if (preferred && app.includes(preferred)) return preferred;
  let msg = `a container name must be specified for pod ${name}, choose one of: [${app.join(" ")}]`;
  if (init.length > 0) msg += ` or one of the init containers: [${init.join(" ")}]`;
  if (eph.length > 0) msg += ` or one of the ephemeral containers: [${eph.join(" ")}]`;
  throw ApiError.badRequest(msg);
}

/** The pod's node, or upstream's 400 when it has none yet. */
export function podNode(pod: Pod): string {
  const node = pod.spec?.nodeName;
  if (!node) throw ApiError.badRequest(`pod ${pod.metadata?.name ?? ""} does not have a host assigned`);
  return node;
}

export async function loadPod(get: PodGetter, namespace: string, name: string): Promise<Pod> {
  const obj = await get(namespace, name);
  if (!obj) throw ApiError.notFound("pods", name);
  return obj as unknown as Pod;
}

export function target(pod: Pod, container: string): PodTarget {
  return {
    node: podNode(pod),
    podUid: pod.metadata?.uid ?? "",
    pod: pod.metadata?.name ?? "",
    container,
  };
}

/** An agent's refusal (or an unreachable node) as the API error kubectl prints. */
export function openErrorToApi(err: unknown): ApiError {
  const e = err as Partial<StreamOpenError> & Error;
  if (typeof e.code === "number") {
    const known: StatusReason[] = ["BadRequest", "NotFound", "ServiceUnavailable", "TooManyRequests"];
    const reason = known.find((r) => r === e.reason) ?? "InternalError";
    return new ApiError(e.code, reason, e.message);
  }
  return ApiError.internal(`error opening a stream to the node: ${e.message}`);
}
