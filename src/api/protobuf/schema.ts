/**
 * The compact, data-driven description of k8s.io/api protobuf messages.
 *
 * Design notes:
 * - Each message is one string of comma-separated fields, `"<number> <jsonName> <type>[ flag]"`,
 *   in the order Go declares the struct fields (so decoded JSON keys come out in the order
 *   Kubernetes' JSON codec prints them). Types: a scalar (`string int32 int64 uint32 uint64
 *   bool bytes double float`), a builtin with a custom JSON form (see builtins.ts), or another
 *   message's short name; `T[]` is repeated, `map<T>` is a map with string keys.
 * - Flags carry the two facts from the Go struct that the wire cannot: `!` keeps a zero scalar
 *   (the Go field is a pointer, so a present 0/""/false was set on purpose, or it has no
 *   `omitempty`), and `inline` merges the nested message's keys into the parent (Go embedded
 *   structs such as Volume's VolumeSource, `json:",inline"`). Without `!`, zero scalars are
 *   dropped, because gogo-protobuf writes every non-pointer scalar, set or not.
 * - Field numbers, names and types are facts from k8s.io/api's generated.proto and types.go;
 *   the tables are ours. Messages are named by short name; the registry rejects duplicates.
 */

export const SCALAR_TYPES = [
  "string",
  "int32",
  "int64",
  "uint32",
  "uint64",
  "bool",
  "bytes",
  "double",
  "float",
] as const;
export type ScalarType = (typeof SCALAR_TYPES)[number];

export const BUILTIN_TYPES = [
  "Time",
  "MicroTime",
  "Duration",
  "Quantity",
  "IntOrString",
  "RawExtension",
  "FieldsV1",
  "StringList",
] as const;
export type BuiltinType = (typeof BUILTIN_TYPES)[number];

export type FieldKind = "scalar" | "builtin" | "message";

export interface FieldSchema {
  readonly no: number;
  readonly name: string;
  /** scalar name, builtin name, or message short name */
  readonly type: string;
  readonly kind: FieldKind;
  readonly repeated: boolean;
  readonly map: boolean;
  /** keep a zero scalar value (pointer or non-omitempty Go field) */
  readonly keepZero: boolean;
  /** Go embedded struct: its fields appear at the parent's level in JSON */
  readonly inline: boolean;
}

export interface MessageSchema {
  readonly name: string;
  /** in Go declaration order */
  readonly fields: readonly FieldSchema[];
  readonly byNo: ReadonlyMap<number, FieldSchema>;
}

/** One API group-version's worth of schema data, as the schemas/*.ts files declare it. */
export interface SchemaSource {
  /** apiVersion whose kinds are listed, e.g. "apps/v1"; "" for a source of shared messages */
  readonly apiVersion: string;
  /** top-level kinds decodable from a request body; each names a message */
  readonly kinds: readonly string[];
  readonly messages: Readonly<Record<string, string>>;
}

const scalarSet: ReadonlySet<string> = new Set(SCALAR_TYPES);
const builtinSet: ReadonlySet<string> = new Set(BUILTIN_TYPES);

export function isScalarType(t: string): t is ScalarType {
  return scalarSet.has(t);
}

export function isBuiltinType(t: string): t is BuiltinType {
  return builtinSet.has(t);
}

const FIELD_RE = /^(\d+) ([A-Za-z_$][\w$]*) (map<)?([A-Za-z]\w*)(>)?(\[\])?(?: (!|inline))?$/;

/** Parses one message's field list; throws on a malformed table (a bug in our data, not input). */
export function parseMessage(name: string, spec: string): MessageSchema {
  const fields: FieldSchema[] = [];
  const byNo = new Map<number, FieldSchema>();
  for (const raw of spec.split(",")) {
    const text = raw.trim();
    if (text === "") continue;
    const m = FIELD_RE.exec(text);
    if (!m || Boolean(m[3]) !== Boolean(m[5])) {
      throw new Error(`protobuf schema ${name}: cannot parse field "${text}"`);
    }
    const type = m[4]!;
    const kind: FieldKind = isScalarType(type) ? "scalar" : isBuiltinType(type) ? "builtin" : "message";
    const field: FieldSchema = {
      no: Number(m[1]),
      name: m[2]!,
      type,
      kind,
      repeated: m[6] !== undefined,
      map: m[3] !== undefined,
      keepZero: m[7] === "!",
      inline: m[7] === "inline",
    };
    if (field.map && field.repeated) throw new Error(`protobuf schema ${name}: map field cannot repeat`);
    if (field.inline && field.kind !== "message") {
      throw new Error(`protobuf schema ${name}: only message fields can be inline (${field.name})`);
    }
    if (byNo.has(field.no)) throw new Error(`protobuf schema ${name}: duplicate field number ${field.no}`);
    fields.push(field);
    byNo.set(field.no, field);
  }
  return { name, fields, byNo };
}
