/**
 * Storage capacity of the node's default volume base, as the agent reports it (`storage/<node>`
 * → Node annotations `edgekube.io/storage-capacity|free`, read by the hub's provisioner).
 *
 * Design notes
 * - Free space is what an unprivileged writer can use (statfs bavail), like `df`.
 * - Reported rounded down to a step of max(64 MiB, 1% of the disk): free space moves with every
 *   log line, and an exact figure would rewrite the Node on every check. A report is sent only
 *   when the rounded figure changes, so an idle node sends nothing.
 */
import { statfsSync } from "node:fs";

export interface DiskSpace {
  capacityBytes: number;
  freeBytes: number;
}

export interface StorageReport {
  /** quantities in Mi, e.g. "30420Mi" */
  capacity: string;
  free: string;
}

const MI = 1024 * 1024;

export function readDiskSpace(dir: string): DiskSpace {
  const s = statfsSync(dir);
  return { capacityBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
}

/** The report for a disk: capacity exact to the MiB, free space rounded down to its step. */
export function storageReport(d: DiskSpace): StorageReport {
  const step = Math.max(64 * MI, Math.floor(d.capacityBytes / 100));
  const free = Math.floor(Math.max(0, d.freeBytes) / step) * step;
  return { capacity: `${Math.floor(d.capacityBytes / MI)}Mi`, free: `${Math.floor(free / MI)}Mi` };
}
