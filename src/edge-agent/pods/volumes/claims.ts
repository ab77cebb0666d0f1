/**
 * persistentVolumeClaim volumes: claim → bound PV → a host directory on this node.
 *
 * Design notes
 * - Until the storage issue provides local-path, a claim is usable when it is Bound to a PV whose
 *   node affinity selects this node; the directory comes from `VolumeHost.persistentVolumePath`.
 *   Anything else leaves the pod waiting (ContainerCreating) with a FailedMount event naming
 *   what is missing, and the pod is retried when the cache changes.
 * - Node affinity is evaluated against the node's labels (at least kubernetes.io/hostname):
 *   one term must match with all of its expressions (In, NotIn, Exists, DoesNotExist).
 */
import type {
  NodeSelectorRequirement,
  PersistentVolume,
  PersistentVolumeClaim,
} from "kubernetes-types/core/v1";
import type { KubeObject } from "../../../api/object.js";
import type { PodSource, VolumeHost } from "../ports.js";
import { VolumeError } from "./paths.js";

function matches(req: NodeSelectorRequirement, labels: Record<string, string>): boolean {
  const v = labels[req.key];
  switch (req.operator) {
    case "In":
      return v !== undefined && (req.values ?? []).includes(v);
    case "NotIn":
      return v === undefined || !(req.values ?? []).includes(v);
    case "Exists":
      return v !== undefined;
    case "DoesNotExist":
      return v === undefined;
    default:
      return false;
  }
}

export function pvOnNode(pv: PersistentVolume, nodeLabels: Record<string, string>): boolean {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? [];
  return terms.some((t) => {
    const exprs = t.matchExpressions ?? [];
    return exprs.length > 0 && exprs.every((e) => matches(e, nodeLabels));
  });
}

export function claimPath(
  volume: string,
  ns: string,
  claimName: string,
  source: PodSource,
  host: VolumeHost,
  nodeLabels: Record<string, string>,
): string {
  const pvcObj = source.get("PersistentVolumeClaim", ns, claimName);
  if (!pvcObj) throw new VolumeError(volume, `persistentvolumeclaim "${claimName}" not found`);
  const pvc = pvcObj as unknown as PersistentVolumeClaim;
  const pvName = pvc.spec?.volumeName;
  if (pvc.status?.phase !== "Bound" || !pvName) {
    throw new VolumeError(
      volume,
      `PersistentVolumeClaim "${claimName}" is not bound yet: the pod starts once a volume is bound to it`,
    );
  }
  const pvObj: KubeObject | undefined = source.get("PersistentVolume", "", pvName);
  if (!pvObj)
    throw new VolumeError(volume, `persistentvolume "${pvName}" (bound to claim "${claimName}") not found`);
  if (!pvOnNode(pvObj as unknown as PersistentVolume, nodeLabels)) {
    throw new VolumeError(
      volume,
      `persistentvolume "${pvName}" has no node affinity to node "${nodeLabels["kubernetes.io/hostname"] ?? ""}": ` +
        "only node-local volumes can be mounted here",
    );
  }
  try {
    return host.persistentVolumePath(pvObj, pvcObj);
  } catch (err) {
    throw new VolumeError(
      volume,
      `preparing the directory of persistentvolume "${pvName}" failed: ${(err as Error).message}`,
    );
  }
}
