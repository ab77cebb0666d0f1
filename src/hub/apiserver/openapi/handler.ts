/**
 * HTTP semantics of the /openapi/v3 endpoints, as a pure function from request facts to a response
 * description, so the API server's router only writes what it gets back.
 *
 * Design notes
 * - `/openapi/v3` lists group-versions with `?hash=` URLs; a document fetched with the current hash
 *   is immutable (`Cache-Control: public, immutable`), one fetched with a stale hash is redirected
 *   (301) to the current URL, as kube-openapi does, so a client holding an old root still converges.
 * - ETag is the hash; `If-None-Match` with it answers 304 without a body.
 * - Only JSON is served. kubectl asks for JSON or protobuf and takes JSON; `/openapi/v2` is not
 *   served at all (404): with a v3 root listing every group-version kubectl never asks for it.
 */

import { KUBE_VERSION } from "../../../lib/version.js";
import type { OpenApiCache } from "./cache.js";
import { openApiV3Path } from "./document.js";

export interface OpenApiResponse {
  status: number;
  headers: Record<string, string>;
  /** JSON bytes for 200, a Status-less empty body otherwise */
  body: Buffer;
}

const PREFIX = "/openapi/v3";

/** Whether a request path belongs to the OpenAPI v3 endpoints. */
export function isOpenApiV3Path(pathname: string): boolean {
  return pathname === PREFIX || pathname === `${PREFIX}/` || pathname.startsWith(`${PREFIX}/`);
}

function notFound(what: string): OpenApiResponse {
  const status = {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: `${what} is not served by this hub; list the served group-versions with GET /openapi/v3`,
    reason: "NotFound",
    code: 404,
  };
  return {
    status: 404,
    headers: { "Content-Type": "application/json" },
    body: Buffer.from(JSON.stringify(status)),
  };
}

/**
 * Answers a GET for `pathname` (with its query) from the cache. Returns undefined when the path is
 * not an OpenAPI v3 path, so the caller can route it elsewhere.
 */
export function serveOpenApiV3(
  cache: OpenApiCache,
  pathname: string,
  query: URLSearchParams,
  ifNoneMatch?: string,
): OpenApiResponse | undefined {
  if (!isOpenApiV3Path(pathname)) return undefined;
  const rest = pathname.slice(PREFIX.length).replace(/^\/+|\/+$/g, "");
  if (rest === "") {
    return {
      status: 200,
      headers: { "Content-Type": "application/json", "Cache-Control": "no-cache, private" },
      body: cache.root(),
    };
  }
  const entry = cache.documentByPath(rest);
  if (!entry) return notFound(`OpenAPI document "${PREFIX}/${rest}"`);
  const etag = `"${entry.hash}"`;
  const wanted = query.get("hash");
  if (wanted !== null && wanted !== entry.hash) {
    return {
      status: 301,
      headers: {
        Location: `${PREFIX}/${openApiV3Path(entry.groupVersion)}?hash=${entry.hash}`,
        "Cache-Control": "no-cache, private",
      },
      body: Buffer.alloc(0),
    };
  }
  const caching = wanted !== null ? "public, immutable" : "no-cache, private";
  if (ifNoneMatch?.split(",").some((t) => t.trim() === etag)) {
    return { status: 304, headers: { ETag: etag, "Cache-Control": caching }, body: Buffer.alloc(0) };
  }
  return {
    status: 200,
    headers: { "Content-Type": "application/json", ETag: etag, "Cache-Control": caching },
    body: entry.body,
  };
}

/** what kubectl asks for, and (without the "@", which Go's mime parser refuses) what upstream answers */
const V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2";
const V2_PROTOBUF_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/**
 * `/openapi/v2`: a document with no definitions. The hub publishes its schemas as v3 only, but
 * kubectl falls back to v2 for client-side validation of kinds whose v3 document has no PATCH
 * operation to probe server-side validation on (TokenReview, SubjectAccessReview, Binding …);
 * a 404 there fails `kubectl create -f`, while a kind absent from v2 is simply not validated
 * client-side (the server still validates). Protobuf is what kubectl asks for: an empty message.
 */
export function serveOpenApiV2(accept: string | undefined): OpenApiResponse {
  if (accept?.includes(V2_PROTOBUF)) {
    return { status: 200, headers: { "Content-Type": V2_PROTOBUF_TYPE }, body: Buffer.alloc(0) };
  }
  return {
    status: 200,
    headers: { "Content-Type": "application/json" },
    body: Buffer.from(
      JSON.stringify({
        swagger: "2.0",
        info: { title: "Kubernetes", version: KUBE_VERSION.gitVersion },
        paths: {},
        definitions: {},
      }),
    ),
  };
}
