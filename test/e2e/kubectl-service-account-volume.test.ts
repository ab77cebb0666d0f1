/**
 * What a kubectl user sees of ServiceAccount admission: `kubectl get pod -o yaml` shows the
 * kube-api-access projected volume and its read-only mount; automountServiceAccountToken: false
 * leaves it out; a pod naming a missing ServiceAccount is refused with upstream's message; and
 * every namespace keeps its kube-root-ca.crt ConfigMap (re-created when deleted, ca.crt set back
 * when edited); `kubectl create token --bound-object-kind Pod` gives a token that works while
 * the pod exists and is refused once it is deleted.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { runKubectl, startHub, type TestHub } from "../helpers/hub.js";
import { hasKubectl, need } from "../helpers/prereq.js";

const WAIT = { timeout: 30_000, interval: 200 };
type Json = Record<string, unknown>;

describe.skipIf(!need(hasKubectl()))("kubectl: service account token volume", () => {
  let t: TestHub;
  const ns = `sav-${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(async () => {
    t = await startHub();
    await t.kubectl(["create", "namespace", ns]);
  });
  afterAll(async () => {
    await t?.stop();
  });

  const apply = (obj: Json, allowFail = false) =>
    t.kubectl(["apply", "-f", "-"], { input: JSON.stringify(obj), allowFail });

  function podManifest(name: string, spec: Json = {}): Json {
    return {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: ns },
      spec: {
        schedulerName: "nobody",
        initContainers: [{ name: "init", image: "busybox", command: ["true"] }],
        containers: [{ name: "app", image: "busybox", command: ["sleep", "1"] }],
        ...spec,
      },
    };
  }

  it("kubectl get pod -o yaml shows the kube-api-access volume mounted in every container", async () => {
    await apply(podManifest("p1"));
    const yaml = (await t.kubectl(["get", "pod", "p1", "-n", ns, "-o", "yaml"])).stdout;
    expect(yaml).toMatch(/- name: kube-api-access-[a-z0-9]{5}\n\s+projected:/);
    for (const line of [
      "serviceAccountName: default",
      "mountPath: /var/run/secrets/kubernetes.io/serviceaccount",
      "readOnly: true",
      "expirationSeconds: 3607",
      "path: token",
      "name: kube-root-ca.crt",
      "fieldPath: metadata.namespace",
      "path: namespace",
      "defaultMode: 420",
    ]) {
      expect(yaml).toContain(line);
    }
    const pod = JSON.parse((await t.kubectl(["get", "pod", "p1", "-n", ns, "-o", "json"])).stdout) as {
      spec: { volumes: Json[]; containers: Json[]; initContainers: Json[] };
    };
    const vol = pod.spec.volumes.find((v) => String(v.name).startsWith("kube-api-access-"));
    expect(vol).toBeDefined();
    for (const c of [...pod.spec.containers, ...pod.spec.initContainers]) {
      expect(c.volumeMounts).toEqual([
        { name: vol?.name, readOnly: true, mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" },
      ]);
    }
    // applying the same manifest again keeps the volume (it is not in last-applied)
    await apply(podManifest("p1"));
    const again = (await t.kubectl(["get", "pod", "p1", "-n", ns, "-o", "jsonpath={.spec.volumes[*].name}"]))
      .stdout;
    expect(again).toBe(vol?.name);
  });

  it("leaves the volume out with automountServiceAccountToken: false", async () => {
    await apply(podManifest("p2", { automountServiceAccountToken: false }));
    const vols = await t.kubectl(["get", "pod", "p2", "-n", ns, "-o", "jsonpath={.spec.volumes}"]);
    expect(vols.stdout).toBe("");
    await t.kubectl(["create", "serviceaccount", "quiet", "-n", ns]);
    await t.kubectl([
      "patch",
      "serviceaccount",
      "quiet",
      "-n",
      ns,
      "-p",
      '{"automountServiceAccountToken":false}',
    ]);
    await apply(podManifest("p3", { serviceAccountName: "quiet" }));
    expect((await t.kubectl(["get", "pod", "p3", "-n", ns, "-o", "jsonpath={.spec.volumes}"])).stdout).toBe(
      "",
    );
  });

  it("refuses a pod whose service account does not exist", async () => {
    const r = await apply(podManifest("p4", { serviceAccountName: "ghost" }), true);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      `pods "p4" is forbidden: error looking up service account ${ns}/ghost: serviceaccount "ghost" not found`,
    );
  });

  it("keeps kube-root-ca.crt published in every namespace", async () => {
    const get = () =>
      t.kubectl(["get", "configmap", "kube-root-ca.crt", "-n", ns, "-o", "jsonpath={.data.ca\\.crt}"], {
        allowFail: true,
      });
    const ca = (await get()).stdout;
    expect(ca).toContain("BEGIN CERTIFICATE");
    await t.kubectl(["delete", "configmap", "kube-root-ca.crt", "-n", ns]);
    await vi.waitFor(async () => expect((await get()).stdout).toBe(ca), WAIT);
    await t.kubectl([
      "patch",
      "configmap",
      "kube-root-ca.crt",
      "-n",
      ns,
      "-p",
      '{"data":{"ca.crt":"forged"}}',
    ]);
    await vi.waitFor(async () => expect((await get()).stdout).toBe(ca), WAIT);
  });

  it("binds `kubectl create token` to a pod: valid while it exists, refused after", async () => {
    await apply(podManifest("bound"));
    const missing = await t.kubectl(
      ["create", "token", "default", "-n", ns, "--bound-object-kind", "Pod", "--bound-object-name", "nope"],
      { allowFail: true },
    );
    expect(missing.stderr).toContain('pods "nope" not found');
    const token = (
      await t.kubectl([
        "create",
        "token",
        "default",
        "-n",
        ns,
        "--bound-object-kind",
        "Pod",
        "--bound-object-name",
        "bound",
      ])
    ).stdout.trim();
    const home = mkdtempSync(join(tmpdir(), "ek-sav-"));
    try {
      const kc = join(home, "kc");
      writeFileSync(kc, readFileSync(t.kubeconfig, "utf8").replace(/token: .*/, `token: ${token}`));
      const whoami = () =>
        runKubectl(kc, home, ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"], {
          allowFail: true,
        });
      await vi.waitFor(
        async () => expect((await whoami()).stdout).toBe(`system:serviceaccount:${ns}:default`),
        WAIT,
      );
      await t.kubectl(["delete", "pod", "bound", "-n", ns, "--grace-period=0", "--force"]);
      await vi.waitFor(
        async () => expect((await whoami()).stderr).toContain("You must be logged in to the server"),
        WAIT,
      );
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
