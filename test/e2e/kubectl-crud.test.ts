/**
 * Real kubectl 1.32 against a real hub: create/apply/get/label/annotate/replace/scale/
 * set image/delete and the typed create sub-commands (protobuf bodies).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHub, type TestHub } from "../helpers/hub.js";
import { hasKubectl, need } from "../helpers/prereq.js";

const DEPLOY = (ns: string, image = "busybox:1.36") => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: c
        image: ${image}
        env: [{name: A, value: "1"}]
`;

describe.skipIf(!need(hasKubectl()))("kubectl CRUD against the hub", () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("serves version and the default namespaces with their service account and CA bundle", async () => {
    const v = await t.kubectl(["version", "-o", "json"]);
    expect(JSON.parse(v.stdout).serverVersion.minor).toBe("32");
    const ns = await t.kubectl(["get", "ns"]);
    for (const n of ["default", "kube-system", "kube-public", "kube-node-lease"])
      expect(ns.stdout).toMatch(new RegExp(`^${n}\\s+Active`, "m"));
    await expect
      .poll(
        async () =>
          (await t.kubectl(["get", "sa,cm", "-n", "kube-public", "-o", "name"], { allowFail: true })).stdout,
        { timeout: 10_000 },
      )
      .toContain("serviceaccount/default");
    const cm = await t.kubectl([
      "get",
      "cm",
      "kube-root-ca.crt",
      "-n",
      "default",
      "-o",
      "jsonpath={.data.ca\\.crt}",
    ]);
    expect(cm.stdout).toContain("BEGIN CERTIFICATE");
  });

  it("creates, lists as a table (and wide), reads back as yaml and jsonpath", async () => {
    await t.kubectl(["create", "ns", "crud1"]);
    await t.kubectl(["create", "-f", "-"], { input: DEPLOY("crud1") });
    const get = await t.kubectl(["get", "deploy", "-n", "crud1"]);
    expect(get.stdout).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE/m);
    // UP-TO-DATE depends on how far the Deployment controller got; no node runs the pods
    expect(get.stdout).toMatch(/^web\s+0\/2\s+[02]\s+0\s+\d+s/m);
    const wide = await t.kubectl(["get", "deploy", "-n", "crud1", "-o", "wide"]);
    expect(wide.stdout).toMatch(/CONTAINERS\s+IMAGES\s+SELECTOR/);
    expect(wide.stdout).toMatch(/web\s+.*\bc\s+busybox:1\.36\s+app=web/);
    const yaml = await t.kubectl(["get", "deploy", "web", "-n", "crud1", "-o", "yaml"]);
    expect(yaml.stdout).toMatch(/resourceVersion: "\d+"/);
    expect(yaml.stdout).toMatch(/uid: [0-9a-f-]{36}/);
    expect(yaml.stdout).toContain("revisionHistoryLimit: 10"); // defaults applied
    const jp = await t.kubectl([
      "get",
      "deploy",
      "web",
      "-n",
      "crud1",
      "-o",
      "jsonpath={.spec.replicas} {.metadata.generation}",
    ]);
    expect(jp.stdout).toBe("2 1");
  });

  it("labels, annotates, scales and sets images; generation follows spec changes", async () => {
    await t.kubectl(["create", "ns", "crud2"]);
    await t.kubectl(["apply", "-f", "-"], { input: DEPLOY("crud2") });
    await t.kubectl(["label", "deploy", "web", "-n", "crud2", "tier=front"]);
    await t.kubectl(["annotate", "deploy", "web", "-n", "crud2", "note=hello"]);
    await t.kubectl(["scale", "deploy", "web", "-n", "crud2", "--replicas=5"]);
    await t.kubectl(["set", "image", "deploy/web", "-n", "crud2", "c=busybox:1.37"]);
    const o = JSON.parse((await t.kubectl(["get", "deploy", "web", "-n", "crud2", "-o", "json"])).stdout);
    expect(o.metadata.labels.tier).toBe("front");
    expect(o.metadata.annotations.note).toBe("hello");
    expect(o.spec.replicas).toBe(5);
    expect(o.spec.template.spec.containers[0].image).toBe("busybox:1.37");
    expect(o.metadata.generation).toBe(3); // scale + set image; labels/annotations do not count
    const sel = await t.kubectl(["get", "deploy", "-n", "crud2", "-l", "tier=front", "-o", "name"]);
    expect(sel.stdout.trim()).toBe("deployment.apps/web");
    const none = await t.kubectl(["get", "deploy", "-n", "crud2", "-l", "tier=back", "-o", "name"]);
    expect(none.stdout.trim()).toBe("");
  });

  it("client-side apply updates and prunes list entries; replace with a stale resourceVersion is a conflict", async () => {
    await t.kubectl(["create", "ns", "crud3"]);
    await t.kubectl(["apply", "-f", "-"], { input: DEPLOY("crud3") });
    const old = JSON.parse((await t.kubectl(["get", "deploy", "web", "-n", "crud3", "-o", "json"])).stdout);
    const changed = DEPLOY("crud3", "busybox:2").replace(
      'env: [{name: A, value: "1"}]',
      'env: [{name: B, value: "2"}]',
    );
    const ap = await t.kubectl(["apply", "-f", "-"], { input: changed });
    expect(ap.stdout).toContain("deployment.apps/web configured");
    const now = JSON.parse((await t.kubectl(["get", "deploy", "web", "-n", "crud3", "-o", "json"])).stdout);
    expect(now.spec.template.spec.containers[0].env).toEqual([{ name: "B", value: "2" }]);
    expect(now.spec.template.spec.containers[0].image).toBe("busybox:2");
    old.spec.replicas = 7;
    const rep = await t.kubectl(["replace", "-f", "-"], { input: JSON.stringify(old), allowFail: true });
    expect(rep.code).not.toBe(0);
    expect(rep.stderr).toContain(
      "the object has been modified; please apply your changes to the latest version and try again",
    );
    delete old.metadata.resourceVersion;
    await t.kubectl(["replace", "-f", "-"], { input: JSON.stringify(old) });
    expect(
      (await t.kubectl(["get", "deploy", "web", "-n", "crud3", "-o", "jsonpath={.spec.replicas}"])).stdout,
    ).toBe("7");
  });

  it("server-side apply creates, then prunes fields removed from the manifest", async () => {
    await t.kubectl(["create", "ns", "ssa1"]);
    const cm = (data: string) =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ssa1}\ndata: {${data}}\n`;
    await t.kubectl(["apply", "--server-side", "-f", "-"], { input: cm("a: '1', b: '2'") });
    await t.kubectl(["apply", "--server-side", "-f", "-"], { input: cm("a: '1'") });
    const o = JSON.parse(
      (await t.kubectl(["get", "cm", "c", "-n", "ssa1", "-o", "json", "--show-managed-fields"])).stdout,
    );
    expect(o.data).toEqual({ a: "1" });
    expect(o.metadata.managedFields[0]).toMatchObject({ manager: "kubectl", operation: "Apply" });
  });

  it("typed create sub-commands (protobuf bodies) produce what their flags say", async () => {
    await t.kubectl(["create", "ns", "typed"]);
    await t.kubectl(["create", "configmap", "c1", "-n", "typed", "--from-literal=k=v"]);
    await t.kubectl(["create", "secret", "generic", "s1", "-n", "typed", "--from-literal=pw=hunter2"]);
    await t.kubectl([
      "create",
      "deployment",
      "d1",
      "-n",
      "typed",
      "--image=busybox:1.36",
      "--replicas=3",
      "--port=80",
    ]);
    await t.kubectl(["create", "job", "j1", "-n", "typed", "--image=busybox:1.36", "--", "echo", "hi"]);
    await t.kubectl(["create", "service", "clusterip", "svc1", "-n", "typed", "--tcp=80:8080"]);
    expect((await t.kubectl(["get", "cm", "c1", "-n", "typed", "-o", "jsonpath={.data.k}"])).stdout).toBe(
      "v",
    );
    const pw = (await t.kubectl(["get", "secret", "s1", "-n", "typed", "-o", "jsonpath={.data.pw}"])).stdout;
    expect(Buffer.from(pw, "base64").toString()).toBe("hunter2");
    const d = JSON.parse((await t.kubectl(["get", "deploy", "d1", "-n", "typed", "-o", "json"])).stdout);
    expect(d.spec.replicas).toBe(3);
    expect(d.spec.template.spec.containers[0]).toMatchObject({
      image: "busybox:1.36",
      ports: [{ containerPort: 80 }],
    });
    const j = JSON.parse((await t.kubectl(["get", "job", "j1", "-n", "typed", "-o", "json"])).stdout);
    expect(j.spec.template.spec.containers[0].command).toEqual(["echo", "hi"]);
    const svc = (await t.kubectl(["get", "svc", "svc1", "-n", "typed"])).stdout;
    expect(svc).toMatch(/^svc1\s+ClusterIP\s+10\.43\.\d+\.\d+\s+<none>\s+80\/TCP/m);
  });

  it("auth can-i and whoami answer for the admin", async () => {
    expect((await t.kubectl(["auth", "can-i", "create", "pods"])).stdout.trim()).toBe("yes");
    const who = await t.kubectl(["auth", "whoami", "-o", "json"]);
    expect(JSON.parse(who.stdout).status.userInfo.username).toBe("admin");
  });

  it("api-resources lists the served kinds with short names; explain prints field docs", async () => {
    const ar = await t.kubectl(["api-resources"]);
    expect(ar.stdout).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/m);
    expect(ar.stdout).toMatch(/^namespaces\s+ns\s+v1\s+false\s+Namespace/m);
    const ex = await t.kubectl(["explain", "pod.spec.containers"]);
    expect(ex.stdout).toMatch(/KIND:\s+Pod/);
    expect(ex.stdout).toContain("image");
  });

  it("deletes objects and waits; deleting a namespace removes its contents", async () => {
    await t.kubectl(["create", "ns", "gone"]);
    await t.kubectl(["create", "configmap", "c", "-n", "gone", "--from-literal=a=b"]);
    const del = await t.kubectl(["delete", "configmap", "c", "-n", "gone"]);
    expect(del.stdout).toContain('configmap "c" deleted');
    await t.kubectl(["create", "configmap", "c2", "-n", "gone", "--from-literal=a=b"]);
    await t.kubectl(["delete", "ns", "gone", "--timeout=30s"]);
    const after = await t.kubectl(["get", "ns", "gone"], { allowFail: true });
    expect(after.stderr).toContain('namespaces "gone" not found');
  });
});
