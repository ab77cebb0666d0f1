/**
 * Real kubectl 1.32 against a throwaway HTTPS server: every typed `create` sub-command,
 * `auth can-i` and `auth whoami` send protobuf bodies; the server decodes each with
 * decodeProtobufBody and answers with the decoded JSON (plus the status a real server would
 * fill in), so kubectl's own success output also proves the round trip.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../../src/api/object.js";
import { decodeProtobufBody, PROTOBUF_CONTENT_TYPE } from "../../../src/api/protobuf/index.js";
import {
  type CapturedRequest,
  type CaptureServer,
  startCaptureServer,
} from "../../helpers/capture-apiserver.js";
import { hasKubectl, need } from "../../helpers/prereq.js";

const run = promisify(execFile);
const hasOpenssl = { ok: existsSync("/usr/bin/openssl"), why: "needs openssl at /usr/bin/openssl" };

/** What a real server adds to review and token objects, so kubectl can print its answer. */
function reply(req: CapturedRequest): unknown {
  const obj: KubeObject = decodeProtobufBody(req.body);
  switch (obj.kind) {
    case "SelfSubjectAccessReview":
      return { ...obj, status: { allowed: true } };
    case "SelfSubjectReview":
      return { ...obj, status: { userInfo: { username: "capture-user", groups: ["system:authenticated"] } } };
    case "TokenRequest":
      return { ...obj, status: { token: "tok-123", expirationTimestamp: "2030-01-01T00:00:00Z" } };
    default:
      return obj;
  }
}

