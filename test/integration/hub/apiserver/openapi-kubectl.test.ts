/**
 * Real kubectl 1.32 against the OpenAPI v3 endpoints: `explain` prints the generated descriptions
 * (built-in and CRD kinds), and `create -f` sends `?fieldValidation=Strict` without ever asking for
 * /openapi/v2. The server is a throwaway HTTPS fixture serving just enough discovery around
 * serveOpenApiV3; it stands in for the hub's router, which is not part of this module.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  crdSchemas,
  loadBuiltInSchemas,
  OpenApiCache,
  serveOpenApiV3,
} from "../../../../src/hub/apiserver/openapi/index.js";
import { groupVersion, type ResourceInfo } from "../../../../src/hub/apiserver/resource-info.js";
import { deployments, namespaces, pods, widgetCrd, widgets } from "../../../helpers/openapi-fixtures.js";
import { hasKubectl, need } from "../../../helpers/prereq.js";

// the built-in table loads on demand (the API server awaits it before serving /openapi/v3)
await loadBuiltInSchemas();

const run = promisify(execFile);
const resources: ResourceInfo[] = [pods, namespaces, deployments, widgets];

function resourceList(gv: string): object {
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: gv,
    resources: resources
      .filter((r) => groupVersion(r) === gv)
      .flatMap((r) => [
        {
          name: r.resource,
          singularName: r.singular,
          namespaced: r.namespaced,
          kind: r.kind,
          verbs: r.verbs,
          shortNames: r.shortNames,
        },
        ...r.subresources.map((s) => ({
          name: `${r.resource}/${s.name}`,
          singularName: "",
          namespaced: r.namespaced,
          kind: s.kind,
          verbs: s.verbs,
        })),
      ]),
  };
}

const groups = ["apps/v1", "example.com/v1"];
const discovery: Record<string, object> = {
  "/version": { major: "1", minor: "32", gitVersion: "v1.32.0", platform: "linux/amd64" },
  "/api": { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [] },
  "/api/v1": resourceList("v1"),
  "/apis": {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: groups.map((gv) => {
      const [name, version] = gv.split("/") as [string, string];
      const v = { groupVersion: gv, version };
      return { name, versions: [v], preferredVersion: v };
    }),
  },
  ...Object.fromEntries(groups.map((gv) => [`/apis/${gv}`, resourceList(gv)])),
};

describe.skipIf(!need(hasKubectl()))("kubectl against /openapi/v3", () => {
  let dir: string;
  let server: Server;
  let kubeconfig: string;
  const requests: string[] = [];
  const cache = new OpenApiCache(resources, crdSchemas(widgetCrd));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "edgekube-openapi-"));
    await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
    ]);
    server = createServer({
      key: readFileSync(join(dir, "key.pem")),
      cert: readFileSync(join(dir, "cert.pem")),
    });
    server.on("request", (req, res) => {
      const url = new URL(req.url ?? "/", "https://127.0.0.1");
      requests.push(`${req.method} ${url.pathname}${url.search}`);
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const openapi = serveOpenApiV3(cache, url.pathname, url.searchParams, req.headers["if-none-match"]);
        if (openapi) {
          res.writeHead(openapi.status, openapi.headers).end(openapi.body);
        } else if (req.method === "GET" && discovery[url.pathname]) {
          res
            .writeHead(200, { "Content-Type": "application/json" })
            .end(JSON.stringify(discovery[url.pathname]));
        } else if (req.method === "POST" && url.pathname === "/api/v1/namespaces/default/pods") {
          const pod = JSON.parse(Buffer.concat(chunks).toString("utf8"));
          pod.metadata = { ...pod.metadata, namespace: "default", uid: "u1", resourceVersion: "1" };
          res.writeHead(201, { "Content-Type": "application/json" }).end(JSON.stringify(pod));
        } else {
          res.writeHead(404, { "Content-Type": "application/json" }).end(
            JSON.stringify({
              kind: "Status",
              apiVersion: "v1",
              status: "Failure",
              reason: "NotFound",
              code: 404,
            }),
          );
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    kubeconfig = join(dir, "kubeconfig");
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
          { name: "t", cluster: { server: `https://127.0.0.1:${port}`, "insecure-skip-tls-verify": true } },
        ],
        users: [{ name: "t", user: { token: "test-token" } }],
        contexts: [{ name: "t", context: { cluster: "t", user: "t", namespace: "default" } }],
        "current-context": "t",
      }),
    );
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function kubectl(...args: string[]): Promise<string> {
    const cacheDir = mkdtempSync(join(dir, "cache-"));
    const { stdout } = await run(
      "/usr/bin/kubectl",
      ["--kubeconfig", kubeconfig, "--cache-dir", cacheDir, ...args],
      { env: { ...process.env, HOME: dir, KUBECONFIG: kubeconfig }, timeout: 60_000 },
    );
    return stdout;
  }

  it("explain pod.spec.containers prints the generated field descriptions", async () => {
    const out = await kubectl("explain", "pod.spec.containers");
    expect(out).toContain("KIND:       Pod");
    expect(out).toContain("VERSION:    v1");
    expect(out).toContain("FIELD: containers <[]Container>");
    expect(out).toContain("List of containers belonging to the pod.");
    expect(out).toMatch(/image\s+<string>/);
    expect(out).toContain("Container image name.");
    expect(out).toMatch(/name\s+<string> -required-/);
    expect(requests.some((r) => r.startsWith("GET /openapi/v3/api/v1?hash="))).toBe(true);
    expect(requests.filter((r) => r.includes("/openapi/v2"))).toEqual([]);
  });

  it("explain works for a CRD kind published through crdSchemas", async () => {
    const out = await kubectl("explain", "widgets.spec");
    expect(out).toContain("KIND:       Widget");
    expect(out).toContain("GROUP:      example.com");
    expect(out).toContain("Desired state of the widget.");
    expect(out).toMatch(/size\s+<integer>/);
    expect(out).toContain("How many sprockets the widget has.");
  });

  it("create -f sends fieldValidation=Strict and never asks for /openapi/v2", async () => {
    const manifest = join(dir, "pod.json");
    writeFileSync(
      manifest,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "p1" },
        spec: { containers: [{ name: "c", image: "busybox" }] },
      }),
    );
    const before = requests.length;
    const out = await kubectl("create", "-f", manifest);
    expect(out).toContain("pod/p1 created");
    const mine = requests.slice(before);
    const post = mine.find((r) => r.startsWith("POST /api/v1/namespaces/default/pods"));
    expect(post).toContain("fieldValidation=Strict");
    expect(mine.filter((r) => r.includes("/openapi/v2"))).toEqual([]);
  });

  it("apply -f of a new object posts with fieldValidation=Strict", async () => {
    const manifest = join(dir, "pod2.json");
    writeFileSync(
      manifest,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "p2" },
        spec: { containers: [{ name: "c", image: "busybox" }] },
      }),
    );
    const before = requests.length;
    const out = await kubectl("apply", "-f", manifest);
    expect(out).toContain("pod/p2 created");
    const mine = requests.slice(before);
    const post = mine.find((r) => r.startsWith("POST /api/v1/namespaces/default/pods"));
    expect(post).toContain("fieldValidation=Strict");
    expect(mine.filter((r) => r.includes("/openapi/v2"))).toEqual([]);
  });
});
