/**
 * Patch machinery: strategic merge, JSON merge and JSON patch, and server-side apply with
 * managedFields. Pure functions on plain JSON; the apiserver chooses one by Content-Type.
 */

export { decodeFieldsV1, encodeFieldsV1, FieldSet, renderPath } from "./fieldset.js";
export { applyJsonPatch, type JsonPatchOp, jsonEqual } from "./json-patch.js";
export {
  type ServerSideApplyOptions,
  serverSideApply,
  type UpdateManagedFieldsOptions,
  updateManagedFields,
} from "./managed-fields.js";
export { applyMergePatch } from "./merge-patch.js";
export type { GroupKind, PatchSchema } from "./schema.js";
export { BUILTIN_GROUPS, schemaFor, supportsStrategicMerge } from "./schema-builtin.js";
export { applyStrategicMergePatch } from "./strategic-merge.js";
