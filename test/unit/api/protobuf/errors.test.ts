import { describe, expect, it } from "vitest";
import { ApiError } from "../../../../src/api/errors.js";
import { decodeProtobufBody, isProtobufContentType } from "../../../../src/api/protobuf/index.js";
import { body, meta, Pb } from "./pb.js";

function badRequest(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    const err = e as ApiError;
    expect(err.code).toBe(400);
    expect(err.reason).toBe("BadRequest");
    expect(err.message).toContain("send the object as JSON");
    return err;
  }
  throw new Error("expected a 400 BadRequest, but decoding succeeded");
}

describe("decodeProtobufBody: bad input is a 400 that says what and where", () => {
  it("rejects a body without the k8s\\0 prefix", () => {
    const err = badRequest(() => decodeProtobufBody(Buffer.from('{"kind":"ConfigMap"}')));
    expect(err.message).toContain('"k8s\\0"');
  });

  it("rejects a kind it has no schema for, telling the client to send JSON", () => {
    const err = badRequest(() => decodeProtobufBody(body("example.com/v1", "Widget", new Pb())));
    expect(err.message).toContain("cannot decode Widget (example.com/v1) from protobuf");
    expect(err.message).toContain("kubectl apply -f");
  });

  it("rejects an envelope without apiVersion/kind", () => {
    const err = badRequest(() => decodeProtobufBody(body("", "", new Pb())));
    expect(err.message).toContain("does not name its apiVersion and kind");
  });

  it("rejects a compressed (contentEncoding) body", () => {
    const err = badRequest(() => decodeProtobufBody(body("v1", "ConfigMap", new Pb(), "gzip")));
    expect(err.message).toContain('contentEncoding "gzip"');
  });

  it("rejects a truncated envelope", () => {
    const whole = body("v1", "ConfigMap", new Pb().msg(1, meta("c")));
    const err = badRequest(() => decodeProtobufBody(whole.subarray(0, whole.length - 3)));
    expect(err.message).toContain("malformed");
  });

  it("names the field path of a length that runs past its message", () => {
    const bad = new Pb().msg(1, meta("d")).msg(2, new Pb().int(1, 1).raw(Uint8Array.of((3 << 3) | 2, 50, 1)));
    const err = badRequest(() => decodeProtobufBody(body("apps/v1", "Deployment", bad)));
    expect(err.message).toContain("Deployment (apps/v1) at spec.template");
    expect(err.message).toContain("runs past the end");
  });

  it("names the field path, with list indexes, of a wrong wire type", () => {
    const badPort = new Pb().str(3, "eighty"); // containerPort is an int32 (varint)
    const c0 = new Pb().str(1, "a");
    const c1 = new Pb().str(1, "b").msg(6, badPort);
    const pod = new Pb().msg(1, meta("p")).msg(2, new Pb().msg(2, c0).msg(2, c1));
    const err = badRequest(() => decodeProtobufBody(body("v1", "Pod", pod)));
    expect(err.message).toContain("at spec.containers[1].ports[0].containerPort: wrong wire type 2");
  });

  it("does not add a path segment for inlined structs", () => {
    const vol = new Pb().str(1, "v").msg(2, new Pb().msg(6, new Pb().str(1, "s").str(3, "x")));
    const pod = new Pb().msg(1, meta("p")).msg(2, new Pb().msg(1, vol));
    const err = badRequest(() => decodeProtobufBody(body("v1", "Pod", pod)));
    expect(err.message).toContain("at spec.volumes[0].secret.defaultMode");
  });

  it("rejects strings that are not UTF-8 and varints longer than 10 bytes", () => {
    const badName = new Pb().bytes(1, Uint8Array.of(0xff, 0xfe));
    expect(
      badRequest(() => decodeProtobufBody(body("v1", "ConfigMap", new Pb().msg(1, badName)))).message,
    ).toContain("at metadata.name: string is not valid UTF-8");
    const longVarint = new Pb().raw(Uint8Array.of(7 << 3, ...new Array<number>(11).fill(0xff)));
    const err = badRequest(() => decodeProtobufBody(body("v1", "ConfigMap", new Pb().msg(1, longVarint))));
    expect(err.message).toContain("varint longer than 10 bytes");
  });

  it("rejects field number 0 and group wire types", () => {
    expect(
      badRequest(() => decodeProtobufBody(body("v1", "ConfigMap", Uint8Array.of(0x00, 0x01)))).message,
    ).toContain("invalid field number 0");
    expect(
      badRequest(() => decodeProtobufBody(body("v1", "ConfigMap", Uint8Array.of((5 << 3) | 3)))).message,
    ).toContain("unsupported wire type 3");
  });

  it("rejects timestamps outside what RFC3339 can write", () => {
    const m = new Pb().str(1, "c").msg(8, new Pb().int(1, 253402300800));
    const err = badRequest(() => decodeProtobufBody(body("v1", "ConfigMap", new Pb().msg(1, m))));
    expect(err.message).toContain("at metadata.creationTimestamp");
  });

  it("recognises the protobuf content type with or without parameters", () => {
    expect(isProtobufContentType("application/vnd.kubernetes.protobuf")).toBe(true);
    expect(isProtobufContentType("application/vnd.kubernetes.protobuf; charset=binary")).toBe(true);
    expect(isProtobufContentType("application/vnd.kubernetes.protobuf;stream=watch")).toBe(true);
    expect(isProtobufContentType("application/json")).toBe(false);
    expect(isProtobufContentType(undefined)).toBe(false);
  });
});
