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

const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);

export function parseResourcePath(pathname: string): ResourceRequest | undefined {
  const parts = pathname
    .split("/")
    .filter((p) => p !== "")
    .map((p) => (p.includes("%") ? decodeURIComponent(p) : p));
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
  const req: ResourceRequest = { group, version, resource, rest: parts.slice(i + 3) };
  return {
    ...req,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(subresource !== undefined ? { subresource } : {}),
  };
}
