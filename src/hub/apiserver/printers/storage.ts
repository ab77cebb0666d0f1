/**
 * Volume printers: persistentvolumes, persistentvolumeclaims (core v1) and storageclasses
 * (storage.k8s.io/v1), as upstream printers.go v1.32 prints them.
 *
 * Design notes:
 * - The storage class of a PV/PVC is the legacy beta annotation when present, else the spec
 *   field (helper.GetPersistentVolumeClass / GetPersistentVolumeClaimClass).
 * - A PVC shows CAPACITY and ACCESS MODES only once bound (spec.volumeName set), and then from
 *   its status, not from what it requested.
 * - The default StorageClass prints as "local-path (default)" from either the GA or the beta
 *   is-default-class annotation.
 */
import type { PersistentVolume, PersistentVolumeClaim } from "kubernetes-types/core/v1";
import type { StorageClass } from "kubernetes-types/storage/v1";
import { D } from "./descriptions.js";
import { accessModesString, quantity } from "./format.js";
import { AGE_COLUMN, ageOf, column, NAME_COLUMN, nameOf, printer, wide } from "./printer.js";

const BETA_STORAGE_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class";
const DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class";
const BETA_DEFAULT_CLASS_ANNOTATION = "storageclass.beta.kubernetes.io/is-default-class";

export const persistentVolumePrinter = printer<PersistentVolume>(
  [
    NAME_COLUMN,
    column("Capacity", "string", D.persistentVolumeSpecCapacity),
    column("Access Modes", "string", D.persistentVolumeSpecAccessModes),
    column("Reclaim Policy", "string", D.persistentVolumeSpecPersistentVolumeReclaimPolicy),
    column("Status", "string", D.persistentVolumeStatusPhase),
    column("Claim", "string", D.persistentVolumeSpecClaimRef),
    column("StorageClass", "string", "StorageClass of the pv"),
    column("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
    column("Reason", "string", D.persistentVolumeStatusReason),
    AGE_COLUMN,
    wide("VolumeMode", "string", D.persistentVolumeSpecVolumeMode),
  ],
  (pv, now) => {
    const spec = pv.spec ?? {};
    const claim = spec.claimRef ? `${spec.claimRef.namespace ?? ""}/${spec.claimRef.name ?? ""}` : "";
    const phase = pv.metadata?.deletionTimestamp ? "Terminating" : (pv.status?.phase ?? "");
    const storageClass =
      pv.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] ?? spec.storageClassName ?? "";
    return [
      nameOf(pv),
      quantity(spec.capacity?.storage),
      accessModesString(spec.accessModes),
      spec.persistentVolumeReclaimPolicy ?? "",
      phase,
      claim,
      storageClass,
      spec.volumeAttributesClassName ?? "<unset>",
      pv.status?.reason ?? "",
      ageOf(pv, now),
      spec.volumeMode ?? "<unset>",
    ];
  },
);

export const persistentVolumeClaimPrinter = printer<PersistentVolumeClaim>(
  [
    NAME_COLUMN,
    column("Status", "string", D.persistentVolumeClaimStatusPhase),
    column("Volume", "string", D.persistentVolumeClaimSpecVolumeName),
    column("Capacity", "string", D.persistentVolumeClaimStatusCapacity),
    column("Access Modes", "string", D.persistentVolumeClaimStatusAccessModes),
    column("StorageClass", "string", "StorageClass of the pvc"),
    column("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
    AGE_COLUMN,
    wide("VolumeMode", "string", D.persistentVolumeClaimSpecVolumeMode),
  ],
  (pvc, now) => {
    const spec = pvc.spec ?? {};
    const phase = pvc.metadata?.deletionTimestamp ? "Terminating" : (pvc.status?.phase ?? "");
    const bound = (spec.volumeName ?? "") !== "";
    const storageClass =
      pvc.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] ?? spec.storageClassName ?? "";
    return [
      nameOf(pvc),
      phase,
      spec.volumeName ?? "",
      bound ? quantity(pvc.status?.capacity?.storage) : "",
      bound ? accessModesString(pvc.status?.accessModes) : "",
      storageClass,
      spec.volumeAttributesClassName ?? "<unset>",
      ageOf(pvc, now),
      spec.volumeMode ?? "<unset>",
    ];
  },
);

export function isDefaultStorageClass(annotations: Readonly<Record<string, string>> | undefined): boolean {
  return (
    annotations?.[DEFAULT_CLASS_ANNOTATION] === "true" ||
    annotations?.[BETA_DEFAULT_CLASS_ANNOTATION] === "true"
  );
}

export const storageClassPrinter = printer<StorageClass>(
  [
    NAME_COLUMN,
    column("Provisioner", "string", D.storageClassProvisioner),
    column("ReclaimPolicy", "string", D.storageClassReclaimPolicy),
    column("VolumeBindingMode", "string", D.storageClassVolumeBindingMode),
    column("AllowVolumeExpansion", "string", D.storageClassAllowVolumeExpansion),
    AGE_COLUMN,
  ],
  (sc, now) => [
    isDefaultStorageClass(sc.metadata?.annotations) ? `${nameOf(sc)} (default)` : nameOf(sc),
    sc.provisioner ?? "",
    sc.reclaimPolicy ?? "Delete",
    sc.volumeBindingMode ?? "Immediate",
    sc.allowVolumeExpansion ?? false,
    ageOf(sc, now),
  ],
);