describe.skipIf(!need(hasKubectl(), hasOpenssl))("kubectl 1.32 protobuf request bodies", () => {
  let srv: CaptureServer;

  beforeAll(async () => {
    srv = await startCaptureServer(reply);
  });
  afterAll(async () => {
    await srv?.close();
  });

  /** Runs kubectl; returns its stdout and the one protobuf POST it made, decoded. */
  async function kubectl(...args: string[]): Promise<{ stdout: string; path: string; obj: KubeObject }> {
    const before = srv.requests.length;
    const { stdout } = await run(
      "/usr/bin/kubectl",
      ["--kubeconfig", srv.kubeconfig, "--cache-dir", srv.cacheDir, "--request-timeout=20s", ...args],
      { timeout: 60_000, env: { ...process.env, KUBECONFIG: srv.kubeconfig } },
    );
    const posts = srv.requests.slice(before).filter((r) => r.method === "POST");
    expect(posts).toHaveLength(1);
    const post = posts[0]!;
    expect(post.contentType).toBe(PROTOBUF_CONTENT_TYPE);
    return { stdout, path: post.path.split("?")[0]!, obj: decodeProtobufBody(post.body) };
  }

  const meta = (name: string) => ({ name, creationTimestamp: null });

  it("create configmap", async () => {
    const { stdout, obj } = await kubectl("create", "configmap", "c1", "--from-literal=a=b");
    expect(stdout).toContain("configmap/c1 created");
    expect(obj).toEqual({ kind: "ConfigMap", apiVersion: "v1", metadata: meta("c1"), data: { a: "b" } });
  });

  it("create secret generic", async () => {
    const { path, obj } = await kubectl("create", "secret", "generic", "s1", "--from-literal=k=v");
    expect(path).toBe("/api/v1/namespaces/default/secrets");
    expect(obj).toEqual({ kind: "Secret", apiVersion: "v1", metadata: meta("s1"), data: { k: "dg==" } });
  });

  it("create deployment", async () => {
    const { stdout, path, obj } = await kubectl(
      "create",
      "deployment",
      "d1",
      "--image=busybox:1.36",
      "--replicas=2",
      "--port=80",
    );
    expect(stdout).toContain("deployment.apps/d1 created");
    expect(path).toBe("/apis/apps/v1/namespaces/default/deployments");
    expect(obj.spec).toEqual({
      replicas: 2,
      selector: { matchLabels: { app: "d1" } },
      template: {
        metadata: { creationTimestamp: null, labels: { app: "d1" } },
        spec: {
          containers: [
            { name: "busybox", image: "busybox:1.36", ports: [{ containerPort: 80 }], resources: {} },
          ],
        },
      },
      strategy: {},
    });
  });

  it("create namespace", async () => {
    const { path, obj } = await kubectl("create", "namespace", "n1");
    expect(path).toBe("/api/v1/namespaces");
    expect(obj).toEqual({ kind: "Namespace", apiVersion: "v1", metadata: meta("n1"), spec: {}, status: {} });
  });

  it("create service clusterip", async () => {
    const { obj } = await kubectl("create", "service", "clusterip", "s1", "--tcp=80:8080");
    expect(obj.spec).toEqual({
      ports: [{ name: "80-8080", protocol: "TCP", port: 80, targetPort: 8080 }],
      selector: { app: "s1" },
      type: "ClusterIP",
    });
  });

  it("create job with a command", async () => {
    const { obj } = await kubectl("create", "job", "j1", "--image=busybox", "--", "echo", "hi");
    expect(obj.kind).toBe("Job");
    expect(obj.spec).toEqual({
      template: {
        metadata: { creationTimestamp: null },
        spec: {
          containers: [{ name: "j1", image: "busybox", command: ["echo", "hi"], resources: {} }],
          restartPolicy: "Never",
        },
      },
    });
  });

  it("create cronjob", async () => {
    const { obj } = await kubectl("create", "cronjob", "cj1", "--image=busybox", "--schedule=*/1 * * * *");
    const spec = obj.spec as { schedule: string; jobTemplate: { spec: { template: { spec: unknown } } } };
    expect(spec.schedule).toBe("*/1 * * * *");
    expect(spec.jobTemplate.spec.template.spec).toEqual({
      containers: [{ name: "cj1", image: "busybox", resources: {} }],
      restartPolicy: "OnFailure",
    });
  });

  it("create serviceaccount", async () => {
    const { obj } = await kubectl("create", "serviceaccount", "sa1");
    expect(obj).toEqual({ kind: "ServiceAccount", apiVersion: "v1", metadata: meta("sa1") });
  });

  it("create role", async () => {
    const { path, obj } = await kubectl("create", "role", "r1", "--verb=get", "--resource=pods");
    expect(path).toBe("/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles");
    expect(obj.rules).toEqual([{ verbs: ["get"], apiGroups: [""], resources: ["pods"] }]);
  });

  it("create rolebinding", async () => {
    const { obj } = await kubectl("create", "rolebinding", "rb1", "--role=r1", "--user=u");
    expect(obj.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "r1" });
    expect(obj.subjects).toEqual([{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "u" }]);
  });

  it("create quota", async () => {
    const { obj } = await kubectl("create", "quota", "q1", "--hard=pods=3");
    expect(obj.spec).toEqual({ hard: { pods: "3" } });
  });

  it("create pdb", async () => {
    const { obj } = await kubectl("create", "pdb", "p1", "--selector=app=x", "--min-available=1");
    expect(obj.spec).toEqual({ minAvailable: 1, selector: { matchLabels: { app: "x" } } });
  });

  it("create ingress", async () => {
    const { obj } = await kubectl("create", "ingress", "i1", "--rule=a.com/=svc:80");
    expect(obj.spec).toEqual({
      rules: [
        {
          host: "a.com",
          http: {
            paths: [
              { path: "/", pathType: "Exact", backend: { service: { name: "svc", port: { number: 80 } } } },
            ],
          },
        },
      ],
    });
  });

  it("create priorityclass", async () => {
    const { path, obj } = await kubectl("create", "priorityclass", "pc1", "--value=10");
    expect(path).toBe("/apis/scheduling.k8s.io/v1/priorityclasses");
    expect(obj).toEqual({
      kind: "PriorityClass",
      apiVersion: "scheduling.k8s.io/v1",
      metadata: meta("pc1"),
      value: 10,
      preemptionPolicy: "PreemptLowerPriority",
    });
  });

  it("create token", async () => {
    const { stdout, path, obj } = await kubectl("create", "token", "sa1");
    expect(path).toBe("/api/v1/namespaces/default/serviceaccounts/sa1/token");
    expect(obj.kind).toBe("TokenRequest");
    expect(stdout.trim()).toBe("tok-123");
  });

  it("auth can-i", async () => {
    const { stdout, obj } = await kubectl("auth", "can-i", "get", "pods");
    expect(stdout.trim()).toBe("yes");
    expect(obj.spec).toEqual({ resourceAttributes: { namespace: "default", verb: "get", resource: "pods" } });
  });

  it("auth whoami", async () => {
    const { stdout, obj } = await kubectl("auth", "whoami");
    expect(stdout).toContain("capture-user");
    expect(obj).toEqual({
      kind: "SelfSubjectReview",
      apiVersion: "authentication.k8s.io/v1",
      metadata: { creationTimestamp: null },
      status: { userInfo: {} },
    });
  });
});
