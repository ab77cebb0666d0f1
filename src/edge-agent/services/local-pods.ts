/**
 * LocalPods: what this agent itself knows about the pods running on its node — the latest
 * status its pod manager computed for each pod (phase, podIP) — for the service proxy's
 * `localPodIPs` and cluster DNS's `isEndpointLive`.
 *
 * Design notes
 * - The stale-EndpointSlice problem: after an offline reboot the cached EndpointSlices still
 *   list this node's pods as ready, but their containers may not run (yet, or ever again).
 *   Other edge distributions keep serving those addresses; we serve a local endpoint only
 *   when this agent has seen its pod Running with that IP since it started.
 * - Fed from the pod manager's status reports (the same statuses that go to the hub), and
 *   seeded at agent start, before the services' first rules sync, with the desired pods whose
 *   sandbox and app containers run and whose wiring survived (runningAtStart + the network's
 *   wiredAddresses). Without the seed every agent restart first programmed the rules without
 *   this node's endpoints and put them back only when the pod manager had re-synced each pod:
 *   seen in every offline restart of the dev-cluster services test (a full sync without them,
 *   then an incremental one adding them back 0.2–0.6 s later at load 10), a window that grows
 *   with load and with the number of pods, during which a Service whose endpoints are all local
 *   (externalTrafficPolicy Local, or a single replica) is rejected. A pod not found running and
 *   wired stays hidden until the pod manager reports it (the conservative answer).
 * - Pods that left the desired set are dropped by the caller passing the desired uids, so a
 *   deleted pod's IP never outlives it.
 * - Remote endpoints are out of our knowledge: the hub's readiness stands for them.
 */
import type { Endpoint, EndpointSlice } from "kubernetes-types/discovery/v1";

interface Seen {
  ip: string | undefined;
  running: boolean;
}

export class LocalPods {
  private readonly byUid = new Map<string, Seen>();
  private readonly listeners = new Set<() => void>();
  private rev = 0;

  /** Records the status the pod manager computed for a pod of this node. */
  observe(uid: string | undefined, status: { phase?: unknown; podIP?: unknown }): void {
    if (!uid) return;
    const ip = typeof status.podIP === "string" && status.podIP !== "" ? status.podIP : undefined;
    const running = status.phase === "Running";
    const prev = this.byUid.get(uid);
    if (prev && prev.ip === ip && prev.running === running) return;
    this.byUid.set(uid, { ip, running });
    this.rev++;
    for (const l of this.listeners) l();
  }

  /** Forgets pods no longer desired on this node. */
  retain(desiredUids: ReadonlySet<string>): void {
    let changed = false;
    for (const uid of this.byUid.keys()) {
      if (!desiredUids.has(uid)) {
        this.byUid.delete(uid);
        changed = true;
      }
    }
    if (changed) this.rev++;
  }

  /** IPs of desired pods seen Running with an address. */
  ips(desiredUids?: ReadonlySet<string>): Set<string> {
    const out = new Set<string>();
    for (const [uid, s] of this.byUid) {
      if (s.running && s.ip && (!desiredUids || desiredUids.has(uid))) out.add(s.ip);
    }
    return out;
  }

  /** Changes whenever the set of running pods or their IPs changes. */
  revision(): number {
    return this.rev;
  }

  onChange(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }
}

/** The part of a runtime pod the seed looks at (RuntimePod fits). */
export interface RuntimePodView {
  uid: string;
  sandbox?: { running: boolean };
  containers: readonly { role: string; state: object }[];
}

/**
 * Desired pods that run as a whole right now — sandbox and every app container running — the
 * candidates to seed LocalPods with at agent start (their wiring is checked separately).
 */
export function runningAtStart(pods: readonly RuntimePodView[], desiredUids: ReadonlySet<string>): string[] {
  return pods
    .filter((p) => {
      if (!desiredUids.has(p.uid) || !p.sandbox?.running) return false;
      const apps = p.containers.filter((c) => c.role === "app");
      return apps.length > 0 && apps.every((c) => "running" in c.state);
    })
    .map((p) => p.uid);
}

/**
 * DNS liveness for endpoints: one that claims this node is live only if its address belongs
 * to a pod running here; endpoints of other nodes are trusted as the hub reported them.
 */
export function endpointLiveness(
  nodeName: string,
  localIPs: () => ReadonlySet<string>,
): (ep: Endpoint, slice: EndpointSlice) => boolean {
  return (ep) => {
    if (ep.nodeName !== nodeName) return true;
    const ips = localIPs();
    return ep.addresses.some((a) => ips.has(a));
  };
}
