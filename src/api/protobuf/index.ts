/**
 * Decoding of kubectl's `application/vnd.kubernetes.protobuf` request bodies into the JSON
 * objects the rest of the API server works on. See envelope.ts for the entry point and
 * schema.ts for how the message tables are written.
 */
export {
  decodeEnvelope,
  decodeProtobufBody,
  hasProtobufMagic,
  isProtobufContentType,
  PROTOBUF_CONTENT_TYPE,
  PROTOBUF_MAGIC,
  type UnknownEnvelope,
} from "./envelope.js";
export { builtinRegistry, builtinSchemaSources, SchemaRegistry } from "./registry.js";
export type { FieldSchema, MessageSchema, SchemaSource } from "./schema.js";
export { ProtobufDecodeError } from "./wire.js";
