/** CustomResourceDefinitions: serving, status and cleanup. */
export { CLEANUP_FINALIZER, CrdController } from "./crd-controller.js";
export { checkNames, desiredStatus } from "./crd-status.js";
