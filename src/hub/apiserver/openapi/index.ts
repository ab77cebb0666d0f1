/**
 * OpenAPI v3 for the hub: schemas generated from `kubernetes-types` (scripts/gen-openapi.mjs),
 * per-group-version documents with upstream's paths and extensions, CRD schemas, a cache with
 * content hashes, and the /openapi/v3 HTTP semantics.
 */
export { contentHash, OpenApiCache, type OpenApiEntry } from "./cache.js";
export { crdSchemaName, crdSchemas } from "./crd.js";
export { openApiV3Document, openApiV3Path, openApiV3Root } from "./document.js";
export { isOpenApiV3Path, type OpenApiResponse, serveOpenApiV2, serveOpenApiV3 } from "./handler.js";
export {
  builtInSchema,
  builtInSchemaNames,
  closure,
  loadBuiltInSchemas,
  OBJECT_META,
  REF_PREFIX,
  refTo,
  UnknownSchemaError,
} from "./schemas.js";
