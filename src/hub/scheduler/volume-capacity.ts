/**
 * Storage capacity for unbound WaitForFirstConsumer claims (upstream VolumeBinding's capacity
 * check with CSIStorageCapacity): a node whose reported free space on the claim's base cannot
 * hold the claim's request is filtered out with upstream's reason "node(s) did not have enough
 * free storage", so the claim is never provisioned onto a disk that cannot take it.
 *
 * Design notes
 * - Figures come from the Node's annotations written from the agent's reports (storage/capacity.ts):
 *   the default base (DATA_DIR/storage) or the StorageClass's nodePath base. A node that reports
 *   nothing for that base is not filtered: unknown is not "full" (an old agent, or a USB class's
 *   disk before its first volume — the agent measures bases it serves).
 * - In flight: a claim placed on a node (its pod assumed or bound there) but not yet bound to a PV
 *   is subtracted from that node's free space, so a burst of pods does not overbook a disk before
 *   the agent's next report. Once the claim is bound it is no longer subtracted: local-path has no
 *   quota, a new directory is empty, and the data written later shows in the next report. This is
 *   upstream's model too (capacity is checked at placement, not reserved), minus its race.
 * - Only claims that need a new volume are checked: when a pre-created PV could serve the claim,
 *   the binder may use it and no disk space is taken (upstream: static binding before provisioning).
 * - Pure, so the filter is unit-tested with plain objects; the scheduler computes the needs.
 */
import type { KubeObject } from "../../api/object.js";
import { toBytes } from "../../api/quantity.js";
import { reportedFreeBytes } from "../../storage/capacity.js";
import { classBasePath, LOCAL_PATH_PROVISIONER } from "../../storage/names.js";
import { claimClass, findMatchingVolume, pvcSpec, requestOf } from "../controllers/volume/volume-match.js";
import type { NodeInfo } from "./node-info.js";

/** upstream volumebinding.ErrReasonNotEnoughSpace */
export const REASON_NOT_ENOUGH_SPACE = "node(s) did not have enough free storage";

/** One claim that will be provisioned on the chosen node's disk. */
export interface StorageNeed {
  /** namespace/name of the claim */
  claim: string;
  /** base path of its class; undefined: the agent's default DATA_DIR/storage */
  base: string | undefined;
  bytes: number;
}

/**
 * The storage a pod's unbound claims will take on whichever node it lands: claims of a
 * local-path WaitForFirstConsumer class with no pre-created PV that could serve them.
 */
export function storageNeeds(
  namespace: string,
  claims: readonly KubeObject[],
  classOf: (name: string) => KubeObject | undefined,
  volumes: readonly KubeObject[],
): StorageNeed[] {
  const out: StorageNeed[] = [];
  for (const pvc of claims) {
    if (pvcSpec(pvc).volumeName) continue;
    const sc = classOf(claimClass(pvc));
    if (!sc || sc.provisioner !== LOCAL_PATH_PROVISIONER) continue;
    if (sc.volumeBindingMode !== "WaitForFirstConsumer") continue;
    if (findMatchingVolume(pvc, volumes, undefined, false)) continue;
    let base: string | undefined;
    let bytes: number;
    try {
      base = classBasePath(sc);
      bytes = toBytes(requestOf(pvc));
    } catch {
      continue; // a bad nodePath or quantity: the provisioner reports it on the claim
    }
    out.push({ claim: `${namespace}/${pvc.metadata.name ?? ""}`, base, bytes });
  }
  return out;
}

/** Whether the node's reported free space (less claims in flight there) holds the needs. */
export function storageFits(needs: readonly StorageNeed[], n: NodeInfo): boolean {
  if (needs.length === 0) return true;
  const annotations = n.node.metadata?.annotations;
  const mine = new Set(needs.map((x) => x.claim));
  const byBase = new Map<string | undefined, number>();
  for (const x of needs) byBase.set(x.base, (byBase.get(x.base) ?? 0) + x.bytes);
  for (const [base, want] of byBase) {
    const free = reportedFreeBytes(annotations, base);
    if (free === undefined) continue;
    let inFlight = 0;
    for (const [claim, p] of n.pendingStorage) if (p.base === base && !mine.has(claim)) inFlight += p.bytes;
    if (want > free - inFlight) return false;
  }
  return true;
}
