/**
 * The pod manager's ports: the small interfaces it programs against, so the agent's cache,
 * outbox, storage and overlay can be wired in (or faked in tests) without the pod manager
 * knowing them.
 *
 * Design notes
 * - Everything the manager reads about the cluster comes from `PodSource` (the agent's local
 *   cache): the desired pods of this node and the objects they reference. Objects it returns
 *   are read-only cache entries; the manager clones before it changes anything.
 * - Everything it says goes out through `StatusReporter` (the agent's outbox), so status and
 *   events survive an offline period and are coalesced there.
 * - `VolumeHost` and `PodNetwork` are hooks other issues fill in (local-path storage, overlay):
 *   the defaults here are enough for a single node without an overlay.
 */
import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { KubeObject } from "../../api/object.js";

export type ReferencedKind =
  | "ConfigMap"
  | "Secret"
  | "PersistentVolumeClaim"
  | "PersistentVolume"
  | "ServiceAccount";

export interface PodSource {
  /** Desired pods bound to this node, as full v1 Pod objects (read-only). */
  pods(): KubeObject[];
  /** A referenced object from the cache; `ns` is "" for cluster-scoped kinds (PersistentVolume). */
  get(kind: ReferencedKind, ns: string, name: string): KubeObject | undefined;
  /**
   * Called after a change of the desired pods or of an object pods reference; returns an
   * unsubscribe. `podUids` narrows the change: only these pods' objects changed (or pods were
   * removed: an empty list), so only they need a sync. Without it, any pod may be affected (a
   * ConfigMap, Secret or claim changed). With 50 pods, syncing every pod on every status echo
   * from the hub cost O(pods²) Docker calls and made a batch of pods start in tens of seconds.
   */
  onChange(cb: (podUids?: readonly string[]) => void): () => void;
  /**
   * The pod-bound service account token for a projected `serviceAccountToken` source ("" audience
   * = the API server's), from the hub over the edge link (src/edge-agent/tokens). An error fails
   * the mount (FailedMount, retried), as upstream. Optional: a source without it (a rig with no
   * hub) gets the token file omitted with an event, never a fake credential.
   */
  serviceAccountToken?(
    pod: KubeObject,
    audience: string,
    expirationSeconds: number,
  ): Promise<ServiceAccountTokenResult>;
}

/** a token, or why there is none (said in the FailedMount event) */
export type ServiceAccountTokenResult = { token: string } | { error: string };

export type EventType = "Normal" | "Warning";

export interface StatusReporter {
  /** The pod's full v1 PodStatus; called only when it changed. */
  reportPodStatus(pod: KubeObject, status: Record<string, unknown>): void;
  /** A v1 Event about the pod (reason is upstream's: Pulling, Started, BackOff, …). */
  recordEvent(pod: KubeObject, type: EventType, reason: string, message: string): void;
}

export interface VolumeHost {
  /** The agent's data directory: pods/<uid>/volumes, images/, storage/ live under it. */
  readonly dataDir: string;
  /** Host directory of a bound PersistentVolume for one claim; created when missing. */
  persistentVolumePath(pv: KubeObject, pvc: KubeObject): string;
}

export interface PodNetwork {
  /**
   * Wires the pod's network namespace and returns its IP. Must be idempotent: it is called again
   * for an adopted pod after an agent restart, to learn the IP it already has.
   */
  setup(pod: KubeObject, netnsPath: string): Promise<{ podIP?: string }>;
  /** Releases what setup took; called for pods that are removed, also ones it does not know. */
  teardown(pod: KubeObject): Promise<void>;
}

/** Injected time, so back-off and probe timing can be shrunk or faked in tests. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** The default PodNetwork: no overlay yet, so no pod IP (hostNetwork pods get the host's). */
export const noNetwork: PodNetwork = {
  setup: async () => ({}),
  teardown: async () => {},
};

/**
 * The default VolumeHost: claims resolve to `DATA_DIR/storage/<pv>_<ns>_<pvc>`, created 0777 so
 * any container user can write (as local-path-provisioner does), until the storage issue lands.
 */
export function localVolumeHost(dataDir: string): VolumeHost {
  return {
    dataDir,
    persistentVolumePath(pv, pvc) {
      const dir = join(
        dataDir,
        "storage",
        `${pv.metadata.name ?? ""}_${pvc.metadata.namespace ?? ""}_${pvc.metadata.name ?? ""}`,
      );
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, 0o777);
      return dir;
    },
  };
}
