/**
 * Desired discovery.k8s.io/v1 EndpointSlices for a Service, and the plan (create / update /
 * delete) that turns the existing slices into them — pure, so the reconciler only executes.
 *
 * Design notes
 * - Endpoints are grouped by their resolved port set (a named targetPort may resolve
 *   differently per pod) and chunked at 100 per slice (upstream's maxEndpointsPerSlice).
 * - Existing slices are reused per port set in name order, so a steady state writes nothing
 *   and growth appends; surplus slices are deleted. A service with no endpoints keeps one
 *   placeholder slice with no ports and no endpoints, like upstream.
 * - Conditions follow upstream podToEndpoint: serving = Ready (or publishNotReadyAddresses),
 *   terminating = deletionTimestamp set, ready = serving && !terminating (or publishNotReady).
 */
import { isDeepStrictEqual } from "node:util";
import type { KubeObject } from "../../../api/object.js";
import { HEADLESS_LABEL } from "./endpoints-subsets.js";
import {
  compareIPs,
  type EndpointPort,
  podHostname,
  podIPFor,
  podIsReady,
  podIsTerminating,
  podNodeName,
  podPorts,
  portsKey,
  selectsPod,
  serviceSpec,
  shouldPodBeInEndpoints,
  targetRef,
} from "./pod-endpoints.js";

export const MAX_ENDPOINTS_PER_SLICE = 100;
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
export const MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";
export const CONTROLLER_NAME = "endpointslice-controller.k8s.io";

export interface SliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  hostname?: string;
  nodeName?: string;
  targetRef: Record<string, string>;
}

export interface SlicePlan {
  create: KubeObject[];
  update: KubeObject[];
  delete: KubeObject[];
}

interface SliceBody {
  addressType: string;
  endpoints: SliceEndpoint[];
  ports?: EndpointPort[];
}

export function addressType(svc: KubeObject): "IPv4" | "IPv6" {
  return serviceSpec(svc).ipFamilies?.[0] === "IPv6" ? "IPv6" : "IPv4";
}

/** Endpoints grouped by port set, each group sorted by address. */
export function desiredGroups(
  svc: KubeObject,
  pods: readonly KubeObject[],
): Map<string, { ports: EndpointPort[]; endpoints: SliceEndpoint[] }> {
  const spec = serviceSpec(svc);
  const pnr = spec.publishNotReadyAddresses === true;
  const family = addressType(svc);
  const hasPorts = (spec.ports ?? []).length > 0;
  const groups = new Map<string, { ports: EndpointPort[]; endpoints: SliceEndpoint[] }>();
  for (const pod of pods) {
    if (!selectsPod(svc, pod) || !shouldPodBeInEndpoints(pod, true)) continue;
    const ip = podIPFor(pod, family);
    if (!ip) continue;
    const ports = podPorts(svc, pod).sort((a, b) => a.name.localeCompare(b.name) || a.port - b.port);
    if (hasPorts && ports.length === 0) continue;
    const serving = pnr || podIsReady(pod);
    const terminating = podIsTerminating(pod);
    const hostname = podHostname(svc, pod);
    const nodeName = podNodeName(pod);
    const ep: SliceEndpoint = {
      addresses: [ip],
      conditions: { ready: pnr || (serving && !terminating), serving, terminating },
      ...(hostname ? { hostname } : {}),
      ...(nodeName ? { nodeName } : {}),
      targetRef: targetRef(pod),
    };
    const key = portsKey(ports);
    const g = groups.get(key) ?? { ports, endpoints: [] };
    g.endpoints.push(ep);
    groups.set(key, g);
  }
  for (const g of groups.values()) g.endpoints.sort((a, b) => compareIPs(a.addresses[0]!, b.addresses[0]!));
  return groups;
}

/** Labels of a managed slice: the service's, the service name, the manager, headless marker. */
export function sliceLabels(svc: KubeObject): Record<string, string> {
  const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
  if (serviceSpec(svc).clusterIP === "None") labels[HEADLESS_LABEL] = "";
  else delete labels[HEADLESS_LABEL];
  labels[SERVICE_NAME_LABEL] = svc.metadata.name ?? "";
  labels[MANAGED_BY_LABEL] = CONTROLLER_NAME;
  return labels;
}

/** generateName prefix: upstream keeps it short enough for the 5-char suffix. */
export function slicePrefix(serviceName: string): string {
  const prefix = `${serviceName}-`;
  return prefix.length > 58 ? `${prefix.slice(0, 58)}` : prefix;
}

function newSlice(svc: KubeObject, body: SliceBody): KubeObject {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      generateName: slicePrefix(svc.metadata.name ?? ""),
      namespace: svc.metadata.namespace,
      labels: sliceLabels(svc),
      ownerReferences: [
        {
          apiVersion: "v1",
          kind: "Service",
          name: svc.metadata.name ?? "",
          uid: svc.metadata.uid ?? "",
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    ...body,
  };
}

function bodyOf(slice: KubeObject): SliceBody {
  return {
    addressType: String(slice.addressType ?? ""),
    endpoints: (slice.endpoints as SliceEndpoint[] | null | undefined) ?? [],
    ...(slice.ports ? { ports: slice.ports as EndpointPort[] } : {}),
  };
}

/**
 * Plan the writes that make `existing` (this service's managed slices) match the pods.
 * Updated slices are full objects carrying the existing resourceVersion.
 */
export function planSlices(
  svc: KubeObject,
  pods: readonly KubeObject[],
  existing: readonly KubeObject[],
): SlicePlan {
  const type = addressType(svc);
  const wanted: SliceBody[] = [];
  for (const [, g] of [...desiredGroups(svc, pods)].sort(([a], [b]) => a.localeCompare(b))) {
    for (let i = 0; i < g.endpoints.length; i += MAX_ENDPOINTS_PER_SLICE) {
      wanted.push({
        addressType: type,
        endpoints: g.endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE),
        ports: g.ports,
      });
    }
  }
  if (wanted.length === 0) wanted.push({ addressType: type, endpoints: [] });
  const pool = [...existing].sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""));
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  const labels = sliceLabels(svc);
  const unmatched: SliceBody[] = [];
  // first pass: slices already equal to a wanted body stay untouched
  for (const body of wanted) {
    const i = pool.findIndex(
      (s) => isDeepStrictEqual(bodyOf(s), body) && isDeepStrictEqual(s.metadata.labels ?? {}, labels),
    );
    if (i >= 0) pool.splice(i, 1);
    else unmatched.push(body);
  }
  for (const body of unmatched) {
    // prefer a slice with the same port set and address type, then any left over
    const key = portsKey(body.ports ?? []);
    let i = pool.findIndex(
      (s) => s.addressType === body.addressType && portsKey(bodyOf(s).ports ?? []) === key,
    );
    if (i < 0) i = pool.findIndex((s) => s.addressType === body.addressType);
    if (i < 0) {
      plan.create.push(newSlice(svc, body));
      continue;
    }
    const cur = pool.splice(i, 1)[0]!;
    const { endpoints: _e, ports: _p, addressType: _a, ...rest } = cur;
    plan.update.push({ ...rest, metadata: { ...cur.metadata, labels }, ...body });
  }
  plan.delete.push(...pool);
  return plan;
}
