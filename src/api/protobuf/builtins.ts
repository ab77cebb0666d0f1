/**
 * Decoders for the apimachinery types whose JSON form is not their protobuf shape.
 *
 * Design notes (each matches the Go type's MarshalJSON after its protobuf Unmarshal):
 * - Time {seconds=1, nanos=2}: RFC3339 in UTC at second precision; upstream drops the nanos
 *   when unmarshalling protobuf. An empty message, or Go's zero time, is `null` (that is how
 *   `creationTimestamp: null` appears on objects a client has not created yet).
 * - MicroTime: same message, RFC3339 with exactly six fractional digits.
 * - Duration {duration=1 (ns)}: Go's time.Duration.String() ("1h2m3.5s", "1.5ms", "0s").
 * - Quantity {string=1}: its string. Upstream re-canonicalises ("1000m" → "1"); we keep what
 *   the client sent, which kubectl has already canonicalised.
 * - IntOrString {type=1, intVal=2, strVal=3}: a number for type 0, a string for type 1.
 * - RawExtension / FieldsV1 {raw=1}: the embedded JSON document (null when empty); a raw
 *   payload that is itself a `k8s\0` protobuf object is decoded through `nested`.
 * - StringList {items=1} (authentication/authorization ExtraValue): a plain string array.
 */
import type { BuiltinType } from "./schema.js";
import { ProtobufDecodeError, WireReader, WireType } from "./wire.js";

/** Decodes a nested `k8s\0`-prefixed object found inside a RawExtension. */
export type NestedDecoder = (buf: Uint8Array) => unknown;

/** Seconds of Go's zero time.Time (0001-01-01T00:00:00Z) since the Unix epoch. */
const GO_ZERO_TIME_SECONDS = -62135596800;

export function decodeBuiltin(type: BuiltinType, buf: Uint8Array, nested: NestedDecoder): unknown {
  switch (type) {
    case "Time":
    case "MicroTime": {
      if (buf.length === 0) return null;
      const { seconds, nanos } = readTimestamp(buf);
      if (seconds === GO_ZERO_TIME_SECONDS && (type === "Time" || nanos === 0)) return null;
      return type === "Time" ? formatRfc3339(seconds) : formatRfc3339(seconds, nanos);
    }
    case "Duration": {
      let ns = 0n;
      readFields(buf, (r, field, wire) => {
        if (field === 1 && wire === WireType.Varint) ns = BigInt.asIntN(64, r.varint());
        else r.skip(wire);
      });
      return formatGoDuration(ns);
    }
    case "Quantity": {
      let s = "";
      readFields(buf, (r, field, wire) => {
        if (field === 1 && wire === WireType.LengthDelimited) s = r.string();
        else r.skip(wire);
      });
      return s === "" ? "0" : s;
    }
    case "IntOrString": {
      let kind = 0;
      let intVal = 0;
      let strVal = "";
      readFields(buf, (r, field, wire) => {
        if (field === 1 && wire === WireType.Varint) kind = r.int64();
        else if (field === 2 && wire === WireType.Varint) intVal = r.int32();
        else if (field === 3 && wire === WireType.LengthDelimited) strVal = r.string();
        else r.skip(wire);
      });
      return kind === 1 ? strVal : intVal;
    }
    case "RawExtension":
    case "FieldsV1": {
      let raw: Uint8Array = new Uint8Array(0);
      readFields(buf, (r, field, wire) => {
        if (field === 1 && wire === WireType.LengthDelimited) raw = r.bytes();
        else r.skip(wire);
      });
      return decodeRaw(raw, nested);
    }
    case "StringList": {
      const items: string[] = [];
      readFields(buf, (r, field, wire) => {
        if (field === 1 && wire === WireType.LengthDelimited) items.push(r.string());
        else r.skip(wire);
      });
      return items;
    }
  }
}

function readFields(buf: Uint8Array, onField: (r: WireReader, field: number, wire: number) => void): void {
  const r = new WireReader(buf);
  while (!r.done) {
    const { field, wire } = r.tag();
    onField(r, field, wire);
  }
}

function readTimestamp(buf: Uint8Array): { seconds: number; nanos: number } {
  let seconds = 0;
  let nanos = 0;
  readFields(buf, (r, field, wire) => {
    if (field === 1 && wire === WireType.Varint) seconds = r.int64();
    else if (field === 2 && wire === WireType.Varint) nanos = r.int32();
    else r.skip(wire);
  });
  if (nanos < 0 || nanos > 999_999_999)
    throw new ProtobufDecodeError(`timestamp nanos ${nanos} out of range`);
  return { seconds, nanos };
}

const MAX_DATE_SECONDS = 253402300799; // 9999-12-31T23:59:59Z, the last time RFC3339 can write

/** `2024-01-02T03:04:05Z`, or with `nanos` given, `2024-01-02T03:04:05.123456Z` (RFC3339Micro). */
export function formatRfc3339(seconds: number, nanos?: number): string {
  if (seconds < GO_ZERO_TIME_SECONDS || seconds > MAX_DATE_SECONDS) {
    throw new ProtobufDecodeError(`timestamp ${seconds}s is outside years 0001-9999`);
  }
  const iso = new Date(seconds * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  const base = iso.slice(0, 19);
  if (nanos === undefined) return `${base}Z`;
  const micros = Math.floor(nanos / 1000);
  return `${base}.${String(micros).padStart(6, "0")}Z`;
}

/** Go's time.Duration.String() for a nanosecond count. */
export function formatGoDuration(ns: bigint): string {
  if (ns === 0n) return "0s";
  const neg = ns < 0n;
  const u = neg ? -ns : ns;
  let out: string;
  if (u < 1_000_000_000n) {
    // Below a second Go switches to the largest unit that keeps an integer part: 1.5ms, 20µs.
    const [unit, prec] = u < 1000n ? ["ns", 0] : u < 1_000_000n ? ["µs", 3] : ["ms", 6];
    const scale = 10n ** BigInt(prec);
    out = `${u / scale}${fraction(u % scale, prec)}${unit}`;
  } else {
    let rest = u / 1_000_000_000n;
    out = `${rest % 60n}${fraction(u % 1_000_000_000n, 9)}s`;
    rest /= 60n;
    if (rest > 0n) {
      out = `${rest % 60n}m${out}`;
      rest /= 60n;
      if (rest > 0n) out = `${rest}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

/** ".5" for 500000000 at 9 digits; "" when zero (Go's fmtFrac drops trailing zeros and the point). */
function fraction(v: bigint, digits: number): string {
  if (digits === 0 || v === 0n) return "";
  return `.${String(v).padStart(digits, "0").replace(/0+$/, "")}`;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const MAGIC = [0x6b, 0x38, 0x73, 0x00];

function decodeRaw(raw: Uint8Array, nested: NestedDecoder): unknown {
  if (raw.length === 0) return null;
  if (MAGIC.every((b, i) => raw[i] === b)) return nested(raw);
  try {
    return JSON.parse(utf8.decode(raw)) as unknown;
  } catch {
    throw new ProtobufDecodeError("embedded raw object is neither JSON nor a k8s protobuf object");
  }
}
