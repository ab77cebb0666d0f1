import { describe, expect, it } from "vitest";
import { parseRequestUrl } from "../../../../src/hub/apiserver/request-url.js";

/** what the WHATWG parser makes of a target: the fast path must agree with it exactly */
function viaUrl(target: string): { pathname: string; query: [string, string][] } {
  const u = new URL(target, "https://hub");
  return { pathname: u.pathname, query: [...u.searchParams] };
}

describe("parseRequestUrl", () => {
  const targets = [
    "/api/v1/namespaces/bench/configmaps",
    "/api/v1/namespaces/bench/configmaps?fieldManager=kubectl-create&fieldValidation=Strict",
    "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1&labelSelector=app+in+(a,b)",
    "/apis/apps/v1/namespaces/x/deployments/d/scale",
    "/api/v1/namespaces/x/configmaps?watch=true&resourceVersion=12&allowWatchBookmarks=true",
    "/",
    "/api//v1/",
    "/api/v1/namespaces/x?a=%zz&b='q'",
    // targets the parser rewrites: they must take the parser's reading
    "/api/v1/namespaces/x/../../secrets",
    "/api/v1/./namespaces",
    "/api/v1/%2e%2e/secrets",
    "/api/v1/namespaces/x%2Fy",
    "//evil/api/v1/secrets",
    "/api\\v1\\secrets",
    "/api/v1/namespaces/a b",
    "/api/v1/namespaces/x#frag",
    "/api/v1/namespaces/é",
    "/api/v1/pods?fieldSelector=a b&x=<y>",
  ];
  for (const t of targets) {
    it(`reads ${JSON.stringify(t)} as the URL parser does`, () => {
      const r = parseRequestUrl(t);
      expect({ pathname: r.pathname, query: [...r.searchParams] }).toEqual(viaUrl(t));
    });
  }

  it("reads a missing target as /", () => {
    expect(parseRequestUrl(undefined).pathname).toBe("/");
  });
});
