/**
 * Test-only builder of protobuf messages on top of protobufjs' Writer, so unit tests can
 * hand-craft exactly the bytes a Go client (or a hostile one) would send.
 */
import protobuf from "protobufjs";

const LEN = 2;

export class Pb {
  private readonly w = protobuf.Writer.create();

  str(no: number, s: string): this {
    this.w.uint32((no << 3) | LEN).string(s);
    return this;
  }
  bytes(no: number, b: Uint8Array): this {
    this.w.uint32((no << 3) | LEN).bytes(b);
    return this;
  }
  /** varint as Go writes int32/int64 (negative values sign-extended to 10 bytes) */
  int(no: number, n: number): this {
    this.w.uint32(no << 3).int64(n);
    return this;
  }
  bool(no: number, b: boolean): this {
    this.w.uint32(no << 3).bool(b);
    return this;
  }
  fixed32(no: number, n: number): this {
    this.w.uint32((no << 3) | 5).fixed32(n);
    return this;
  }
  fixed64(no: number, n: number): this {
    this.w.uint32((no << 3) | 1).fixed64(n);
    return this;
  }
  /** packed repeated varints */
  packed(no: number, ns: number[]): this {
    const inner = protobuf.Writer.create();
    for (const n of ns) inner.int64(n);
    return this.bytes(no, inner.finish());
  }
  msg(no: number, m: Pb): this {
    return this.bytes(no, m.finish());
  }
  /** one map<string, V> entry: key = 1, value = 2 */
  entry(no: number, key: string, value: string | Uint8Array | Pb): this {
    const e = new Pb().str(1, key);
    if (typeof value === "string") e.str(2, value);
    else if (value instanceof Pb) e.msg(2, value);
    else e.bytes(2, value);
    return this.msg(no, e);
  }
  /** raw bytes appended as they are (for malformed input) */
  raw(b: Uint8Array): this {
    this.w.raw(b);
    return this;
  }
  finish(): Uint8Array {
    return this.w.finish();
  }
}

/** `k8s\0` + runtime.Unknown{typeMeta{apiVersion, kind}, raw} */
export function body(
  apiVersion: string,
  kind: string,
  raw: Pb | Uint8Array,
  contentEncoding?: string,
): Buffer {
  const unknown = new Pb().msg(1, new Pb().str(1, apiVersion).str(2, kind));
  unknown.bytes(2, raw instanceof Pb ? raw.finish() : raw);
  if (contentEncoding !== undefined) unknown.str(3, contentEncoding);
  return Buffer.concat([Buffer.from("k8s\0", "latin1"), unknown.finish()]);
}

/** ObjectMeta with a name and, as Go always writes it, creationTimestamp */
export function meta(name: string, creationSeconds?: number): Pb {
  const m = new Pb().str(1, name).str(2, "").str(3, "");
  return creationSeconds === undefined ? m.msg(8, new Pb()) : m.msg(8, new Pb().int(1, creationSeconds));
}
