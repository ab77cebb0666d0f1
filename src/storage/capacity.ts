/**
 * Storage capacity of the volume bases a node serves, as the agent reports it (`storage/<node>`)
 * and as the hub reads it back from the Node (scheduler filter, provisioner check). Pure except
 * readDiskSpace.
 *
 * Design notes
 * - Upstream publishes CSIStorageCapacity objects (per class and topology segment) from the CSI
 *   external-provisioner, which knows the StorageClasses. Our provisioner's disk half is the agent,
 *   which is not sent StorageClasses; what it does know is the base directories it serves: its
 *   default DATA_DIR/storage and the nodePath bases of the local-path volumes in its cache. So it
 *   reports per *base path*, and the hub maps a claim's class to its base (classBasePath) when it
 *   decides. A class added later for an already-measured disk is checked at once, and one disk
 *   shared by several classes is reported once.
 * - On the Node: `edgekube.io/storage-capacity|free` for the default base (as before) and
 *   `edgekube.io/storage-paths` = {"<base>": {"capacity","free"}} for the others. A base with no
 *   figure (a new class's disk before its first volume) is not filtered: unknown is not "full".
 * - Free space is what an unprivileged writer can use (statfs bavail), like `df`, exact to the MiB.
 * - The link is precious: a new report is sent only when a base appears or disappears, its size
 *   changes, or its free space moved by at least max(64 MiB, 1% of the disk) since the last report
 *   sent. Comparing with the last *sent* figure (not rounding to a grid) means a value hovering
 *   around a boundary sends nothing, while slow drift still gets reported once it adds up.
 */
import { statfsSync } from "node:fs";
import { toBytes } from "../api/quantity.js";
import { STORAGE_FREE_ANNOTATION, STORAGE_PATHS_ANNOTATION } from "./names.js";

export interface DiskSpace {
  capacityBytes: number;
  freeBytes: number;
}

export interface SpaceFigures {
  /** quantities in Mi, e.g. "30420Mi" */
  capacity: string;
  free: string;
}

/** The `storage/<node>` report: the default base at the top, other bases under `paths`. */
export interface StorageReport extends SpaceFigures {
  paths?: Record<string, SpaceFigures>;
}

const MI = 1024 * 1024;

export function readDiskSpace(dir: string): DiskSpace {
  const s = statfsSync(dir);
  return { capacityBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
}

/** The figures for one disk, in whole MiB (free rounded down, never negative). */
export function spaceFigures(d: DiskSpace): SpaceFigures {
  return {
    capacity: `${Math.floor(d.capacityBytes / MI)}Mi`,
    free: `${Math.floor(Math.max(0, d.freeBytes) / MI)}Mi`,
  };
}

/** Free space must move by this much before it is worth a message: max(64 MiB, 1% of the disk). */
export function reportThreshold(capacityBytes: number): number {
  return Math.max(64 * MI, Math.floor(capacityBytes / 100));
}

/** Measured bases: "" is the default base, other keys are absolute base paths. */
export type SpaceByBase = ReadonlyMap<string, DiskSpace>;

/** True when `next` differs enough from the last sent `prev` to send a new report. */
export function significantChange(prev: SpaceByBase | undefined, next: SpaceByBase): boolean {
  if (!prev || prev.size !== next.size) return true;
  for (const [base, n] of next) {
    const p = prev.get(base);
    if (!p) return true;
    if (Math.floor(p.capacityBytes / MI) !== Math.floor(n.capacityBytes / MI)) return true;
    if (Math.abs(p.freeBytes - n.freeBytes) >= reportThreshold(n.capacityBytes)) return true;
  }
  return false;
}

/** The report for measured bases (the default base "" must be among them). */
export function storageReport(space: SpaceByBase): StorageReport | undefined {
  const def = space.get("");
  if (!def) return undefined;
  const paths: Record<string, SpaceFigures> = {};
  for (const base of [...space.keys()].sort()) {
    const d = space.get(base);
    if (base !== "" && d) paths[base] = spaceFigures(d);
  }
  return { ...spaceFigures(def), ...(Object.keys(paths).length > 0 ? { paths } : {}) };
}

/**
 * Free bytes a node reports for a base (undefined base: the default), from its annotations;
 * undefined when not reported or unreadable (callers then do not filter).
 */
export function reportedFreeBytes(
  annotations: Readonly<Record<string, string>> | undefined,
  base: string | undefined,
): number | undefined {
  if (!annotations) return undefined;
  let free: unknown;
  if (base === undefined) free = annotations[STORAGE_FREE_ANNOTATION];
  else {
    try {
      const paths = JSON.parse(annotations[STORAGE_PATHS_ANNOTATION] ?? "{}") as Record<string, unknown>;
      const entry = paths[base];
      free = entry && typeof entry === "object" ? (entry as { free?: unknown }).free : undefined;
    } catch {
      return undefined;
    }
  }
  if (typeof free !== "string") return undefined;
  try {
    return toBytes(free);
  } catch {
    return undefined;
  }
}
