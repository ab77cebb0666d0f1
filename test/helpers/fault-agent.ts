/**
 * Edge agents for the fault tests: the real EdgeAgent, joined to a real hub through the real
 * join code, either in this process (FaultAgent, with a stand-in kubelet that reports pod
 * status) or as an `edge-agent run` child process (ChildAgent). Both count every application
 * of the desired set per key and revision: in-process through EdgeAgent.onCacheChange, in the
 * child through the agent's debug log line of the same hook ("desired set changed").
 *
 * Design notes
 * - join() rewrites the stored MQTT URL to the test's TCP proxy, so every byte of the link
 *   crosses a proxy the test can cut, black-hole or slow down; everything else the agent needs
 *   it reads from its data dir, like `edge-agent run`.
 * - The stand-in kubelet reports a new status generation ("g<N>", in status.message) for every
 *   pod version it receives, a final one ("Succeeded", no running container) for pods marked
 *   for deletion, and, while status churn runs, a fresh generation for some pod every beat. The
 *   last generation reported per pod is what the hub must end up holding.
 * - Child processes are tracked by the instance and killed by their pid, never by name.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import type { KubeObject } from "../../src/api/object.js";
import { EdgeAgent } from "../../src/edge-agent/agent.js";
import { DesiredCache } from "../../src/edge-agent/cache/desired-cache.js";
import { agentPaths, loadAgentConfig, loadCredentials, saveAgentState } from "../../src/edge-agent/config.js";
import { joinHub } from "../../src/edge-agent/join/join.js";
import { parseJoinToken } from "../../src/lib/join-token.js";
import { FACTS } from "./edge-agent-sim.js";

export const AGENT_BIN = resolve(import.meta.dirname, "../../bin/edge-agent.mjs");

/** One "edge link …" record of a child agent's log. */
export interface LinkLogRecord {
  msg?: string;
  failure?: string;
  retryInMs?: number;
  attemptMs?: number;
  err?: string;
}

/** Counts "put key@rev" / "delete key@rev" applications; duplicates() lists any seen twice. */
export class ApplyLedger {
  readonly counts = new Map<string, number>();
  record(entries: readonly string[]): void {
    for (const e of entries) this.counts.set(e, (this.counts.get(e) ?? 0) + 1);
  }
  duplicates(): string[] {
    return [...this.counts].filter(([, n]) => n > 1).map(([e, n]) => `${e} ×${n}`);
  }
  get size(): number {
    return this.counts.size;
  }
}

/** Joins `node` to the hub into `dataDir` and points its MQTT URL at `mqttUrl` (the proxy). */
export async function joinThrough(
  hubUrl: string,
  token: string,
  node: string,
  dataDir: string,
  mqttUrl: string,
): Promise<void> {
  await joinHub({
    hubUrl: new URL(hubUrl),
    token: parseJoinToken(token),
    nodeName: node,
    nodeIP: "198.51.100.7",
    dataDir,
    labels: {},
    taints: [],
    useWebSocket: false,
    facts: FACTS,
  });
  const paths = agentPaths(dataDir);
  const config = loadAgentConfig(paths);
  saveAgentState(
    paths,
    { ...config, mqtt: { ...config.mqtt, url: mqttUrl } },
    loadCredentials(paths, config),
  );
}

/** The agent's cache within the test namespace (plus its Node): key → object resourceVersion. */
export function agentView(dataDir: string, ns: string, node: string): Map<string, string> {
  const cache = new DesiredCache(agentPaths(dataDir).cache, { readonly: true });
  try {
    const out = new Map<string, string>();
    const rows = [
      ...cache.list("core/pods", ns),
      ...cache.list("core/configmaps", ns),
      ...cache.list("core/nodes").filter((o) => o.key === `core/nodes/${node}`),
    ];
    for (const o of rows) {
      // Node views carry no resourceVersion: they count by presence (see hubDesired)
      out.set(o.key, o.key.startsWith("core/nodes/") ? "present" : (o.object.metadata.resourceVersion ?? ""));
    }
    return out;
  } finally {
    cache.close();
  }
}

export interface FaultAgentOptions {
  keepaliveSeconds?: number;
}

/** An in-process EdgeAgent with a stand-in kubelet; restartable from its data dir. */
export class FaultAgent {
  readonly applied = new ApplyLedger();
  /** pod name → last status generation reported */
  readonly lastReported = new Map<string, string>();
  agent: EdgeAgent | undefined;
  private gen = 0;

  /** how many status reports the churn has made so far */
  get reports(): number {
    return this.gen;
  }
  /** pod key → the spec/labels/deletion the stand-in kubelet last acted on */
  private readonly seen = new Map<string, string>();
  private churn: NodeJS.Timeout | undefined;

  constructor(
    readonly node: string,
    readonly dataDir: string,
    readonly ns: string,
    private readonly opts: FaultAgentOptions = {},
  ) {}

