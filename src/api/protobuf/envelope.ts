/**
 * The Kubernetes protobuf envelope: `k8s\0` + runtime.Unknown, and the entry point that turns
 * a request body into a KubeObject.
 *
 * Design notes:
 * - runtime.Unknown is {typeMeta{apiVersion=1, kind=2}=1, raw=2, contentEncoding=3,
 *   contentType=4}. The kind comes only from typeMeta (the raw object carries no TypeMeta), so
 *   kind/apiVersion are put back on the decoded object, first, as the JSON codec prints them.
 * - kubectl never sets contentEncoding; any value is refused rather than guessed at.
 * - Every failure is an ApiError 400 BadRequest naming the kind and field path, and telling
 *   the client it can send JSON instead (the hub accepts JSON for every kind).
 */
import { ApiError } from "../errors.js";
import type { KubeObject } from "../object.js";
import { decodeMessage } from "./decode.js";
import { builtinRegistry, type SchemaRegistry } from "./registry.js";
import { ProtobufDecodeError, WireReader, WireType } from "./wire.js";

/** The four bytes every Kubernetes protobuf object starts with. */
export const PROTOBUF_MAGIC: Readonly<Uint8Array> = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);

export const PROTOBUF_CONTENT_TYPE = "application/vnd.kubernetes.protobuf";

export interface UnknownEnvelope {
  apiVersion: string;
  kind: string;
  raw: Uint8Array;
  contentEncoding: string;
  contentType: string;
}

const SEND_JSON = "send the object as JSON instead (Content-Type: application/json)";

/** True for `application/vnd.kubernetes.protobuf`, with or without parameters (`;charset=…`). */
export function isProtobufContentType(contentType: string | undefined): boolean {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase() === PROTOBUF_CONTENT_TYPE;
}

export function hasProtobufMagic(buf: Uint8Array): boolean {
  return buf.length >= 4 && PROTOBUF_MAGIC.every((b, i) => buf[i] === b);
}

/** Splits a body into its envelope; throws ApiError 400 when it is not one. */
export function decodeEnvelope(buf: Uint8Array): UnknownEnvelope {
  if (!hasProtobufMagic(buf)) {
    throw ApiError.badRequest(
      `the request body is not a Kubernetes protobuf object: it must start with the 4 bytes "k8s\\0"; ${SEND_JSON}`,
    );
  }
  const env: UnknownEnvelope = {
    apiVersion: "",
    kind: "",
    raw: new Uint8Array(0),
    contentEncoding: "",
    contentType: "",
  };
  try {
    const r = new WireReader(buf.subarray(4));
    while (!r.done) {
      const { field, wire } = r.tag();
      if (wire !== WireType.LengthDelimited) {
        r.skip(wire);
      } else if (field === 1) {
        const tm = new WireReader(r.bytes());
        while (!tm.done) {
          const t = tm.tag();
          if (t.field === 1 && t.wire === WireType.LengthDelimited) env.apiVersion = tm.string();
          else if (t.field === 2 && t.wire === WireType.LengthDelimited) env.kind = tm.string();
          else tm.skip(t.wire);
        }
      } else if (field === 2) env.raw = r.bytes();
      else if (field === 3) env.contentEncoding = r.string();
      else if (field === 4) env.contentType = r.string();
      else r.skip(wire);
    }
  } catch (e) {
    if (e instanceof ProtobufDecodeError) {
      throw ApiError.badRequest(
        `the protobuf envelope (runtime.Unknown) is malformed: ${e.message}; ${SEND_JSON}`,
      );
    }
    throw e;
  }
  return env;
}

/**
 * Decodes a `application/vnd.kubernetes.protobuf` request body into the object the JSON codec
 * would produce. Throws ApiError 400 BadRequest for anything it cannot decode.
 */
export function decodeProtobufBody(
  buf: Uint8Array,
  registry: SchemaRegistry = builtinRegistry(),
): KubeObject {
  const env = decodeEnvelope(buf);
  if (env.apiVersion === "" || env.kind === "") {
    throw ApiError.badRequest(`the protobuf body does not name its apiVersion and kind; ${SEND_JSON}`);
  }
  const what = `${env.kind} (${env.apiVersion})`;
  if (env.contentEncoding !== "") {
    throw ApiError.badRequest(
      `the protobuf body of ${what} uses contentEncoding "${env.contentEncoding}", which this server does not support; send it unencoded or ${SEND_JSON}`,
    );
  }
  const schema = registry.forKind(env.apiVersion, env.kind);
  if (!schema) {
    throw ApiError.badRequest(
      `this server cannot decode ${what} from protobuf: no protobuf schema for that kind; ${SEND_JSON}, e.g. with kubectl create -f or kubectl apply -f`,
    );
  }
  let decoded: Record<string, unknown>;
  try {
    decoded = decodeMessage(env.raw, schema, {
      registry,
      nested: (inner) => decodeProtobufBody(inner, registry),
    });
  } catch (e) {
    if (e instanceof ProtobufDecodeError) {
      const at = e.path.length > 0 ? ` at ${e.fieldPath()}` : "";
      throw ApiError.badRequest(
        `could not decode the protobuf body of ${what}${at}: ${e.message}; ${SEND_JSON}`,
      );
    }
    throw e;
  }
  const { metadata, ...rest } = decoded;
  return {
    kind: env.kind,
    apiVersion: env.apiVersion,
    metadata: (metadata ?? {}) as KubeObject["metadata"],
    ...rest,
  };
}
