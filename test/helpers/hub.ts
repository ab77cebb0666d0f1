/**
 * Test fixtures: an in-process hub on a random loopback port with its own data dir, and a
 * kubectl runner with a private HOME and cache dir (kubectl caches discovery and OpenAPI).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hub, type HubConfig } from "../../src/hub/hub.js";
import { silentLogger } from "../../src/lib/logger.js";

export interface TestHub {
  hub: Hub;
  dataDir: string;
  kubeconfig: string;
  kubectl: (
    args: string[],
    opts?: { input?: string; allowFail?: boolean; timeoutMs?: number },
  ) => Promise<KubectlResult>;
  stop: (opts?: { keepData?: boolean }) => Promise<void>;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function startHub(overrides: Partial<HubConfig> = {}): Promise<TestHub> {
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), "ek-hub-"));
  const hub = new Hub({
    dataDir,
    bindAddress: "127.0.0.1",
    httpsPort: 0,
    tlsSans: [],
    serviceCIDR: "10.43.0.0/16",
    clusterCIDR: "10.42.0.0/16",
    nodePortRange: [30000, 32767],
    mqttPort: 0,
    logger: silentLogger(),
    ...overrides,
  });
  await hub.start();
  const home = mkdtempSync(join(tmpdir(), "ek-kubectl-"));
  const kubeconfig = hub.kubeconfigPath;
  const kubectl = (args: string[], opts: { input?: string; allowFail?: boolean; timeoutMs?: number } = {}) =>
    runKubectl(kubeconfig, home, args, opts);
  return {
    hub,
    dataDir,
    kubeconfig,
    kubectl,
    stop: async (o = {}) => {
      await hub.stop();
      rmSync(home, { recursive: true, force: true });
      if (!o.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function runKubectl(
  kubeconfig: string,
  home: string,
  args: string[],
  opts: { input?: string; allowFail?: boolean; timeoutMs?: number } = {},
): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "/usr/bin/kubectl",
      ["--kubeconfig", kubeconfig, "--cache-dir", join(home, "cache"), ...args],
      {
        env: { ...process.env, HOME: home, KUBECONFIG: kubeconfig },
        timeout: opts.timeoutMs ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === "number"
            ? (err as { code: number }).code
            : 1
          : 0;
        const r = { code, stdout, stderr };
        if (code !== 0 && !opts.allowFail) {
          reject(new Error(`kubectl ${args.join(" ")} exited ${code}\nstdout: ${stdout}\nstderr: ${stderr}`));
        } else resolve(r);
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}
