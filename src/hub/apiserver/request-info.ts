/**
 * Parse an API path into what it addresses, like upstream's RequestInfoFactory:
 *   /api/v1/namespaces/{ns}/{resource}/{name}/{subresource}
 *   /apis/{group}/{version}/{resource}/{name}
 * `namespaces/{name}` itself is a cluster-scoped resource path.
 */

export interface ResourceRequest {
  readonly group: string;
  readonly version: string;
  readonly namespace?: string;
  readonly resource: string;
  readonly name?: string;
  readonly subresource?: string;
  /** extra path after the subresource (proxy paths) */
  readonly rest: readonly string[];
}

const NO_REST: readonly string[] = Object.freeze([]);
const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);

/** the path's non-empty segments, percent-decoded (one pass: this runs for every request) */
function segments(pathname: string): string[] {
  const parts: string[] = [];
  for (const p of pathname.split("/")) {
    if (p !== "") parts.push(p.includes("%") ? decodeURIComponent(p) : p);
  }
  return parts;
}

export function parseResourcePath(pathname: string): ResourceRequest | undefined {
  const parts = segments(pathname);
  let group: string;
  let version: string;
  let i: number;
  if (parts[0] === "api") {
    if (parts.length < 3) return undefined;
    group = "";
    version = parts[1]!;
    i = 2;
  } else if (parts[0] === "apis") {
    if (parts.length < 4) return undefined;
    group = parts[1]!;
    version = parts[2]!;
    i = 3;
  } else {
    return undefined;
  }
  let namespace: string | undefined;
  // "namespaces/{ns}/{resource}…" is namespaced; "namespaces" and "namespaces/{name}[/sub]" are the Namespace resource
  if (parts[i] === "namespaces" && parts.length > i + 2 && !NAMESPACE_SUBRESOURCES.has(parts[i + 2]!)) {
    namespace = parts[i + 1];
    i += 2;
  }
  const resource = parts[i];
  if (!resource) return undefined;
  const name = parts[i + 1];
  const subresource = parts[i + 2];
  const req: { -readonly [K in keyof ResourceRequest]: ResourceRequest[K] } = {
    group,
    version,
    resource,
    rest: parts.length > i + 3 ? parts.slice(i + 3) : NO_REST,
  };
  if (namespace !== undefined) req.namespace = namespace;
  if (name !== undefined) req.name = name;
  if (subresource !== undefined) req.subresource = subresource;
  return req;
}