  async start(): Promise<EdgeAgent> {
    if (this.agent) throw new Error("FaultAgent.start: already running");
    const paths = agentPaths(this.dataDir);
    const config = loadAgentConfig(paths);
    const agent = new EdgeAgent({
      dataDir: this.dataDir,
      config,
      credentials: loadCredentials(paths, config),
      facts: FACTS,
      agentVersion: "fault-test",
      link: {
        keepaliveSeconds: this.opts.keepaliveSeconds ?? 5,
        backoff: { baseMs: 100, maxMs: 1000 },
        connectTimeoutMs: 3000,
        stableMs: 1500,
      },
      replyTimeoutMs: 3000,
      heartbeat: { checkMs: 1000 },
      statusFile: { minIntervalMs: 200, sampleMs: 500 },
    });
    agent.onCacheChange((cs) => {
      this.applied.record(cs.map((c) => `${c.type} ${c.key}@${c.revision}`));
      for (const c of cs) {
        if (c.type !== "put" || c.resource !== "core/pods" || c.object.metadata.namespace !== this.ns)
          continue;
        // like a kubelet: react to what the hub asks for, not to the echo of our own status
        const shape = JSON.stringify([
          c.object.spec,
          c.object.metadata.labels,
          c.object.metadata.deletionTimestamp,
        ]);
        if (this.seen.get(c.key) === shape) continue;
        this.seen.set(c.key, shape);
        this.report(c.object);
      }
    });
    this.agent = agent; // before start(): the first delta may arrive while start() is still running
    await agent.start();
    return agent;
  }

  async stop(): Promise<void> {
    this.stopStatusChurn();
    const a = this.agent;
    this.agent = undefined;
    await a?.stop();
  }

  get connected(): boolean {
    return this.agent?.connected ?? false;
  }

  /** Reports a fresh status generation for one running pod every `everyMs`, online or not. */
  startStatusChurn(everyMs: number): void {
    this.churn = setInterval(() => {
      const pods = (this.agent?.cache.pods() ?? []).filter(
        (p) => p.metadata?.namespace === this.ns && !p.metadata?.deletionTimestamp,
      );
      const p = pods[this.gen % Math.max(1, pods.length)];
      if (p) this.report(p as KubeObject);
    }, everyMs);
  }

  stopStatusChurn(): void {
    clearInterval(this.churn);
    this.churn = undefined;
  }

  private report(pod: KubeObject): void {
    const agent = this.agent;
    if (!agent) return;
    const name = pod.metadata.name ?? "";
    const gen = `g${++this.gen}`;
    const status = pod.metadata.deletionTimestamp
      ? { phase: "Succeeded", message: gen, containerStatuses: [] }
      : { phase: "Running", message: gen };
    this.lastReported.set(name, gen);
    agent.reportPodStatus(pod.metadata.namespace ?? "", name, status, Number(pod.metadata.resourceVersion));
  }
}

/** `edge-agent run` as a child process (optionally inside a network namespace). */
export class ChildAgent {
  readonly applied = new ApplyLedger();
  private child: ChildProcess | undefined;
  private stderr = "";
  private readonly lineHandlers = new Set<(line: string) => void>();

  constructor(
    readonly dataDir: string,
    private readonly netns?: string,
  ) {}

  start(): void {
    if (this.child) throw new Error("ChildAgent.start: already running");
    // link, cache and status only: no pods or overlay on the test host
    const args = [AGENT_BIN, "run", "--data-dir", this.dataDir, "--no-pods", "--log-level", "debug"];
    const child = this.netns
      ? spawn("ip", ["netns", "exec", this.netns, process.execPath, ...args], {
          stdio: ["ignore", "ignore", "pipe"],
        })
      : spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
    this.child = child;
    let buf = "";
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      buf += chunk;
      let nl = buf.indexOf("\n");
      while (nl >= 0) {
        this.line(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        nl = buf.indexOf("\n");
      }
    });
  }

  get running(): boolean {
    const c = this.child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  /** Stops the child by its pid (SIGTERM: a systemd restart; SIGKILL after 5 s). */
  async stop(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGTERM");
    const t = setTimeout(() => c.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(t);
  }

  /** Calls `handler` with every later line of the child's log (JSON at debug level). */
  onLine(handler: (line: string) => void): () => void {
    this.lineHandlers.add(handler);
    return () => this.lineHandlers.delete(handler);
  }

  /**
   * The child's "edge link …" log records from now on (connected; down with failure,
   * retryInMs and attemptMs), collected until `off()`.
   */
  linkLog(): { records: LinkLogRecord[]; off: () => void } {
    const records: LinkLogRecord[] = [];
    const off = this.onLine((line) => {
      if (!line.includes('"edge link ')) return;
      try {
        records.push(JSON.parse(line) as LinkLogRecord);
      } catch {
        // not a whole JSON line
      }
    });
    return { records, off };
  }

  /** The tail of the child's log, for failure messages. */
  logTail(): string {
    return this.stderr.slice(-4000);
  }

  private line(text: string): void {
    for (const h of this.lineHandlers) h(text);
    this.stderr = (this.stderr + text + "\n").slice(-64_000);
    if (!text.startsWith("{")) return;
    let rec: { msg?: unknown; changes?: unknown };
    try {
      rec = JSON.parse(text) as typeof rec;
    } catch {
      return;
    }
    if (rec.msg === "desired set changed" && Array.isArray(rec.changes)) {
      this.applied.record(rec.changes.filter((c): c is string => typeof c === "string"));
    }
  }
}
