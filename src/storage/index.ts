/** local-path volumes: shared names and path rules (hub and agent), the agent's provisioner. See docs/storage.md. */
export {
  type DiskSpace,
  readDiskSpace,
  reportedFreeBytes,
  reportThreshold,
  type SpaceByBase,
  type SpaceFigures,
  type StorageReport,
  significantChange,
  spaceFigures,
  storageReport,
} from "./capacity.js";
export {
  type LocalPathOptions,
  LocalPathStorage,
  type ReclaimResult,
  type StorageCache,
} from "./local-path.js";
export * from "./names.js";
export { type ReclaimAction, type ReclaimInput, reclaimPlan, volumeUsers } from "./reclaim.js";
export {
  defaultStorageDir,
  isProvisioned,
  STORAGE_SUBDIR,
  type VolumeLocation,
  volumeLocation,
  volumeNode,
} from "./volume-path.js";
