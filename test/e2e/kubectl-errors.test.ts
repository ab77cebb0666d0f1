/**
 * The errors kubectl users meet, with the exact texts upstream prints: invalid objects (422
 * with field causes), unknown fields under Strict, stale resourceVersion (409), unknown
 * resource types, bad credentials (401), and raw-HTTP failures kubectl never sends
 * (undecodable bodies 400, bodies over 3 MiB 413). Nothing half-written survives a failure.
 */

import { readFileSync } from "node:fs";
import { request } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { runKubectl, startHub, type TestHub } from "../helpers/hub.js";
import { hasKubectl, need } from "../helpers/prereq.js";

interface Raw {
  status: number;
  body: string;
}

function raw(
  t: TestHub,
  method: string,
  path: string,
  body?: Buffer | string,
  contentType = "application/json",
): Promise<Raw> {
  const kc = parseYaml(readFileSync(t.kubeconfig, "utf8")) as {
    clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
    users: { user: { token: string } }[];
  };
  const url = new URL(path, kc.clusters[0]!.cluster.server);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        ca: Buffer.from(kc.clusters[0]!.cluster["certificate-authority-data"], "base64"),
        headers: { Authorization: `Bearer ${kc.users[0]!.user.token}`, "Content-Type": contentType },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe.skipIf(!need(hasKubectl()))("API errors as kubectl users see them", () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub();
    await t.kubectl(["create", "ns", "errs"]);
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("422 names the invalid field: missing image, bad name, bad label value, port out of range", async () => {
    const pod = (name: string, extra = "", image = "    image: busybox") => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: errs${extra}}
spec:
  containers:
  - name: c
${image}
    ports: [{containerPort: 80}]
`;
    const noImage = await t.kubectl(["create", "-f", "-"], { input: pod("bad1", "", ""), allowFail: true });
    expect(noImage.stderr).toContain('The Pod "bad1" is invalid: spec.containers[0].image: Required value');
    const badName = await t.kubectl(["create", "-f", "-"], { input: pod("Bad_Name"), allowFail: true });
    expect(badName.stderr).toMatch(
      /The Pod "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
    );
    const badLabel = await t.kubectl(["create", "-f", "-"], {
      input: pod("bad3", ", labels: {a: '-x-'}"),
      allowFail: true,
    });
    expect(badLabel.stderr).toMatch(/metadata\.labels: Invalid value: "-x-"/);
    const badPort = await t.kubectl(["create", "-f", "-"], {
      input: pod("bad4").replace("containerPort: 80", "containerPort: 70000"),
      allowFail: true,
    });
    expect(badPort.stderr).toMatch(
      /spec\.containers\[0\]\.ports\[0\]\.containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive/,
    );
    const list = await t.kubectl(["get", "pods", "-n", "errs", "-o", "name"]);
    expect(list.stdout.trim()).toBe(""); // nothing half-written
  });

  it("unknown fields: Strict refuses with the field path, Warn warns", async () => {
    const cm =
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: strict1, namespace: errs}\ndata: {a: b}\nbogus: 1\n";
    const strict = await t.kubectl(["create", "-f", "-"], { input: cm, allowFail: true });
    expect(strict.code).not.toBe(0);
    expect(strict.stderr).toContain('strict decoding error: unknown field "bogus"');
    const warn = await t.kubectl(["create", "--validate=warn", "-f", "-"], { input: cm });
    expect(warn.stderr).toContain('unknown field "bogus"');
  });

  it("unknown resource types and missing objects are 404s in kubectl's words", async () => {
    const r = await t.kubectl(["get", "frobnicators"], { allowFail: true });
    expect(r.stderr).toContain('the server doesn\'t have a resource type "frobnicators"');
    const nf = await t.kubectl(["get", "pod", "nope", "-n", "errs"], { allowFail: true });
    expect(nf.stderr).toContain('Error from server (NotFound): pods "nope" not found');
    const dup = await t.kubectl(["create", "ns", "errs"], { allowFail: true });
    expect(dup.stderr).toContain('Error from server (AlreadyExists): namespaces "errs" already exists');
  });

  it("a wrong token is 401", async () => {
    const bad = readFileSync(t.kubeconfig, "utf8").replace(/token: .*/, "token: not-the-token");
    const { writeFileSync, mkdtempSync, rmSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "ek-badtoken-"));
    try {
      writeFileSync(join(dir, "kc"), bad);
      const r = await runKubectl(join(dir, "kc"), dir, ["get", "ns"], { allowFail: true });
      expect(r.stderr).toContain("error: You must be logged in to the server");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("undecodable bodies are 400, oversized ones 413, wrong media types 415; never a stack trace", async () => {
    const bad = await raw(t, "POST", "/api/v1/namespaces/errs/configmaps", "{not json");
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ kind: "Status", reason: "BadRequest", code: 400 });
    const big = Buffer.alloc(3 * 1024 * 1024 + 10, 0x61);
    const tooBig = await raw(t, "POST", "/api/v1/namespaces/errs/configmaps", big);
    expect(tooBig.status).toBe(413);
    const media = await raw(t, "PATCH", "/api/v1/namespaces/errs/configmaps/x", "{}", "text/plain");
    expect([404, 415]).toContain(media.status);
    const media2 = await raw(t, "POST", "/api/v1/namespaces/errs/configmaps", "{}", "text/plain");
    expect(media2.status).toBe(415);
    for (const r of [bad, tooBig, media, media2]) expect(r.body).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  it("dry-run creates and patches persist nothing; diff shows the change", async () => {
    await t.kubectl(["create", "configmap", "dry", "-n", "errs", "--from-literal=a=1", "--dry-run=server"]);
    const gone = await t.kubectl(["get", "cm", "dry", "-n", "errs"], { allowFail: true });
    expect(gone.code).not.toBe(0);
    await t.kubectl(["create", "configmap", "dff", "-n", "errs", "--from-literal=a=1"]);
    const d = await t.kubectl(["diff", "-f", "-"], {
      input: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dff, namespace: errs}\ndata: {a: '2'}\n",
      allowFail: true,
    });
    expect(d.code).toBe(1); // differences found
    expect(d.stdout).toMatch(/-\s+a: "1"/);
    expect(d.stdout).toMatch(/\+\s+a: "2"/);
    expect((await t.kubectl(["get", "cm", "dff", "-n", "errs", "-o", "jsonpath={.data.a}"])).stdout).toBe(
      "1",
    );
  });
});
