/**
 * Where a PersistentVolume lives on this node: the agent's half of the path contract in
 * names.ts. Pure (no I/O), so traversal refusal is unit-tested without a disk.
 *
 * Design notes
 * - Provisioned volumes (`pv.kubernetes.io/provisioned-by: edgekube.io/local-path`) are trusted
 *   only as far as they agree with their own names: the last path component must be exactly
 *   `<pv>_<claim ns>_<claim name>` from the PV's name and claimRef, and the base must pass
 *   checkBasePath (or be the LOCAL_PATH_ROOT placeholder, mapped to DATA_DIR/storage). Only
 *   such directories are ever created or deleted by the agent.
 * - Pre-created volumes (an admin's `local`/`hostPath` PV) are used where they point, if the
 *   path is absolute and free of `..`; the agent never creates or deletes them (upstream's
 *   static local volumes are the admin's to clean).
 */
import { join, posix } from "node:path";
import type { PersistentVolume } from "kubernetes-types/core/v1";
import {
  ANN_PROVISIONED_BY,
  checkBasePath,
  LOCAL_PATH_NODE_ANNOTATION,
  LOCAL_PATH_PROVISIONER,
  LOCAL_PATH_ROOT,
  StoragePathError,
  volumeDirName,
} from "./names.js";

export const STORAGE_SUBDIR = "storage";

export interface VolumeLocation {
  /** the host directory of the volume */
  dir: string;
  /** provisioned by local-path: the agent creates it and may delete it */
  provisioned: boolean;
}

export function isProvisioned(pv: PersistentVolume): boolean {
  return pv.metadata?.annotations?.[ANN_PROVISIONED_BY] === LOCAL_PATH_PROVISIONER;
}

/** The node a provisioned volume belongs to (its annotation, else its single hostname term). */
export function volumeNode(pv: PersistentVolume): string | undefined {
  const ann = pv.metadata?.annotations?.[LOCAL_PATH_NODE_ANNOTATION];
  if (ann) return ann;
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? [];
  const e = terms.length === 1 ? terms[0]?.matchExpressions : undefined;
  const only = e?.length === 1 ? e[0] : undefined;
  if (only?.key === "kubernetes.io/hostname" && only.operator === "In" && only.values?.length === 1)
    return only.values[0];
  return undefined;
}

/** The default base: DATA_DIR/storage. */
export function defaultStorageDir(dataDir: string): string {
  return join(dataDir, STORAGE_SUBDIR);
}

/** Resolves a PV to its host directory; throws StoragePathError on anything suspicious. */
export function volumeLocation(dataDir: string, pv: PersistentVolume): VolumeLocation {
  const name = pv.metadata?.name ?? "";
  const path = pv.spec?.local?.path ?? pv.spec?.hostPath?.path;
  if (!path) {
    throw new StoragePathError(
      `persistentvolume "${name}" has neither spec.local.path nor spec.hostPath.path: ` +
        "edgekube agents mount only node-local volumes",
    );
  }
  if (!isProvisioned(pv)) {
    checkStaticPath(name, path);
    return { dir: path.replace(/\/+$/, ""), provisioned: false };
  }
  const ref = pv.spec?.claimRef;
  const expected = volumeDirName(name, ref?.namespace ?? "", ref?.name ?? "");
  const base = posix.dirname(path);
  if (posix.basename(path) !== expected) {
    throw new StoragePathError(
      `persistentvolume "${name}": spec.local.path ${JSON.stringify(path)} does not end in "${expected}" ` +
        "(from its name and claimRef): refusing to use it; re-create the claim to provision a new volume",
    );
  }
  if (base === LOCAL_PATH_ROOT) return { dir: join(defaultStorageDir(dataDir), expected), provisioned: true };
  checkBasePath(base, `base path of persistentvolume "${name}"`);
  return { dir: join(base, expected), provisioned: true };
}

function checkStaticPath(pv: string, path: string): void {
  if (!posix.isAbsolute(path) || path.split("/").includes("..") || path.includes("\0")) {
    throw new StoragePathError(
      `persistentvolume "${pv}": path ${JSON.stringify(path)} must be absolute and must not contain '..'`,
    );
  }
}
