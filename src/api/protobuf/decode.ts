/**
 * Schema-driven decoding of one protobuf message into the JSON Kubernetes' codec would print.
 *
 * Design notes:
 * - Two passes per message: read every field off the wire (skipping numbers the schema does
 *   not know, as proto2 requires, so bodies from newer clients still decode), then assemble
 *   the JSON object in Go declaration order, applying the omitempty rules from the schema.
 * - Repeated scalars are accepted both unpacked (what gogo-protobuf writes for proto2) and
 *   packed (what other encoders may write); a wrong wire type for a known field is an error,
 *   as it is in Go's generated Unmarshal.
 * - Errors carry the JSON field path (inline structs add no segment), so the 400 says where.
 */
import { decodeBuiltin, type NestedDecoder } from "./builtins.js";
import type { SchemaRegistry } from "./registry.js";
import type { BuiltinType, FieldSchema, MessageSchema } from "./schema.js";
import { ProtobufDecodeError, WireReader, WireType } from "./wire.js";

export interface DecodeContext {
  readonly registry: SchemaRegistry;
  /** decodes a `k8s\0` object embedded in a RawExtension */
  readonly nested: NestedDecoder;
}

type JsonRecord = Record<string, unknown>;

export function decodeMessage(buf: Uint8Array, schema: MessageSchema, ctx: DecodeContext): JsonRecord {
  const r = new WireReader(buf);
  const values = new Map<FieldSchema, unknown>();
  while (!r.done) {
    const { field, wire } = r.tag();
    const f = schema.byNo.get(field);
    if (!f) {
      r.skip(wire);
      continue;
    }
    try {
      readField(r, f, wire, values, ctx);
    } catch (e) {
      if (e instanceof ProtobufDecodeError && !f.inline) throw e.within(f.name);
      throw e;
    }
  }
  return assemble(schema, values);
}

function readField(
  r: WireReader,
  f: FieldSchema,
  wire: number,
  values: Map<FieldSchema, unknown>,
  ctx: DecodeContext,
): void {
  if (f.map) {
    expectWire(f, wire, WireType.LengthDelimited);
    const obj = (values.get(f) as JsonRecord | undefined) ?? {};
    const [key, value] = readMapEntry(r.bytes(), f, ctx);
    obj[key] = value;
    values.set(f, obj);
    return;
  }
  if (f.repeated) {
    const list = (values.get(f) as unknown[] | undefined) ?? [];
    values.set(f, list);
    if (wire === WireType.LengthDelimited && isPackable(f)) {
      const packed = new WireReader(r.bytes());
      while (!packed.done) list.push(readNumeric(packed, f));
      return;
    }
    try {
      list.push(readValue(r, f, wire, ctx));
    } catch (e) {
      if (e instanceof ProtobufDecodeError) throw e.within(`[${list.length}]`);
      throw e;
    }
    return;
  }
  values.set(f, readValue(r, f, wire, ctx));
}

function readMapEntry(buf: Uint8Array, f: FieldSchema, ctx: DecodeContext): [string, unknown] {
  const r = new WireReader(buf);
  let key = "";
  let value: unknown;
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1) {
      if (wire !== WireType.LengthDelimited) throw new ProtobufDecodeError(`map key has wire type ${wire}`);
      key = r.string();
    } else if (field === 2) {
      value = readValue(r, f, wire, ctx);
    } else {
      r.skip(wire);
    }
  }
  // Go always writes both halves of an entry; a missing value means the type's zero value.
  return [key, value === undefined ? zeroValue(f, ctx) : value];
}

function readValue(r: WireReader, f: FieldSchema, wire: number, ctx: DecodeContext): unknown {
  switch (f.kind) {
    case "builtin":
      expectWire(f, wire, WireType.LengthDelimited);
      return decodeBuiltin(f.type as BuiltinType, r.bytes(), ctx.nested);
    case "message":
      expectWire(f, wire, WireType.LengthDelimited);
      return decodeMessage(r.bytes(), messageOf(f, ctx), ctx);
    case "scalar":
      if (f.type === "string") {
        expectWire(f, wire, WireType.LengthDelimited);
        return r.string();
      }
      if (f.type === "bytes") {
        expectWire(f, wire, WireType.LengthDelimited);
        return Buffer.from(r.bytes()).toString("base64");
      }
      expectWire(f, wire, numericWire(f.type));
      return readNumeric(r, f);
  }
}

function readNumeric(r: WireReader, f: FieldSchema): number | boolean {
  switch (f.type) {
    case "int32":
      return r.int32();
    case "uint32":
      return r.uint32();
    case "int64":
      return r.int64();
    case "uint64":
      return r.uint64();
    case "bool":
      return r.bool();
    case "double":
      return r.double();
    case "float":
      return r.float();
    default:
      throw new ProtobufDecodeError(`field type ${f.type} is not numeric`);
  }
}

function numericWire(type: string): number {
  if (type === "double") return WireType.Fixed64;
  if (type === "float") return WireType.Fixed32;
  return WireType.Varint;
}

function isPackable(f: FieldSchema): boolean {
  return f.kind === "scalar" && f.type !== "string" && f.type !== "bytes";
}

function expectWire(f: FieldSchema, wire: number, expected: number): void {
  if (wire !== expected) {
    throw new ProtobufDecodeError(`wrong wire type ${wire} for a ${f.type} field (expected ${expected})`);
  }
}

function messageOf(f: FieldSchema, ctx: DecodeContext): MessageSchema {
  const m = ctx.registry.message(f.type);
  // The registry checks every reference when it is built, so this is a bug, not bad input.
  if (!m) throw new Error(`protobuf schema: unknown message ${f.type}`);
  return m;
}

function zeroValue(f: FieldSchema, ctx: DecodeContext): unknown {
  switch (f.kind) {
    case "builtin":
      return decodeBuiltin(f.type as BuiltinType, new Uint8Array(0), ctx.nested);
    case "message":
      return decodeMessage(new Uint8Array(0), messageOf(f, ctx), ctx);
    case "scalar":
      return f.type === "string" || f.type === "bytes" ? "" : f.type === "bool" ? false : 0;
  }
}

function isZeroScalar(v: unknown): boolean {
  return v === "" || v === 0 || v === false;
}

/** Builds the JSON object in Go field order, dropping what Go's `omitempty` would drop. */
function assemble(schema: MessageSchema, values: Map<FieldSchema, unknown>): JsonRecord {
  const out: JsonRecord = {};
  for (const f of schema.fields) {
    if (!values.has(f)) continue;
    const v = values.get(f);
    if (f.inline) {
      Object.assign(out, v);
      continue;
    }
    if (f.kind === "scalar" && !f.repeated && !f.map && !f.keepZero && isZeroScalar(v)) continue;
    out[f.name] = v;
  }
  return out;
}
