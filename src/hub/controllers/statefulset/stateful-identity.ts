/**
 * A StatefulSet pod's stable identity (upstream stateful_set_utils.go): name, ordinal,
 * labels, hostname/subdomain and the PersistentVolumeClaims from volumeClaimTemplates.
 *
 * Design notes
 * - Pod `<set>-<ordinal>`; claims `<template>-<set>-<ordinal>`, labelled with the set's
 *   selector matchLabels. Claims carry no owner reference under the default Retain policy,
 *   so deleting or scaling down the set keeps the data (upstream's retention default).
 * - Each claim template replaces any pod volume of the same name with a claim volume.
 * - Labels: `statefulset.kubernetes.io/pod-name`, `apps.kubernetes.io/pod-index` and
 *   `controller-revision-hash` = the revision's *name* (upstream's StatefulSet convention,
 *   unlike DaemonSets which use the bare hash).
 */
import { cloneJson, type KubeObject } from "../../../api/object.js";
import { REVISION_HASH_LABEL } from "../workload-common/controller-history.js";
import { newControllerRef, podFromTemplate } from "../workload-common/pods.js";

export const POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name";
export const POD_INDEX_LABEL = "apps.kubernetes.io/pod-index";

export interface StsSpec {
  replicas?: number;
  serviceName?: string;
  podManagementPolicy?: "OrderedReady" | "Parallel";
  minReadySeconds?: number;
  ordinals?: { start?: number };
  revisionHistoryLimit?: number;
  selector?: { matchLabels?: Record<string, string> };
  template?: unknown;
  updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
  volumeClaimTemplates?: KubeObject[];
  persistentVolumeClaimRetentionPolicy?: { whenDeleted?: string; whenScaled?: string };
}

export function stsSpec(sts: KubeObject): StsSpec {
  return (sts.spec ?? {}) as StsSpec;
}

export function podName(sts: KubeObject, ordinal: number): string {
  return `${sts.metadata.name}-${ordinal}`;
}

/** the ordinal in a pod's name, or -1 when the name is not `<set>-<n>` */
export function ordinalOf(sts: KubeObject, pod: KubeObject): number {
  const prefix = `${sts.metadata.name}-`;
  const name = pod.metadata.name ?? "";
  if (!name.startsWith(prefix)) return -1;
  const rest = name.slice(prefix.length);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : -1;
}

export function claimName(template: KubeObject, sts: KubeObject, ordinal: number): string {
  return `${template.metadata.name}-${sts.metadata.name}-${ordinal}`;
}

/** the claims a pod of this ordinal needs, ready to create */
export function claimsFor(sts: KubeObject, ordinal: number): KubeObject[] {
  const spec = stsSpec(sts);
  const selectorLabels = spec.selector?.matchLabels ?? {};
  const retention = spec.persistentVolumeClaimRetentionPolicy ?? {};
  const owned = retention.whenDeleted === "Delete";
  return (spec.volumeClaimTemplates ?? []).map((t) => {
    const c = cloneJson(t);
    return {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: {
        name: claimName(t, sts, ordinal),
        namespace: sts.metadata.namespace,
        labels: { ...(t.metadata.labels ?? {}), ...selectorLabels },
        ...(t.metadata.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
        ...(owned ? { ownerReferences: [{ ...newControllerRef(sts), controller: true }] } : {}),
      },
      spec: c.spec ?? {},
    };
  });
}

interface PodSpecView {
  hostname?: string;
  subdomain?: string;
  volumes?: { name: string; [k: string]: unknown }[];
  [k: string]: unknown;
}

/** a new pod for `ordinal` from `template` (the current or update revision's template) */
export function newStatefulPod(
  sts: KubeObject,
  template: unknown,
  ordinal: number,
  revisionName: string,
): KubeObject {
  const name = podName(sts, ordinal);
  const pod = podFromTemplate(template, sts, { name });
  pod.metadata.labels = {
    ...(pod.metadata.labels ?? {}),
    [POD_NAME_LABEL]: name,
    [POD_INDEX_LABEL]: String(ordinal),
    [REVISION_HASH_LABEL]: revisionName,
  };
  const spec = pod.spec as PodSpecView;
  spec.hostname = name;
  const svc = stsSpec(sts).serviceName;
  if (svc) spec.subdomain = svc;
  const claims = stsSpec(sts).volumeClaimTemplates ?? [];
  if (claims.length > 0) {
    const claimVols = claims.map((t) => ({
      name: t.metadata.name ?? "",
      persistentVolumeClaim: { claimName: claimName(t, sts, ordinal) },
    }));
    const names = new Set(claimVols.map((v) => v.name));
    spec.volumes = [...(spec.volumes ?? []).filter((v) => !names.has(v.name)), ...claimVols];
  }
  return pod;
}

export function podRevision(pod: KubeObject): string {
  return pod.metadata.labels?.[REVISION_HASH_LABEL] ?? "";
}
