/**
 * kubectl get -w streams (table rows as objects change), the three patch types, and
 * list paging (limit/continue) as kubectl uses them.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startHub, type TestHub } from "../helpers/hub.js";
import { hasKubectl, need } from "../helpers/prereq.js";

describe.skipIf(!need(hasKubectl()))("watch and patch with kubectl", () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub();
    await t.kubectl(["create", "ns", "wp"]);
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("get -w prints a row per change, from the list's resourceVersion on", async () => {
    await t.kubectl(["create", "configmap", "w0", "-n", "wp", "--from-literal=a=1"]);
    const child = spawn(
      "/usr/bin/kubectl",
      [
        "--kubeconfig",
        t.kubeconfig,
        "--cache-dir",
        join(t.dataDir, "kc-cache"),
        "get",
        "cm",
        "-n",
        "wp",
        "-w",
      ],
      {
        env: { ...process.env, HOME: t.dataDir },
      },
    );
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    try {
      await vi.waitFor(() => expect(out).toMatch(/^w0\s+1\s+/m), { timeout: 20_000 });
      await t.kubectl(["create", "configmap", "w1", "-n", "wp", "--from-literal=a=1", "--from-literal=b=2"]);
      await vi.waitFor(() => expect(out).toMatch(/^w1\s+2\s+/m), { timeout: 20_000 });
      await t.kubectl(["delete", "configmap", "w0", "-n", "wp"]);
      // a deleted object is printed once more by kubectl when its DELETED event arrives
      await vi.waitFor(() => expect(out.match(/^w0\s+/gm)?.length).toBe(2), { timeout: 20_000 });
    } finally {
      child.kill("SIGTERM");
    }
  });

  it("applies JSON, merge and strategic merge patches", async () => {
    await t.kubectl(["create", "deployment", "p1", "-n", "wp", "--image=busybox:1.36"]);
    await t.kubectl([
      "patch",
      "deploy",
      "p1",
      "-n",
      "wp",
      "--type=json",
      "-p",
      '[{"op":"replace","path":"/spec/replicas","value":4}]',
    ]);
    await t.kubectl([
      "patch",
      "deploy",
      "p1",
      "-n",
      "wp",
      "--type=merge",
      "-p",
      '{"metadata":{"labels":{"m":"x"}}}',
    ]);
    await t.kubectl([
      "patch",
      "deploy",
      "p1",
      "-n",
      "wp",
      "-p",
      '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.37"}]}}}}',
    ]);
    const d = JSON.parse((await t.kubectl(["get", "deploy", "p1", "-n", "wp", "-o", "json"])).stdout);
    expect(d.spec.replicas).toBe(4);
    expect(d.metadata.labels.m).toBe("x");
    // strategic merge keeps the existing container and adds the new one by name
    expect(d.spec.template.spec.containers.map((c: { name: string }) => c.name).sort()).toEqual([
      "busybox",
      "sidecar",
    ]);
    const bad = await t.kubectl(
      [
        "patch",
        "deploy",
        "p1",
        "-n",
        "wp",
        "--type=json",
        "-p",
        '[{"op":"test","path":"/spec/replicas","value":9}]',
      ],
      {
        allowFail: true,
      },
    );
    expect(bad.code).not.toBe(0);
  });

  it("pages long lists with limit/continue (kubectl --chunk-size)", async () => {
    for (let i = 0; i < 12; i++)
      await t.kubectl(["create", "configmap", `page-${i}`, "-n", "wp", "--from-literal=a=1"]);
    const r = await t.kubectl(["get", "cm", "-n", "wp", "--chunk-size=5", "-o", "name"]);
    const names = r.stdout
      .trim()
      .split("\n")
      .filter((n) => n.startsWith("configmap/page-"));
    expect(names).toHaveLength(12);
  });
});
