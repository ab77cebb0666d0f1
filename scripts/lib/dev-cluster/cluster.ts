/**
 * DevCluster: a hub on this machine plus N edge agents, each in its own network namespace with
 * its own dockerd, joined with real tokens — the product as a fleet would run it, on one box.
 * `scripts/dev-cluster` and the multi-node integration tests both drive this class.
 *
 * Design notes
 * - Every step records what it created in the state file before moving on (state.ts), so
 *   down() — also after a failed up() — stops the recorded pids and deletes the recorded names
 *   and nothing else. Processes are never found or killed by name.
 * - dockerd runs under `nsenter --net=/run/netns/NODE` (not `ip netns exec`, which remounts /sys
 *   and hides the cgroup mounts), with its data-root, exec-root, pidfile and socket in the
 *   node's directory, no bridge and no iptables of its own: the agent's overlay wires the pods.
 * - Agents run in their node's namespace the same way, so the overlay they program (flannel.1,
 *   cni0, rules) is the node's, and their DOCKER_HOST is the node's dockerd.
 * - The hub binds the host end of the LAN (hostIP): kubectl on the host and agents in the
 *   namespaces reach the same address; nothing listens on other interfaces.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HttpClient } from "../../../src/client/http-client.js";
import { collect, type DiagnosticsOptions, keep } from "./diagnostics.js";
import { agentArgs, checkPrerequisites, dockerdArgs, hubArgs, unmountBelow, until } from "./host.js";
import { isOurs, type StopOutcome, spawnDetached, stopProc } from "./procs.js";
import { addressPlan, type ClusterState, type NodeState, readState, statePath, writeState } from "./state.js";
import { addNodeNamespace, checkVxlan, createLan, deleteHostLink, deleteNetns } from "./topology.js";

export interface DevClusterConfig {
  /** state directory (.dev-cluster); everything but namespaces and links lives below it */
  root: string;
  /** names: netns <prefix>-lan, <prefix>-n1…, host link <prefix>0 (≤ 9 characters) */
  prefix: string;
  underlay: string;
  httpsPort: number;
  mqttPort: number;
  /** node script that runs `edgekube hub|agent …` (bin/edgekube.mjs or a test build) */
  launcher: string;
  /** busybox image reference on the host's Docker; loaded into every node's dockerd */
  image: string;
  /** extra environment for agents */
  agentEnv?: Record<string, string>;
  /** extra agent flags (e.g. --log-level debug) */
  agentArgs?: string[];
  /**
   * how agents are invoked instead of `node <launcher> agent`, e.g. `[<release exe>, "agent"]`
   * (the arm64 executable under qemu-user); the hub still runs from the launcher
   */
  agentCommand?: string[];
  /** deadline for an agent to start and register its network (default 60 s; qemu-user is slower) */
  agentTimeoutMs?: number;
  log?: (msg: string) => void;
}

export class DevCluster {
  private st: ClusterState | undefined;
  /** where each agent's log stood when it was last started (agentLog) */
  private readonly logFrom = new Map<string, number>();

  constructor(private readonly cfg: DevClusterConfig) {
    if (cfg.prefix.length > 9) throw new Error(`prefix "${cfg.prefix}" is longer than 9 characters`);
    this.st = readState(cfg.root);
  }

  get state(): ClusterState {
    if (!this.st) throw new Error(`no dev cluster recorded in ${this.cfg.root}: run "dev-cluster up"`);
    return this.st;
  }

  get kubeconfig(): string {
    return this.state.kubeconfig;
  }

  /** The hub's API with the admin kubeconfig. */
  client(): HttpClient {
    return HttpClient.fromKubeconfig(this.state.kubeconfig);
  }

  node(name: string): NodeState {
    const n = this.state.nodes.find((x) => x.name === name);
    if (!n)
      throw new Error(
        `no node "${name}" in this dev cluster (have: ${this.state.nodes.map((x) => x.name).join(", ")})`,
      );
    return n;
  }

  private say(msg: string): void {
    this.cfg.log?.(msg);
  }

  private save(): void {
    if (this.st) writeState(this.st);
  }

