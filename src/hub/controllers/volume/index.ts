/** Persistent volumes: the default local-path class, binding and provisioning. */
export {
  claimUsers,
  ProtectionController,
  PV_PROTECTION_FINALIZER,
  PVC_PROTECTION_FINALIZER,
  protectionAdmit,
} from "./protection-controller.js";
export { PersistentVolumeController } from "./pv-controller.js";
export {
  applyDefaultStorageClass,
  defaultClassName,
  defaultStorageClassObject,
  ensureDefaultStorageClass,
  LOCAL_PATH_CLASS,
  LOCAL_PATH_PROVISIONER,
} from "./storage-class.js";
export { findMatchingVolume, LOCAL_PATH_ROOT, provisionedVolume } from "./volume-match.js";
