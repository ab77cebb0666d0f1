/**
 * Codec: how objects become stored bytes and wire bytes.
 *
 * Design notes
 * - Stored form is canonical JSON with key order apiVersion, kind, metadata, then the rest,
 *   and WITHOUT metadata.resourceVersion: the revision is only known once the store assigns
 *   it, and splicing `"resourceVersion":"N",` right after the first `"metadata":{` on the way
 *   out lets lists and watches stream stored bytes without parsing them.
 * - Request bodies: JSON, YAML (apply-patch+yaml and yaml clients) and kubectl's protobuf
 *   envelope (decoded by src/api/protobuf) all become plain objects here.
 */
import { ApiError } from "../../api/errors.js";
import { isObject, type KubeObject } from "../../api/object.js";
import { loadProtobufDecoder } from "../../api/protobuf/lazy.js";

const META = '"metadata":{';
/** only whitespace (the characters trim() removes) */
const BLANK = /^\s*$/;

/** canonical stored JSON (resourceVersion removed) */
export function encodeForStorage(obj: KubeObject): string {
  // the common case (a create's body, an object read back) is already in canonical order:
  // serialize it as it is instead of rebuilding it with two rest-spread copies first
  if (isCanonical(obj)) return JSON.stringify(obj);
  const { apiVersion, kind, metadata, ...rest } = obj;
  const { resourceVersion: _rv, ...meta } = metadata;
  return JSON.stringify({ apiVersion, kind, metadata: meta, ...rest });
}

/**
 * whether JSON.stringify(obj) is already the stored form: the first keys are apiVersion, kind
 * and metadata in that order (for-in visits keys in the order JSON.stringify writes them) and
 * metadata carries no resourceVersion
 */
function isCanonical(obj: KubeObject): boolean {
  if (obj.metadata.resourceVersion !== undefined) return false;
  let i = 0;
  for (const k in obj) {
    if (k !== CANONICAL_HEAD[i]) return false;
    if (++i === CANONICAL_HEAD.length) return true;
  }
  return false;
}

const CANONICAL_HEAD = ["apiVersion", "kind", "metadata"];

/** insert metadata.resourceVersion into stored JSON without parsing it */
export function spliceResourceVersion(stored: string, revision: number): string {
  const i = stored.indexOf(META);
  if (i < 0) return stored;
  const at = i + META.length;
  const empty = stored.charCodeAt(at) === 125; /* } */
  return `${stored.slice(0, at)}"resourceVersion":"${revision}"${empty ? "" : ","}${stored.slice(at)}`;
}

export function decodeStored(stored: string, revision: number): KubeObject {
  const obj = JSON.parse(stored) as KubeObject;
  obj.metadata = { resourceVersion: String(revision), ...obj.metadata };
  return obj;
}

export type BodyDecoder = (buf: Buffer) => KubeObject;

export interface DecodeOptions {
  /** decoder for application/vnd.kubernetes.protobuf bodies */
  protobuf?: BodyDecoder;
}

const YAML_TYPES = new Set(["application/yaml", "application/apply-patch+yaml", "application/x-yaml"]);

let parseYaml: typeof import("yaml").parse | undefined;

/**
 * Loads the parser a body of `contentType` needs and an idle hub does not hold: the YAML
 * parser (server-side apply, `curl` with YAML; the `yaml` package is ≈70 modules, ≈0.7 MB of
 * heap) or the protobuf decoder (kubectl's typed `create`, src/api/protobuf/lazy.ts).
 * readBody awaits this, so decodeBody stays synchronous.
 */
export async function loadDecoderFor(contentType: string | undefined): Promise<void> {
  const mt = mediaType(contentType);
  if (parseYaml === undefined && YAML_TYPES.has(mt)) parseYaml = (await import("yaml")).parse;
  else if (mt === "application/vnd.kubernetes.protobuf") await loadProtobufDecoder();
}

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase();
}

/** Parse a request body into JSON data; 400 naming what was wrong on failure. */
export function decodeBody(buf: Buffer, contentType: string | undefined, opts: DecodeOptions = {}): unknown {
  const mt = mediaType(contentType);
  if (mt === "application/vnd.kubernetes.protobuf") {
    if (!opts.protobuf) throw ApiError.unsupportedMediaType(mt);
    return opts.protobuf(buf);
  }
  const text = buf.toString("utf8");
  // a test, not trim(): trim() copies the whole body
  if (BLANK.test(text)) throw ApiError.badRequest("the request body is empty: send a JSON or YAML object");
  if (YAML_TYPES.has(mt)) {
    if (!parseYaml)
      throw new Error("a YAML body was decoded before loadDecoderFor(): read bodies with readBody");
    try {
      return parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
    } catch (e) {
      throw ApiError.badRequest(`error decoding YAML: ${(e as Error).message}`);
    }
  }
  if (
    mt === "" ||
    mt === "application/json" ||
    mt === "application/merge-patch+json" ||
    mt === "application/strategic-merge-patch+json" ||
    mt === "application/json-patch+json" ||
    mt === "*/*"
  ) {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw ApiError.badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
    }
  }
  throw ApiError.unsupportedMediaType(mt);
}

/** A body that must be an object (create/update). */
export function decodeObjectBody(
  buf: Buffer,
  contentType: string | undefined,
  opts: DecodeOptions = {},
): KubeObject {
  const v = decodeBody(buf, contentType, opts);
  if (!isObject(v))
    throw ApiError.badRequest("the request body must be a JSON or YAML object, not an array or scalar");
  if (v.metadata !== undefined && !isObject(v.metadata)) {
    throw ApiError.badRequest("metadata must be an object");
  }
  if (v.metadata === undefined) v.metadata = {};
  return v as KubeObject;
}

export interface Accept {
  table: boolean;
  /** PartialObjectMetadata requested (as=PartialObjectMetadata[List]) */
  partial: boolean;
  aggregatedDiscovery: boolean;
}

/** What the client asked for in Accept; JSON is always acceptable to kubectl. */
export function parseAccept(accept: string | undefined): Accept {
  const a = accept ?? "";
  const first = a.split(",")[0] ?? "";
  return {
    table: /as=Table/.test(first),
    partial: /as=PartialObjectMetadata/.test(first),
    aggregatedDiscovery: /as=APIGroupDiscoveryList/.test(first),
  };
}
