/**
 * Pure volume-binding rules (upstream pkg/controller/volume/persistentvolume and
 * component-helpers' FindMatchingVolume): which PV may serve a claim, and the PV the
 * local-path provisioner creates for a claim on a node.
 *
 * Design notes
 * - A PV matches when it is free (or pre-bound to this claim), of the same class, large enough,
 *   offers every requested access mode, has the same volumeMode, satisfies the claim's label
 *   selector and — when a node is known — its nodeAffinity admits that node. The smallest
 *   match wins, so big volumes are not wasted on small claims.
 * - Provisioned volumes live under LOCAL_PATH_ROOT on the node: a placeholder the edge agent
 *   maps to its data dir (`<data-dir>/storage/...`), so the hub never needs agent paths — or
 *   under the StorageClass's `parameters.nodePath` (a USB disk), validated in src/storage.
 * - Provisioned volumes carry the node's name (annotation: the PV is in that node's desired set
 *   even when no pod uses it) and a finalizer the agent removes once the directory is gone.
 */
import { requirementMatches } from "../../../api/node-selection.js";
import type { KubeObject } from "../../../api/object.js";
import { compareQuantity, toBytes } from "../../../api/quantity.js";
import { selectorMatches } from "../../../api/selectors.js";
import { reportedFreeBytes } from "../../../storage/capacity.js";
import {
  ANN_PROVISIONED_BY,
  classBasePath,
  LOCAL_PATH_FINALIZER,
  LOCAL_PATH_NODE_ANNOTATION,
  LOCAL_PATH_PROVISIONER,
  LOCAL_PATH_ROOT,
  volumeDirName,
} from "../../../storage/names.js";

export { ANN_PROVISIONED_BY, LOCAL_PATH_ROOT };
export const ANN_BIND_COMPLETED = "pv.kubernetes.io/bind-completed";
export const ANN_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller";
export const ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node";
export const ANN_STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner";
export const ANN_BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner";
export const HOSTNAME_LABEL = "kubernetes.io/hostname";

interface ClaimRef {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiVersion?: string;
  resourceVersion?: string;
}

interface NodeSelectorTerm {
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
  matchFields?: { key: string; operator: string; values?: string[] }[];
}

export interface PVSpec {
  capacity?: Record<string, string>;
  accessModes?: string[];
  storageClassName?: string;
  volumeMode?: string;
  claimRef?: ClaimRef;
  persistentVolumeReclaimPolicy?: string;
  nodeAffinity?: { required?: { nodeSelectorTerms?: NodeSelectorTerm[] } };
}

export interface PVCSpec {
  accessModes?: string[];
  storageClassName?: string | null;
  volumeMode?: string;
  volumeName?: string;
  selector?: unknown;
  resources?: { requests?: Record<string, string> };
}

export const pvSpec = (pv: KubeObject): PVSpec => (pv.spec ?? {}) as PVSpec;
export const pvcSpec = (pvc: KubeObject): PVCSpec => (pvc.spec ?? {}) as PVCSpec;
export const phaseOf = (o: KubeObject): string | undefined =>
  (o.status as { phase?: string } | undefined)?.phase;

/** required nodeAffinity of a PV against a node (terms are ORed, expressions ANDed) */
export function nodeAffinityAdmits(pv: KubeObject, node: KubeObject): boolean {
  const terms = pvSpec(pv).nodeAffinity?.required?.nodeSelectorTerms;
  if (!terms || terms.length === 0) return true;
  const labels = node.metadata.labels ?? {};
  return terms.some(
    (t) =>
      (t.matchExpressions ?? []).every((e) => requirementMatches(e, labels[e.key])) &&
      (t.matchFields ?? []).every((e) =>
        requirementMatches(e, e.key === "metadata.name" ? node.metadata.name : undefined),
      ),
  );
}

export function hasNodeAffinity(pv: KubeObject): boolean {
  return (pvSpec(pv).nodeAffinity?.required?.nodeSelectorTerms ?? []).length > 0;
}

export function requestOf(pvc: KubeObject): string {
  return pvcSpec(pvc).resources?.requests?.storage ?? "0";
}

export function claimClass(pvc: KubeObject): string {
  return pvcSpec(pvc).storageClassName ?? "";
}

