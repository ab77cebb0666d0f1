/**
 * A dev cluster for integration tests and the net benchmark: the same DevCluster class
 * scripts/dev-cluster uses, with names, addresses and ports of its own so it can run beside a
 * developer's dev cluster and other test files:
 * - prefix `ekt<4 hex>` (netns ekt…-lan, ekt…-n1, host link ekt…0), state in a temp dir;
 * - a /27 of 198.51.100.64–255 reserved for this process (underlay-slice.ts; the developer's
 *   dev cluster uses .1–.30);
 * - a bundle of src/cmd built into .vitest-tmp/ (inside the repo, so node_modules resolve).
 * Pods are created through the hub's API and run commands through their node's dockerd.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { beforeEach, vi } from "vitest";
import { devBundleOptions, latin1 } from "../../scripts/lib/dev-bundle.mjs";
import { DevCluster } from "../../scripts/lib/dev-cluster/cluster.js";
import { ensureBusyboxImage } from "./images.js";
import { reserveUnderlaySlice, type UnderlaySlice } from "./underlay-slice.js";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export interface PodInfo {
  name: string;
  uid: string;
  node: string;
  ip: string;
}

interface ApiPod {
  metadata: { name: string; uid: string };
  spec?: { nodeName?: string };
  status?: { phase?: string; podIP?: string; containerStatuses?: { restartCount: number; ready: boolean }[] };
}

export class DevClusterFixture {
  readonly tag = randomBytes(2).toString("hex");
  readonly cluster: DevCluster;
  private readonly buildDir = join(repo, ".vitest-tmp", `devcluster-${this.tag}`);
  private readonly root = mkdtempSync(join(tmpdir(), "ekt-devcluster-"));
  readonly image: string;
  private readonly slice: UnderlaySlice;

  /**
   * `image` replaces the host busybox (it must be in the host's Docker: it is saved and loaded
   * into every node's dockerd, and is the sandbox image); `agentCommand`, `agentEnv` and
   * `agentTimeoutMs` run agents from a release executable (see DevClusterConfig).
   */
  constructor(
    opts: {
      agentArgs?: string[];
      image?: string;
      agentCommand?: string[];
      agentEnv?: Record<string, string>;
      agentTimeoutMs?: number;
      /** node flags of the agent process that NODE_OPTIONS refuses (e.g. --cpu-prof; benchmarks) */
      agentNodeArgs?: string[];
    } = {},
  ) {
    this.image = opts.image ?? ensureBusyboxImage();
    this.slice = reserveUnderlaySlice();
    const port = 20_000 + (randomBytes(2).readUInt16BE(0) % 20_000);
    this.cluster = new DevCluster({
      root: join(this.root, "state"),
      prefix: `ekt${this.tag}`,
      underlay: this.slice.cidr,
      httpsPort: port,
      mqttPort: port + 1,
      launcher: join(this.buildDir, "run.mjs"),
      image: this.image,
      // EDGEKUBE_TEST_AGENT_LOG=debug: agents log at that level (richer evidence when chasing a flake)
      ...(opts.agentArgs || process.env.EDGEKUBE_TEST_AGENT_LOG
        ? {
            agentArgs: [
              ...(opts.agentArgs ?? []),
              ...(process.env.EDGEKUBE_TEST_AGENT_LOG
                ? ["--log-level", process.env.EDGEKUBE_TEST_AGENT_LOG]
                : []),
            ],
          }
        : {}),
      ...(opts.agentCommand ? { agentCommand: opts.agentCommand } : {}),
      ...(!opts.agentCommand && opts.agentNodeArgs
        ? { agentCommand: ["node", ...opts.agentNodeArgs, join(this.buildDir, "run.mjs"), "agent"] }
        : {}),
      ...(opts.agentEnv ? { agentEnv: opts.agentEnv } : {}),
      ...(opts.agentTimeoutMs ? { agentTimeoutMs: opts.agentTimeoutMs } : {}),
    });
  }

  async up(agents: number): Promise<void> {
    mkdirSync(this.buildDir, { recursive: true });
    // exactly what scripts/build-dev.mjs builds (same split, stubs and launcher heap tuning), so
    // the agents measured by bench/pods are the ones `npm ci` gives
    const out = await build({
      ...devBundleOptions({ entry: join(repo, "src/cmd/main.ts"), outdir: this.buildDir }),
      write: false,
    });
    for (const f of out.outputFiles) {
      mkdirSync(dirname(f.path), { recursive: true });
      writeFileSync(f.path, latin1(f.text));
    }
    writeFileSync(
      join(this.buildDir, "run.mjs"),
      'import { main, tuneHeap } from "./edgekube.mjs";\ntuneHeap("edgekube", process.argv.slice(2), process.env);\nprocess.exitCode = await main(process.argv.slice(2), "edgekube");\n',
    );
    await this.cluster.up(agents);
  }

  /**
   * Keeps the evidence of every failing test of the calling suite: the cluster's diagnostics
   * (log tails, nft ruleset, routes, containers, each agent's cached EndpointSlices and pod
   * statuses) are printed and kept with the full logs in .vitest-tmp/failures/ (down() deletes
   * the cluster's own directory). Call once inside the describe block.
   */
  keepFailures(): void {
    // EDGEKUBE_TEST_KEEP=1 keeps the evidence of passing tests too (to compare with a failure)
    const all = process.env.EDGEKUBE_TEST_KEEP === "1";
    beforeEach((ctx) => {
      const keep = (outcome: string) => {
        const safe = ctx.task.name.replace(/[^a-zA-Z0-9]+/g, "-").slice(0, 60);
        const dir = join(repo, ".vitest-tmp", outcome, `${this.tag}-${Date.now()}-${safe}`);
        return { dir, report: this.cluster.diagnostics(dir) };
      };
      ctx.onTestFailed(() => {
        const { dir, report } = keep("failures");
        console.error(`dev cluster at the failure of "${ctx.task.name}" (kept in ${dir}):\n${report}`);
      });
      if (all) ctx.onTestFinished(() => void (ctx.task.result?.state === "pass" && keep("passes")));
    });
  }

  async down(): Promise<void> {
    try {
      await this.cluster.down();
    } finally {
      rmSync(this.buildDir, { recursive: true, force: true });
      rmSync(this.root, { recursive: true, force: true });
      this.slice.release();
    }
  }

  /** Creates a busybox pod bound to `node` running `script` (sh -c). */
  async createPod(name: string, node: string, script: string): Promise<string> {
    const pod = await this.cluster.client().post<ApiPod>("/api/v1/namespaces/default/pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name },
      spec: {
        nodeName: node,
        terminationGracePeriodSeconds: 1,
        containers: [
          { name: "c", image: this.image, imagePullPolicy: "Never", command: ["sh", "-c", script] },
        ],
      },
    });
    return pod.metadata.uid;
  }

  async getPod(name: string): Promise<ApiPod | undefined> {
    try {
      return await this.cluster.client().get<ApiPod>(`/api/v1/namespaces/default/pods/${name}`);
    } catch {
      return undefined;
    }
  }

  async deletePod(name: string): Promise<void> {
    await this.cluster.client().delete(`/api/v1/namespaces/default/pods/${name}`);
  }

  /** Running with an IP (reported by the agent through the hub), or undefined. */
  async runningPod(name: string): Promise<PodInfo | undefined> {
    const p = await this.getPod(name);
    if (p?.status?.phase !== "Running" || !p.status.podIP) return undefined;
    return { name, uid: p.metadata.uid, node: p.spec?.nodeName ?? "", ip: p.status.podIP };
  }

  /** The pod once it runs with an address, polled through vi.waitFor with `poll`. */
  waitRunning(name: string, poll = { timeout: 60_000, interval: 300 }): Promise<PodInfo> {
    return vi.waitFor(async () => {
      const p = await this.runningPod(name);
      if (!p) throw new Error(`${name} not running yet`);
      return p;
    }, poll);
  }

  /** Runs a command in the pod's app container through its node's dockerd. */
  exec(pod: PodInfo, cmd: string[], timeoutMs = 30_000): string {
    const n = this.cluster.node(pod.node);
    const id = this.cluster
      .docker(n, [
        "ps",
        "-q",
        "--filter",
        `label=io.kubernetes.pod.uid=${pod.uid}`,
        "--filter",
        "label=edgekube.io/role=app",
      ])
      .trim()
      .split("\n")[0];
    if (!id) throw new Error(`pod ${pod.name} has no running app container on ${pod.node}`);
    return execFileSync("docker", ["-H", `unix://${n.dockerSock}`, "exec", id, ...cmd], {
      encoding: "utf8",
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
  }

  /** ip/bridge JSON of flannel.1 in a node's namespace (peer routes, ARP and FDB entries). */
  /** flannel.1's entries, and `direct`: pod-subnet routes over the underlay (direct routing) */
  overlay(node: string): { routes: string[]; neighs: string[]; fdb: string[]; direct: string[] } {
    const ns = this.cluster.node(node).netns;
    const j = (args: string[]) =>
      JSON.parse(
        execFileSync(args[0]!, ["-n", ns, "-json", ...args.slice(1)], { encoding: "utf8" }) || "[]",
      ) as Record<string, unknown>[];
    return {
      routes: j(["ip", "route", "show", "dev", "flannel.1"]).map((r) => String(r.dst)),
      neighs: j(["ip", "neigh", "show", "dev", "flannel.1"]).map((r) => `${r.dst} ${r.lladdr}`),
      fdb: j(["bridge", "fdb", "show", "dev", "flannel.1"]).map((r) => `${r.mac} ${r.dst}`),
      direct: j(["ip", "route", "show", "dev", "eth0"])
        .filter((r) => String(r.dst).startsWith("10.42.") && r.gateway !== undefined)
        .map((r) => `${r.dst} via ${r.gateway}`),
    };
  }
}
