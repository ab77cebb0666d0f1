/**
 * Event wiring shared by the Endpoints and EndpointSlice controllers: which service keys a
 * change to a Service, a Pod or an owned object enqueues. Handlers only enqueue
 * `namespace/name` of services; reconcile re-reads everything from the caches.
 *
 * Design notes
 * - A pod change enqueues every service selecting the pod before or after the change (a label
 *   edit moves a pod from one service to another), found by scanning the namespace's services
 *   in the cache: services per namespace are few on an edge cluster, so no index is kept.
 * - Status-only churn that cannot change endpoints (same IP, readiness, labels, deletion) is
 *   filtered out here to spare the queue.
 */
import { isDeepStrictEqual } from "node:util";
import type { KubeObject } from "../../../api/object.js";
import { type InformerCache, objectKey } from "../../../client/informer.js";
import { hasSelector, podIsReady, selectsPod } from "./pod-endpoints.js";

function endpointRelevant(pod: KubeObject): unknown {
  const st = (pod.status ?? {}) as { podIP?: string; podIPs?: unknown; phase?: string };
  const spec = (pod.spec ?? {}) as { nodeName?: string; hostname?: string; subdomain?: string };
  return [
    pod.metadata.labels ?? {},
    pod.metadata.deletionTimestamp ?? "",
    st.podIP ?? "",
    st.podIPs ?? [],
    st.phase ?? "",
    podIsReady(pod),
    spec.nodeName ?? "",
    spec.hostname ?? "",
    spec.subdomain ?? "",
  ];
}

export function servicesForPod(services: InformerCache, pod: KubeObject): string[] {
  const ns = pod.metadata.namespace;
  return services
    .list((s) => s.metadata.namespace === ns && hasSelector(s) && selectsPod(s, pod))
    .map(objectKey);
}

/** Wire services, pods and owned objects (keyed by `keyOfOwned`) to `enqueue`. */
export function wireServiceEvents(
  services: InformerCache,
  pods: InformerCache,
  owned: InformerCache,
  keyOfOwned: (o: KubeObject) => string | undefined,
  enqueue: (key: string) => void,
): void {
  services.addHandlers({
    onAdd: (s) => enqueue(objectKey(s)),
    onUpdate: (s) => enqueue(objectKey(s)),
    onDelete: (s) => enqueue(objectKey(s)),
  });
  const podChanged = (pod: KubeObject) => {
    for (const k of servicesForPod(services, pod)) enqueue(k);
  };
  pods.addHandlers({
    onAdd: podChanged,
    onUpdate: (pod, old) => {
      if (isDeepStrictEqual(endpointRelevant(pod), endpointRelevant(old))) return;
      podChanged(pod);
      podChanged(old);
    },
    onDelete: podChanged,
  });
  const ownedChanged = (o: KubeObject) => {
    const k = keyOfOwned(o);
    if (k) enqueue(k);
  };
  owned.addHandlers({ onAdd: ownedChanged, onUpdate: ownedChanged, onDelete: ownedChanged });
}