/** The smallest PV that can serve the claim; `node` (when known) must satisfy its affinity. */
export function findMatchingVolume(
  pvc: KubeObject,
  pvs: readonly KubeObject[],
  node: KubeObject | undefined,
  requireNode: boolean,
): KubeObject | undefined {
  const spec = pvcSpec(pvc);
  const want = requestOf(pvc);
  const modes = spec.accessModes ?? [];
  const mode = spec.volumeMode ?? "Filesystem";
  let best: KubeObject | undefined;
  for (const pv of pvs) {
    const s = pvSpec(pv);
    if (pv.metadata.deletionTimestamp) continue;
    const ref = s.claimRef;
    const preBoundHere = ref?.name === pvc.metadata.name && ref?.namespace === pvc.metadata.namespace;
    if (ref && !(preBoundHere && (!ref.uid || ref.uid === pvc.metadata.uid))) continue;
    if (!ref && phaseOf(pv) !== "Available" && phaseOf(pv) !== "Pending" && phaseOf(pv) !== undefined)
      continue;
    if ((s.storageClassName ?? "") !== claimClass(pvc)) continue;
    if ((s.volumeMode ?? "Filesystem") !== mode) continue;
    if (!modes.every((m) => (s.accessModes ?? []).includes(m))) continue;
    const size = s.capacity?.storage ?? "0";
    if (compareQuantity(size, want) < 0) continue;
    if (spec.selector && !selectorMatches(spec.selector, pv.metadata.labels)) continue;
    if (node && !nodeAffinityAdmits(pv, node)) continue;
    if (!node && requireNode && hasNodeAffinity(pv)) continue;
    if (preBoundHere) return pv;
    if (!best || compareQuantity(size, pvSpec(best).capacity?.storage ?? "0") < 0) best = pv;
  }
  return best;
}

export function claimRefOf(pvc: KubeObject): ClaimRef {
  return {
    kind: "PersistentVolumeClaim",
    namespace: pvc.metadata.namespace ?? "",
    name: pvc.metadata.name ?? "",
    uid: pvc.metadata.uid ?? "",
    apiVersion: "v1",
    resourceVersion: pvc.metadata.resourceVersion ?? "",
  };
}

/**
 * The PV the local-path provisioner creates for `pvc` on node `nodeName`, pre-bound to the claim.
 * Throws StoragePathError for a class with an unusable nodePath or an unusable claim name.
 */
export function provisionedVolume(
  pvc: KubeObject,
  sc: KubeObject,
  nodeHostname: string,
  nodeName: string = nodeHostname,
): KubeObject {
  const spec = pvcSpec(pvc);
  const name = `pvc-${pvc.metadata.uid}`;
  const base = classBasePath(sc) ?? LOCAL_PATH_ROOT;
  const dir = volumeDirName(name, pvc.metadata.namespace ?? "", pvc.metadata.name ?? "");
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: {
      name,
      annotations: { [ANN_PROVISIONED_BY]: LOCAL_PATH_PROVISIONER, [LOCAL_PATH_NODE_ANNOTATION]: nodeName },
      finalizers: [LOCAL_PATH_FINALIZER],
    },
    spec: {
      capacity: { storage: requestOf(pvc) },
      accessModes: spec.accessModes ?? ["ReadWriteOnce"],
      persistentVolumeReclaimPolicy: (sc.reclaimPolicy as string | undefined) ?? "Delete",
      storageClassName: sc.metadata.name,
      volumeMode: spec.volumeMode ?? "Filesystem",
      local: { path: `${base}/${dir}` },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: HOSTNAME_LABEL, operator: "In", values: [nodeHostname] }] },
          ],
        },
      },
      claimRef: claimRefOf(pvc),
    },
  };
}

/**
 * Why the claim does not fit on the node's disk for its class (the default storage dir, or the
 * class's nodePath), or undefined. Only checked when the node reports that base's free space
 * (storage/capacity.ts); the scheduler filters such nodes first, this is the provisioner's own
 * guard for claims placed by hand (spec.nodeName) or before a report changed.
 */
export function insufficientSpace(
  pvc: KubeObject,
  sc: KubeObject,
  nodeName: string,
  node: KubeObject | undefined,
): string | undefined {
  let free: number | undefined;
  let want: number;
  try {
    free = reportedFreeBytes(node?.metadata.annotations, classBasePath(sc));
    want = toBytes(requestOf(pvc));
  } catch {
    return undefined; // an unusable class or request is reported elsewhere
  }
  if (free === undefined || want <= free) return undefined;
  return (
    `node "${nodeName}" has insufficient free space for claim "${pvc.metadata.namespace}/${pvc.metadata.name}": ` +
    `requested ${requestOf(pvc)}, ${Math.floor(free / (1024 * 1024))}Mi free; free up space on the node or request less storage`
  );
}
