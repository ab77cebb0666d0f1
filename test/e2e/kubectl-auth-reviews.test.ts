/**
 * The review APIs and anonymous requests with real kubectl 1.32 and Node's https client:
 * TokenReview and (Local)SubjectAccessReview created with `kubectl create -f -o yaml` show
 * their status; `auth can-i --as=system:anonymous`; anonymous HTTPS probes get 200 on /version
 * and upstream's 403 texts elsewhere; a wrong token stays 401; `anonymousAuth: false` (the
 * `--anonymous-auth=false` flag) makes anonymous requests 401 while health probes still answer.
 */
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHub, type TestHub } from "../helpers/hub.js";
import { hasKubectl, need } from "../helpers/prereq.js";

const SA = "system:serviceaccount:ar1:robot";

interface Reply {
  status: number;
  body: string;
}

/** one HTTPS request to the hub, trusting its CA (from the admin kubeconfig) */
function call(t: TestHub, path: string, token?: string): Promise<Reply> {
  const kc = readFileSync(t.kubeconfig, "utf8");
  const ca = Buffer.from(/certificate-authority-data: (\S+)/.exec(kc)![1]!, "base64").toString();
  const url = new URL(path, t.hub.url);
  return new Promise((resolve, reject) => {
    const r = request(url, { ca, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    r.on("error", reject);
    r.end();
  });
}

const message = (r: Reply): string => (JSON.parse(r.body) as { message: string }).message;

describe.skipIf(!need(hasKubectl()))("review APIs and anonymous requests", () => {
  let t: TestHub;
  let token = "";

  beforeAll(async () => {
    t = await startHub();
    await t.kubectl(["create", "namespace", "ar1"]);
    await t.kubectl(["create", "serviceaccount", "robot", "-n", "ar1"]);
    token = (await t.kubectl(["create", "token", "robot", "-n", "ar1"])).stdout.trim();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("reviews tokens with kubectl create -f: a service account's, and a bad one", async () => {
    const tr = (tok: string) =>
      t.kubectl(["create", "-f", "-", "-o", "yaml"], {
        input: `apiVersion: authentication.k8s.io/v1\nkind: TokenReview\nspec:\n  token: ${tok}\n`,
      });
    const ok = (await tr(token)).stdout;
    expect(ok).toContain("kind: TokenReview");
    expect(ok).toMatch(/status:\n\s+audiences:\n\s+- https:\/\/kubernetes\.default\.svc\.cluster\.local/);
    expect(ok).toContain("authenticated: true");
    expect(ok).toContain(`username: ${SA}`);
    expect(ok).toContain("- system:serviceaccounts:ar1");
    const bad = (await tr("not-a-token")).stdout;
    expect(bad).toContain("error: invalid bearer token");
    expect(bad).not.toContain("authenticated: true");
  });

  it("answers SubjectAccessReviews for the spec's subject", async () => {
    const sar = (spec: string) =>
      t.kubectl(["create", "-f", "-", "-o", "yaml"], {
        input: `apiVersion: authorization.k8s.io/v1\nkind: SubjectAccessReview\nspec:\n${spec}`,
      });
    const anonVersion = (
      await sar(
        "  user: system:anonymous\n  groups: [system:unauthenticated]\n  nonResourceAttributes: {verb: get, path: /version}\n",
      )
    ).stdout;
    expect(anonVersion).toMatch(
      /status:\n\s+allowed: true\n\s+reason: 'RBAC: allowed by ClusterRoleBinding "system:public-info-viewer"/,
    );
    const robotPods = (
      await sar(`  user: ${SA}\n  resourceAttributes: {verb: list, resource: pods, namespace: ar1}\n`)
    ).stdout;
    expect(robotPods).toMatch(/status:\n\s+allowed: false/);
    const missing = await t.kubectl(["create", "-f", "-"], {
      input: "apiVersion: authorization.k8s.io/v1\nkind: SubjectAccessReview\nspec:\n  user: x\n",
      allowFail: true,
    });
    expect(missing.stderr).toContain(
      // kubectl renders a 422 from its details: "The <kind> \"<name>\" is invalid: …"
      'The SubjectAccessReview "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
    );
  });

  it("answers LocalSubjectAccessReviews in the path's namespace only", async () => {
    const lsar = (ns: string) =>
      t.kubectl(["create", "-n", "ar1", "-f", "-", "-o", "yaml"], {
        input:
          "apiVersion: authorization.k8s.io/v1\nkind: LocalSubjectAccessReview\nspec:\n" +
          `  groups: [system:masters]\n  resourceAttributes: {verb: delete, resource: pods, namespace: ${ns}}\n`,
        allowFail: true,
      });
    const ok = await lsar("ar1");
    expect(ok.stdout).toContain("namespace: ar1");
    expect(ok.stdout).toMatch(/status:\n\s+allowed: true/);
    const other = await lsar("default");
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain(
      'spec.resourceAttributes.namespace: Invalid value: "default": must match metadata.namespace',
    );
  });

  it("kubectl auth can-i --as=system:anonymous is refused as upstream: anonymous may not review itself", async () => {
    // an impersonated system:anonymous has no groups (upstream adds none), so neither discovery
    // nor selfsubjectaccessreviews: kubectl reports the 403 of its review
    const can = await t.kubectl(["auth", "can-i", "list", "pods", "--as=system:anonymous"], {
      allowFail: true,
    });
    expect(can.code).not.toBe(0);
    expect(can.stderr).toContain(
      'selfsubjectaccessreviews.authorization.k8s.io is forbidden: User "system:anonymous" cannot create resource "selfsubjectaccessreviews" in API group "authorization.k8s.io" at the cluster scope',
    );
    // the admin asks on anonymous' behalf instead: a SubjectAccessReview (kubectl's --as for it)
    const sar = await t.kubectl(["create", "-f", "-", "-o", "jsonpath={.status.allowed}"], {
      input:
        "apiVersion: authorization.k8s.io/v1\nkind: SubjectAccessReview\nspec:\n  user: system:anonymous\n" +
        "  groups: [system:unauthenticated]\n  resourceAttributes: {verb: list, resource: pods, namespace: default}\n",
    });
    expect(sar.stdout).toBe("false");
  });

  it("serves anonymous HTTPS requests as system:anonymous, 401 for a wrong token", async () => {
    const version = await call(t, "/version");
    expect(version.status).toBe(200);
    expect(JSON.parse(version.body)).toMatchObject({ major: "1" });
    expect((await call(t, "/healthz")).status).toBe(200);
    const pods = await call(t, "/api/v1/namespaces/default/pods");
    expect([pods.status, message(pods)]).toEqual([
      403,
      'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" in the namespace "default"',
    ]);
    const all = await call(t, "/api/v1/pods");
    expect(message(all)).toBe(
      'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" at the cluster scope',
    );
    const api = await call(t, "/api");
    expect([api.status, message(api)]).toEqual([
      403,
      'forbidden: User "system:anonymous" cannot get path "/api"',
    ]);
    const wrong = await call(t, "/api/v1/namespaces/default/pods", "wrong-token");
    expect([wrong.status, message(wrong)]).toEqual([401, "Unauthorized"]);
    expect((await call(t, "/api/v1/namespaces/ar1/serviceaccounts/robot", token)).status).toBe(403);
  });

  it("with anonymous auth off, answers 401 to requests without credentials but keeps the probes", async () => {
    const off = await startHub({ anonymousAuth: false });
    try {
      const pods = await call(off, "/api/v1/pods");
      expect([pods.status, message(pods)]).toEqual([401, "Unauthorized"]);
      expect((await call(off, "/api")).status).toBe(401);
      expect((await call(off, "/version")).status).toBe(200);
      expect((await call(off, "/readyz")).status).toBe(200);
    } finally {
      await off.stop();
    }
  });
});
