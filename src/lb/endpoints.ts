/**
 * Endpoint selection for one service port: which backends get traffic.
 *
 * Design notes (kube-proxy's CategorizeEndpoints is the specification)
 * - `conditions.ready` missing means ready; `serving` missing means "same as ready";
 *   `terminating` missing means false.
 * - Cluster traffic uses the ready endpoints. Only when none is ready does it fall back to
 *   endpoints that are serving and terminating, so a rolling update with a single replica keeps
 *   answering while the old pod drains. Local traffic applies the same rule to the local subset.
 * - The port comes from the EndpointSlice port whose name equals the Service port's name (and
 *   protocol matches): the EndpointSlice controller has already resolved a named targetPort to a
 *   number per pod, so a named targetPort never needs the Pod spec here.
 * - An endpoint appearing in several slices (during slice rebalancing) is used once.
 * - localPodIPs (from the runtime) overrides nodeName: after an offline reboot the cached slice
 *   still lists pods that are no longer running here, and those must not receive traffic.
 */
import type { Endpoint, EndpointSlice } from "kubernetes-types/discovery/v1";
import type { L4Protocol } from "./types.js";

export interface SelectedEndpoint {
  ip: string;
  port: number;
  local: boolean;
}

export interface EndpointSelection {
  cluster: SelectedEndpoint[];
  local: SelectedEndpoint[];
}

export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

export function isReady(ep: Endpoint): boolean {
  return ep.conditions?.ready ?? true;
}

export function isServing(ep: Endpoint): boolean {
  return ep.conditions?.serving ?? isReady(ep);
}

export function isTerminating(ep: Endpoint): boolean {
  return ep.conditions?.terminating ?? false;
}

/** Groups slices by "namespace/service" using the kubernetes.io/service-name label. */
export function slicesByService(slices: readonly EndpointSlice[]): Map<string, EndpointSlice[]> {
  const out = new Map<string, EndpointSlice[]>();
  for (const s of slices) {
    const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (!svc || s.addressType !== "IPv4") continue;
    const key = `${s.metadata?.namespace ?? "default"}/${svc}`;
    const list = out.get(key);
    if (list) list.push(s);
    else out.set(key, [s]);
  }
  return out;
}

export interface SelectOptions {
  portName: string;
  protocol: L4Protocol;
  nodeName: string;
  localPodIPs?: ReadonlySet<string>;
}

interface Candidate extends SelectedEndpoint {
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

function pickUsable(list: Candidate[]): SelectedEndpoint[] {
  const ready = list.filter((c) => c.ready);
  const chosen = ready.length > 0 ? ready : list.filter((c) => c.serving && c.terminating);
  return chosen.map(({ ip, port, local }) => ({ ip, port, local }));
}

/** The endpoints of one service port, sorted by address so plans are stable. */
export function selectEndpoints(slices: readonly EndpointSlice[], opts: SelectOptions): EndpointSelection {
  const seen = new Map<string, Candidate>();
  for (const slice of slices) {
    const sp = (slice.ports ?? []).find(
      (p) => (p.name ?? "") === opts.portName && (p.protocol ?? "TCP").toLowerCase() === opts.protocol,
    );
    if (!sp || sp.port === undefined) continue;
    for (const ep of slice.endpoints ?? []) {
      const ip = ep.addresses[0];
      if (!ip) continue;
      const key = `${ip}:${sp.port}`;
      if (seen.has(key)) continue;
      const claimsHere = ep.nodeName === opts.nodeName;
      let local = claimsHere;
      if (opts.localPodIPs) {
        if (opts.localPodIPs.has(ip)) local = true;
        // Stale: the cache says this pod runs here, the runtime says it does not.
        else if (claimsHere) continue;
      }
      seen.set(key, {
        ip,
        port: sp.port,
        local,
        ready: isReady(ep),
        serving: isServing(ep),
        terminating: isTerminating(ep),
      });
    }
  }
  const all = [...seen.values()].sort((a, b) => compareIp(a.ip, b.ip) || a.port - b.port);
  return { cluster: pickUsable(all), local: pickUsable(all.filter((c) => c.local)) };
}

export function compareIp(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 4; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
