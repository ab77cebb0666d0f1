/**
 * A hub restart keeps its CA, its admin token and every object; `kubectl get all` uses the
 * `all` category; the edge-hub command line starts a hub that kubectl reaches.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { runKubectl, startHub } from "../helpers/hub.js";
import { hasKubectl, need } from "../helpers/prereq.js";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

describe.skipIf(!need(hasKubectl()))("hub restart and the command line", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("keeps the CA, the admin token and all objects across a restart", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "ek-restart-"));
    dirs.push(dataDir);
    const first = await startHub({ dataDir });
    await first.kubectl(["create", "ns", "keep"]);
    await first.kubectl(["create", "configmap", "c", "-n", "keep", "--from-literal=k=v"]);
    await first.kubectl(["create", "deployment", "d", "-n", "keep", "--image=busybox:1.36"]);
    const ca = readFileSync(join(dataDir, "tls", "ca.crt"), "utf8");
    const token = JSON.parse(readFileSync(join(dataDir, "tokens.json"), "utf8")).admin as string;
    await first.stop({ keepData: true });

    const second = await startHub({ dataDir });
    try {
      expect(readFileSync(join(dataDir, "tls", "ca.crt"), "utf8")).toBe(ca);
      expect(readFileSync(second.kubeconfig, "utf8")).toContain(`token: ${token}`);
      expect(
        (await second.kubectl(["get", "cm", "c", "-n", "keep", "-o", "jsonpath={.data.k}"])).stdout,
      ).toBe("v");
      const all = await second.kubectl(["get", "all", "-n", "keep"]);
      expect(all.stdout).toMatch(/deployment\.apps\/d\s/);
    } finally {
      await second.stop();
    }
  });

  it("`edge-hub server` serves kubectl and stops cleanly on SIGTERM", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "ek-cli-"));
    dirs.push(dataDir);
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        "bin/edge-hub.mjs",
        "server",
        "--data-dir",
        dataDir,
        "--https-port",
        String(port),
        "--bind-address",
        "127.0.0.1",
        "--mqtt-port",
        "0",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    try {
      await vi.waitFor(() => expect(out).toContain("edge-hub: ready at"), { timeout: 30_000 });
      const r = await runKubectl(join(dataDir, "admin.kubeconfig"), dataDir, ["get", "--raw", "/readyz"]);
      expect(r.stdout).toBe("ok");
      const v = await runKubectl(join(dataDir, "admin.kubeconfig"), dataDir, ["get", "ns", "-o", "name"]);
      expect(v.stdout).toContain("namespace/kube-system");
    } finally {
      child.kill("SIGTERM");
      const code = await new Promise<number | null>((r) => child.once("exit", r));
      expect(code).toBe(0);
    }
  });
});
