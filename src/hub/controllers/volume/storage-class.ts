/**
 * The default StorageClass `local-path` and upstream's DefaultStorageClass admission: a PVC
 * created without `spec.storageClassName` gets the default class's name.
 *
 * Design notes
 * - `local-path` mirrors k3s's class (WaitForFirstConsumer, Delete) with our own provisioner
 *   name: volumes are directories on the node that runs the first consumer pod.
 * - The class is created at hub start only when missing, so an operator's edits (or removal of
 *   the default annotation) survive restarts.
 * - Defaulting applies only to an absent class: an explicit "" means "no class, bind a
 *   pre-created PV only", as upstream. Among several defaults the newest wins (upstream ≥1.26).
 */
import type { KubeObject } from "../../../api/object.js";
import { type Client, isConflict, refs } from "../../../client/client.js";
import { LOCAL_PATH_PROVISIONER } from "../../../storage/names.js";

export { LOCAL_PATH_PROVISIONER };

export const LOCAL_PATH_CLASS = "local-path";
export const DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class";
const BETA_DEFAULT_CLASS_ANNOTATION = "storageclass.beta.kubernetes.io/is-default-class";

export function defaultStorageClassObject(): KubeObject {
  return {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: LOCAL_PATH_CLASS, annotations: { [DEFAULT_CLASS_ANNOTATION]: "true" } },
    provisioner: LOCAL_PATH_PROVISIONER,
    reclaimPolicy: "Delete",
    volumeBindingMode: "WaitForFirstConsumer",
  };
}

/** create `local-path` when missing; idempotent and race-safe */
export async function ensureDefaultStorageClass(client: Client): Promise<void> {
  if (await client.get(refs.storageclasses, undefined, LOCAL_PATH_CLASS)) return;
  try {
    await client.create(refs.storageclasses, undefined, defaultStorageClassObject());
  } catch (e) {
    if (!isConflict(e)) throw e;
  }
}

export function isDefaultClass(sc: KubeObject): boolean {
  const a = sc.metadata.annotations ?? {};
  return a[DEFAULT_CLASS_ANNOTATION] === "true" || a[BETA_DEFAULT_CLASS_ANNOTATION] === "true";
}

/** the default class's name (newest default wins, then name order), or undefined */
export function defaultClassName(classes: readonly KubeObject[]): string | undefined {
  const defaults = classes.filter(isDefaultClass).sort((a, b) => {
    const t = (b.metadata.creationTimestamp ?? "").localeCompare(a.metadata.creationTimestamp ?? "");
    return t !== 0 ? t : (a.metadata.name ?? "").localeCompare(b.metadata.name ?? "");
  });
  return defaults[0]?.metadata.name;
}

/** Admission on PVC create: fill an absent spec.storageClassName with the default class. */
export function applyDefaultStorageClass(pvc: KubeObject, classes: readonly KubeObject[]): void {
  const spec = (pvc.spec ?? {}) as { storageClassName?: string | null };
  if (spec.storageClassName !== undefined && spec.storageClassName !== null) return;
  const name = defaultClassName(classes);
  if (name === undefined) return;
  pvc.spec = { ...spec, storageClassName: name };
}