  async up(agents: number): Promise<void> {
    checkPrerequisites();
    if (this.st) {
      this.say(`a dev cluster is recorded in ${this.cfg.root}: taking it down first`);
      await this.down();
    }
    const plan = addressPlan(this.cfg.underlay);
    if (agents < 1 || agents > plan.maxNodes)
      throw new Error(`--agents must be between 1 and ${plan.maxNodes}`);
    mkdirSync(this.cfg.root, { recursive: true });
    const hubDir = join(this.cfg.root, "hub");
    this.st = {
      version: 1,
      root: this.cfg.root,
      prefix: this.cfg.prefix,
      underlay: this.cfg.underlay,
      prefixLength: plan.prefixLength,
      hostIP: plan.hostIP,
      deadEndIP: plan.deadEndIP,
      httpsPort: this.cfg.httpsPort,
      mqttPort: this.cfg.mqttPort,
      hubDir,
      kubeconfig: join(hubDir, "admin.kubeconfig"),
      launcher: this.cfg.launcher,
      nodes: [],
    };
    this.save();
    const lanNetns = `${this.cfg.prefix}-lan`;
    const hostLink = `${this.cfg.prefix}0`;
    this.st.lanNetns = lanNetns;
    this.st.hostLink = hostLink;
    this.save();
    createLan({
      lanNetns,
      hostLink,
      hostIP: plan.hostIP,
      deadEndIP: plan.deadEndIP,
      prefixLength: plan.prefixLength,
    });
    checkVxlan(lanNetns);
    this.say(`LAN ${this.cfg.underlay}: host ${plan.hostIP} on ${hostLink}`);
    await this.startHub();
    this.st.token = execFileSync(
      "node",
      [
        this.cfg.launcher,
        "hub",
        "token",
        "create",
        "--data-dir",
        hubDir,
        "--ttl",
        "0",
        "--description",
        "dev-cluster",
      ],
      { encoding: "utf8" },
    ).trim();
    this.save();
    execFileSync("docker", ["save", this.cfg.image, "-o", this.imageTar()]);
    for (let i = 1; i <= agents; i++) await this.addNode(i);
    for (const n of this.state.nodes) await this.waitNodeReady(n.name);
  }

  private imageTar(): string {
    return join(this.cfg.root, "image.tar");
  }

  async startHub(): Promise<void> {
    const s = this.state;
    if (s.hub && isOurs(s.hub)) return;
    mkdirSync(s.hubDir, { recursive: true });
    s.hub = spawnDetached("node", hubArgs(s), { log: join(s.root, "hub.log"), marker: s.hubDir });
    this.save();
    await until("the hub to answer", s.hub, async () => {
      if (!existsSync(s.kubeconfig)) return false;
      await this.client().get("/api/v1/namespaces/default");
      return true;
    });
    this.say(`hub ${s.hostIP}:${s.httpsPort} (pid ${s.hub.pid}); kubeconfig ${s.kubeconfig}`);
  }

  async stopHub(): Promise<void> {
    await stopProc(this.state.hub);
  }

  /** Adds node `index` (node<index>): namespace, dockerd, busybox image, joined agent. */
  async addNode(index: number): Promise<NodeState> {
    const s = this.state;
    const plan = addressPlan(s.underlay);
    const dir = join(s.root, "nodes", `node${index}`);
    const n: NodeState = {
      index,
      name: `node${index}`,
      netns: `${s.prefix}-n${index}`,
      ip: plan.nodeIP(index),
      lanPort: `u${index}`,
      dir,
      dockerSock: join(dir, "docker.sock"),
    };
    if (s.nodes.some((x) => x.name === n.name)) throw new Error(`${n.name} already exists`);
    s.nodes.push(n);
    this.save();
    mkdirSync(join(dir, "agent"), { recursive: true });
    addNodeNamespace({
      lanNetns: s.lanNetns ?? "",
      netns: n.netns,
      lanPort: n.lanPort,
      ip: n.ip,
      prefixLength: s.prefixLength,
      deadEndIP: s.deadEndIP,
    });
    writeFileSync(join(dir, "daemon.json"), "{}\n");
    n.dockerd = spawnDetached("nsenter", dockerdArgs(n), {
      log: join(dir, "dockerd.log"),
      marker: join(dir, "docker"),
    });
    this.save();
    await until(`dockerd of ${n.name}`, n.dockerd, async () => {
      this.docker(n, ["version"]);
      return true;
    });
    this.docker(n, ["load", "-i", this.imageTar()]);
    await this.startAgent(n.name, "join");
    this.say(
      `${n.name}: ${n.ip} in netns ${n.netns} (dockerd pid ${n.dockerd.pid}, agent pid ${n.agent?.pid})`,
    );
    return n;
  }

  /** Starts a node's agent: `join` the first time, `run` (from its data dir) afterwards. */
  async startAgent(name: string, mode: "join" | "run" = "run"): Promise<void> {
    const s = this.state;
    const n = this.node(name);
    if (n.agent && isOurs(n.agent)) return;
    const dataDir = join(n.dir, "agent");
    const log = join(n.dir, "agent.log");
    const from = existsSync(log) ? statSync(log).size : 0;
    this.logFrom.set(name, from);
    n.agent = spawnDetached(
      "nsenter",
      agentArgs(
        s,
        n,
        mode,
        ["--sandbox-image", this.cfg.image, ...(this.cfg.agentArgs ?? [])],
        this.cfg.agentCommand,
      ),
      {
        log,
        marker: dataDir,
        env: { ...process.env, ...this.cfg.agentEnv, DOCKER_HOST: `unix://${n.dockerSock}` },
      },
    );
    this.save();
    // only this start's output counts: the log is appended across restarts
    await until(
      `the agent of ${name} to run`,
      n.agent,
      async () => readFileSync(log).subarray(from).toString("utf8").includes(`node "${name}" running`),
      this.cfg.agentTimeoutMs,
    );
  }

