/** Custom resources: CRD → served resources, structural-schema prune/default/validate, printers. */
export { CustomResourceCatalog } from "./catalog.js";
export { type CrdNames, crdResourceInfos, specNames } from "./crd-resources.js";
export { applyDefaults, prune } from "./schema-prune.js";
export { type StructuralSchema, validateCustomObject } from "./schema-validate.js";
