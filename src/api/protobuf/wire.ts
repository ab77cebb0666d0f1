/**
 * Protobuf wire-format reader for request bodies.
 *
 * Design notes:
 * - Hand-written instead of protobufjs' Reader so 64-bit varints go through BigInt (no Long
 *   dependency) and every failure is a ProtobufDecodeError that names the field path, which
 *   the API layer turns into a 400 the user can act on.
 * - Only the four wire types proto2 messages in k8s.io/api use are accepted: varint (0),
 *   64-bit (1), length-delimited (2) and 32-bit (5). Groups (3/4) are deprecated and never
 *   produced by Go's gogo-protobuf marshalers, so they are reported as malformed input.
 * - Bodies are small (kubectl objects), so clarity beats micro-optimisation; the one fast
 *   path kept is the single-byte varint, which covers almost every tag and length.
 */

export const WireType = {
  Varint: 0,
  Fixed64: 1,
  LengthDelimited: 2,
  Fixed32: 5,
} as const;

/** Thrown for malformed bytes; `path` is filled in as the error unwinds through messages. */
export class ProtobufDecodeError extends Error {
  readonly path: string[] = [];
  constructor(message: string) {
    super(message);
    this.name = "ProtobufDecodeError";
  }

  /** Prefix a path segment (a field name, or an index for repeated fields). */
  within(segment: string): this {
    this.path.unshift(segment);
    return this;
  }

  /** `spec.template.spec.containers[0].ports` style, as Kubernetes prints field paths. */
  fieldPath(): string {
    return this.path.reduce((acc, s) => (s.startsWith("[") || acc === "" ? acc + s : `${acc}.${s}`), "");
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

export class WireReader {
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  /** Reads a field key; returns the field number and wire type. */
  tag(): { field: number; wire: number } {
    const key = this.varint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field === 0) throw new ProtobufDecodeError("invalid field number 0");
    return { field, wire };
  }

  /** Unsigned 64-bit varint. */
  varint(): bigint {
    const first = this.buf[this.pos];
    if (first !== undefined && first < 0x80) {
      this.pos++;
      return BigInt(first);
    }
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.buf[this.pos++];
      if (b === undefined) throw new ProtobufDecodeError("truncated varint");
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, result);
      shift += 7n;
    }
    throw new ProtobufDecodeError("varint longer than 10 bytes");
  }

  /** int32 as Go writes it: negative values are sign-extended to 64 bits on the wire. */
  int32(): number {
    return Number(BigInt.asIntN(32, this.varint()));
  }

  uint32(): number {
    return Number(BigInt.asUintN(32, this.varint()));
  }

  /** int64 as a JS number; values beyond 2^53 lose precision (none of the fields we read get there). */
  int64(): number {
    return Number(BigInt.asIntN(64, this.varint()));
  }

  uint64(): number {
    return Number(this.varint());
  }

  bool(): boolean {
    return this.varint() !== 0n;
  }

  double(): number {
    const view = this.fixed(8);
    return new DataView(view.buffer, view.byteOffset, 8).getFloat64(0, true);
  }

  float(): number {
    const view = this.fixed(4);
    return new DataView(view.buffer, view.byteOffset, 4).getFloat32(0, true);
  }

  /** Length-delimited payload, as a view into the same buffer (no copy). */
  bytes(): Uint8Array {
    const len = this.varint();
    if (len > BigInt(this.buf.length - this.pos)) {
      throw new ProtobufDecodeError(`length ${len} runs past the end of the message`);
    }
    const n = Number(len);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    try {
      return utf8.decode(this.bytes());
    } catch (e) {
      if (e instanceof ProtobufDecodeError) throw e;
      throw new ProtobufDecodeError("string is not valid UTF-8");
    }
  }

  /** Skips the value of an unknown field, as proto2 readers must. */
  skip(wire: number): void {
    switch (wire) {
      case WireType.Varint:
        this.varint();
        return;
      case WireType.Fixed64:
        this.fixed(8);
        return;
      case WireType.LengthDelimited:
        this.bytes();
        return;
      case WireType.Fixed32:
        this.fixed(4);
        return;
      default:
        throw new ProtobufDecodeError(`unsupported wire type ${wire}`);
    }
  }

  private fixed(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) throw new ProtobufDecodeError(`truncated ${n * 8}-bit value`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}