  /** What the node's agent logged since its last start by this DevCluster (all of it otherwise). */
  agentLog(name: string): string {
    const log = join(this.node(name).dir, "agent.log");
    return existsSync(log)
      ? readFileSync(log)
          .subarray(this.logFrom.get(name) ?? 0)
          .toString("utf8")
      : "";
  }

  /** SIGTERM, then SIGKILL after a 10 s grace; says which ended it (an agent exits on SIGTERM). */
  async stopAgent(name: string): Promise<StopOutcome> {
    return stopProc(this.node(name).agent);
  }

  /** Waits until the hub has the node's podCIDR and overlay annotations (its network is up). */
  async waitNodeReady(name: string): Promise<void> {
    await until(
      `${name} to register its overlay`,
      this.node(name).agent,
      async () => {
        const node = await this.client().get<{
          spec?: { podCIDR?: string };
          metadata: { annotations?: Record<string, string> };
        }>(`/api/v1/nodes/${name}`);
        return !!node.spec?.podCIDR && !!node.metadata.annotations?.["flannel.alpha.coreos.com/backend-data"];
      },
      this.cfg.agentTimeoutMs,
    );
  }

  /** Removes one node: agent, containers, dockerd, namespace, files, and its Node object. */
  async removeNode(name: string, opts: { deleteNodeObject?: boolean } = {}): Promise<void> {
    const n = this.node(name);
    await this.teardownNode(n);
    if (opts.deleteNodeObject !== false) {
      await this.client()
        .delete(`/api/v1/nodes/${name}`)
        .catch(() => undefined);
    }
    this.state.nodes = this.state.nodes.filter((x) => x !== n);
    this.save();
  }

  private async teardownNode(n: NodeState): Promise<void> {
    await stopProc(n.agent);
    if (n.dockerd && isOurs(n.dockerd)) {
      try {
        const ids = this.docker(n, ["ps", "-aq"]).split("\n").filter(Boolean);
        if (ids.length > 0) this.docker(n, ["rm", "-f", ...ids]);
      } catch (err) {
        this.say(
          `${n.name}: removing containers failed (${(err as Error).message}); stopping dockerd anyway`,
        );
      }
    }
    await stopProc(n.dockerd, 20_000);
    unmountBelow(n.dir);
    deleteNetns(n.netns);
    rmSync(n.dir, { recursive: true, force: true });
  }

  /**
   * Stops and removes everything recorded; safe to run twice and after a failed up. Every step
   * runs even when an earlier one failed; the failures are reported together at the end.
   */
  async down(): Promise<void> {
    const s = this.st;
    if (!s) return;
    const failed: string[] = [];
    const step = async (what: string, f: () => unknown) => {
      try {
        await f();
      } catch (err) {
        failed.push(`${what}: ${(err as Error).message}`);
      }
    };
    for (const n of s.nodes) await step(`stopping the agent of ${n.name}`, () => stopProc(n.agent));
    for (const n of [...s.nodes]) await step(`removing ${n.name}`, () => this.teardownNode(n));
    await step("stopping the hub", () => stopProc(s.hub));
    await step("deleting the LAN namespace", () => deleteNetns(s.lanNetns));
    await step("deleting the host link", () => deleteHostLink(s.hostLink));
    await step("unmounting", () => unmountBelow(s.root));
    if (failed.length > 0) {
      throw new Error(
        `down left something behind (state kept in ${statePath(s.root)}; run down again):\n  ${failed.join("\n  ")}`,
      );
    }
    rmSync(s.root, { recursive: true, force: true });
    this.st = undefined;
  }

  /**
   * The cluster as it is now (log tails, rules, routes, containers, each agent's cached
   * services and pending statuses); with `dir`, also kept there with the full logs.
   */
  diagnostics(dir?: string, opts: DiagnosticsOptions = {}): string {
    const s = this.st;
    if (!s) return "(no dev cluster recorded)";
    return dir ? keep(s, dir, opts) : collect(s, opts);
  }

  /** `docker -H <node's socket> …`, resolving with stdout. */
  docker(n: NodeState, args: string[], input?: string): string {
    return execFileSync("docker", ["-H", `unix://${n.dockerSock}`, ...args], {
      encoding: "utf8",
      stdio: ["pipe", "pipe", "pipe"],
      timeout: 120_000,
      ...(input !== undefined ? { input } : {}),
    });
  }
}
