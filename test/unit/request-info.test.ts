import { describe, expect, it } from "vitest";
import { parseResourcePath } from "../../src/hub/apiserver/request-info.js";

describe("parseResourcePath", () => {
  it.each([
    ["/api/v1/pods", { group: "", version: "v1", resource: "pods", rest: [] }],
    ["/api/v1/namespaces", { group: "", version: "v1", resource: "namespaces", rest: [] }],
    [
      "/api/v1/namespaces/kube-system",
      { group: "", version: "v1", resource: "namespaces", name: "kube-system", rest: [] },
    ],
    [
      "/api/v1/namespaces/ns1/finalize",
      { group: "", version: "v1", resource: "namespaces", name: "ns1", subresource: "finalize", rest: [] },
    ],
    [
      "/api/v1/namespaces/default/pods",
      { group: "", version: "v1", namespace: "default", resource: "pods", rest: [] },
    ],
    [
      "/api/v1/namespaces/default/pods/p1/log",
      {
        group: "",
        version: "v1",
        namespace: "default",
        resource: "pods",
        name: "p1",
        subresource: "log",
        rest: [],
      },
    ],
    [
      "/apis/apps/v1/namespaces/d/deployments/x/scale",
      {
        group: "apps",
        version: "v1",
        namespace: "d",
        resource: "deployments",
        name: "x",
        subresource: "scale",
        rest: [],
      },
    ],
    [
      "/apis/storage.k8s.io/v1/storageclasses/local-path",
      { group: "storage.k8s.io", version: "v1", resource: "storageclasses", name: "local-path", rest: [] },
    ],
  ])("%s", (path, want) => {
    expect(parseResourcePath(path)).toEqual(want);
  });

  it("rejects non-resource paths", () => {
    expect(parseResourcePath("/apis/apps")).toBeUndefined();
    expect(parseResourcePath("/healthz")).toBeUndefined();
    expect(parseResourcePath("/api/v1")).toBeUndefined();
  });
});
