/**
 * A throwaway HTTPS API server that real kubectl accepts, for capturing request bodies.
 *
 * It answers /version (1.32, so the kubectl dispatcher picks kubectl 1.32), legacy discovery
 * (/api, /apis, one resource list per group-version) for the resources the typed `kubectl
 * create` sub-commands touch, and every POST with 201 and whatever `reply(body)` returns.
 * Each request is recorded with its raw body. The certificate is self-signed, made with
 * openssl per server, and the kubeconfig it writes skips verification (loopback only).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface CapturedRequest {
  method: string;
  path: string;
  contentType: string;
  body: Buffer;
}

/** [plural, kind, namespaced, verbs] */
type ResourceRow = [string, string, boolean, string[]];

const RW = ["create", "delete", "get", "list", "patch", "update", "watch"];
const CREATE = ["create"];

const DISCOVERY: Record<string, ResourceRow[]> = {
  v1: [
    ["configmaps", "ConfigMap", true, RW],
    ["secrets", "Secret", true, RW],
    ["namespaces", "Namespace", false, RW],
    ["services", "Service", true, RW],
    ["serviceaccounts", "ServiceAccount", true, RW],
    ["serviceaccounts/token", "TokenRequest", true, CREATE],
    ["resourcequotas", "ResourceQuota", true, RW],
    ["pods", "Pod", true, RW],
  ],
  "apps/v1": [["deployments", "Deployment", true, RW]],
  "batch/v1": [
    ["jobs", "Job", true, RW],
    ["cronjobs", "CronJob", true, RW],
  ],
  "rbac.authorization.k8s.io/v1": [
    ["roles", "Role", true, RW],
    ["rolebindings", "RoleBinding", true, RW],
    ["clusterroles", "ClusterRole", false, RW],
    ["clusterrolebindings", "ClusterRoleBinding", false, RW],
  ],
  "policy/v1": [["poddisruptionbudgets", "PodDisruptionBudget", true, RW]],
  "networking.k8s.io/v1": [["ingresses", "Ingress", true, RW]],
  "scheduling.k8s.io/v1": [["priorityclasses", "PriorityClass", false, RW]],
  "authorization.k8s.io/v1": [["selfsubjectaccessreviews", "SelfSubjectAccessReview", false, CREATE]],
  "authentication.k8s.io/v1": [["selfsubjectreviews", "SelfSubjectReview", false, CREATE]],
};

export interface CaptureServer {
  readonly kubeconfig: string;
  readonly cacheDir: string;
  readonly requests: CapturedRequest[];
  close(): Promise<void>;
}

export type ReplyFn = (req: CapturedRequest) => unknown;

export async function startCaptureServer(reply: ReplyFn): Promise<CaptureServer> {
  const dir = mkdtempSync(join(tmpdir(), "edgekube-capture-"));
  const keyFile = join(dir, "key.pem");
  const certFile = join(dir, "cert.pem");
  execFileSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", keyFile, "-out", certFile, "-days", "1", "-subj", "/CN=127.0.0.1"],
      ...["-addext", "subjectAltName=IP:127.0.0.1"],
    ],
    { stdio: "pipe" },
  );
  const requests: CapturedRequest[] = [];
  const server: Server = createServer(
    { key: readFileSync(keyFile), cert: readFileSync(certFile) },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const captured: CapturedRequest = {
          method: req.method ?? "",
          path: req.url ?? "",
          contentType: req.headers["content-type"] ?? "",
          body: Buffer.concat(chunks),
        };
        requests.push(captured);
        const path = new URL(captured.path, "https://127.0.0.1").pathname;
        const send = (code: number, obj: unknown): void => {
          const text = JSON.stringify(obj);
          res.writeHead(code, {
            "Content-Type": "application/json",
            "Content-Length": Buffer.byteLength(text),
          });
          res.end(text);
        };
        if (captured.method === "POST") {
          try {
            send(201, reply(captured));
          } catch (e) {
            const message = e instanceof Error ? e.message : String(e);
            send(400, {
              kind: "Status",
              apiVersion: "v1",
              metadata: {},
              status: "Failure",
              message,
              code: 400,
            });
          }
          return;
        }
        const doc = discovery(path);
        if (doc) send(200, doc);
        else
          send(404, {
            kind: "Status",
            apiVersion: "v1",
            metadata: {},
            status: "Failure",
            reason: "NotFound",
            code: 404,
          });
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(
    kubeconfig,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:" +
        port +
        "', insecure-skip-tls-verify: true}}]",
      "users: [{name: u, user: {token: capture-token}}]",
      "contexts: [{name: c, context: {cluster: c, user: u, namespace: default}}]",
      "current-context: c",
      "",
    ].join("\n"),
  );
  return {
    kubeconfig,
    cacheDir: join(dir, "cache"),
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function discovery(path: string): unknown {
  if (path === "/version") {
    return {
      major: "1",
      minor: "32",
      gitVersion: "v1.32.0",
      gitCommit: "capture",
      gitTreeState: "clean",
      buildDate: "2025-01-01T00:00:00Z",
      goVersion: "go1.23",
      compiler: "gc",
      platform: "linux/amd64",
    };
  }
  if (path === "/api") return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [] };
  if (path === "/apis") {
    const groups = Object.keys(DISCOVERY)
      .filter((gv) => gv.includes("/"))
      .map((gv) => {
        const version = { groupVersion: gv, version: "v1" };
        return { name: gv.split("/")[0], versions: [version], preferredVersion: version };
      });
    return { kind: "APIGroupList", apiVersion: "v1", groups };
  }
  const gv = path === "/api/v1" ? "v1" : path.startsWith("/apis/") ? path.slice("/apis/".length) : "";
  const rows = DISCOVERY[gv];
  if (!rows) return undefined;
  const resources = rows.map(([name, kind, namespaced, verbs]) => ({
    name,
    singularName: name.includes("/") ? "" : kind.toLowerCase(),
    namespaced,
    kind,
    verbs,
    ...(kind === "TokenRequest" ? { group: "authentication.k8s.io", version: "v1" } : {}),
  }));
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: gv, resources };
}
