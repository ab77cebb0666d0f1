/**
 * EdgeAgent: the agent's composition root. It wires, from the data dir alone:
 *
 *   EdgeLink (mqtt.js, TLS, backoff) ──► SyncAgent ──► DesiredCache (SQLite) ──► DesiredView
 *        ▲                                  │                                  (pod manager, DNS,
 *        └──────── status outbox ◄──────────┘◄── NodeHeartbeat (lease, node)     LB, overlay)
 *                   (SQLite)                 ◄── reportPodStatus / recordEvent
 *                                            ◄── LocalPathStorage (pv/<name>, storage/<node>;
 *                                                 `storage` is the pod manager's VolumeHost)
 *
 * Offline autonomy contract (docs/agent.md)
 * - Starting needs no hub: the link connects in the background with jittered backoff while the
 *   cache already serves the last desired set it held (restored from SQLite after a reboot).
 * - Nothing is ever deleted, stopped or restarted because the hub is unreachable: the cache only
 *   changes when the hub says so (a delta, or a snapshot after a reconnect — and a snapshot equal
 *   to the cache changes nothing downstream).
 * - Objects deleted or changed on the hub while the node was away arrive on reconnect as a delta
 *   from the watermark, or as a snapshot when the hub compacted past it.
 * - Status (pods, node, lease, events) written offline waits in the outbox, one row per object,
 *   and reaches the hub in order on reconnect; the hub drops anything older than what it has.
 */
import type { KubeObject } from "../api/object.js";
import { type Logger, silentLogger } from "../lib/logger.js";
import { LocalPathStorage } from "../storage/local-path.js";
import { EdgeLink, type EdgeLinkOptions, type LinkStatus } from "../transport/client.js";
import { Outbox } from "../transport/outbox.js";
import { SyncAgent, type SyncStats } from "../transport/sync-agent.js";
import { type ChangeHandler, DesiredCache } from "./cache/desired-cache.js";
import { DesiredView } from "./cache/desired-view.js";
import { type AgentConfig, agentPaths, type Credentials } from "./config.js";
import { NodeHeartbeat } from "./heartbeat.js";
import type { NodeFacts } from "./node-facts.js";
import { StatusFile } from "./status-file.js";

export interface EdgeAgentOptions {
  dataDir: string;
  config: AgentConfig;
  credentials: Credentials;
  facts: NodeFacts;
  agentVersion: string;
  logger?: Logger;
  /** link tuning (tests shorten these) */
  link?: Pick<
    EdgeLinkOptions,
    "keepaliveSeconds" | "backoff" | "probe" | "stableMs" | "connectTimeoutMs" | "tcpConnectTimeoutMs"
  >;
  /** resend hello/status after this long without an answer (default 30 s) */
  replyTimeoutMs?: number;
  heartbeat?: { checkMs?: number; statusMs?: number };
  /** status.json: minimum interval between writes, and how often watermark/outbox are sampled */
  statusFile?: { minIntervalMs?: number; sampleMs?: number };
  /**
   * local-path volumes: `runtimePods` lists the uids of pods the container runtime holds (so a
   * directory is not removed while a pod being torn down still mounts it); timings for tests.
   */
  storage?: { runtimePods?: () => Promise<string[]>; resyncMs?: number; capacityMs?: number };
}

export class EdgeAgent {
  /** Typed read-only view of the desired set, for the pod manager, DNS, LB and overlay. */
  readonly cache: DesiredView;
  readonly node: string;
  /** local-path volumes; the pod manager's VolumeHost */
  readonly storage: LocalPathStorage;
  private readonly store: DesiredCache;
  private readonly outbox: Outbox;
  private readonly link: EdgeLink;

  /** the MQTT link, for components that open streams of their own (logs, exec, metrics) */
  get channel(): EdgeLink {
    return this.link;
  }
  private readonly sync: SyncAgent;
  private readonly heartbeat: NodeHeartbeat;
  private readonly status: StatusFile;
  private readonly log: Logger;
  private readonly offs: Array<() => void> = [];
  private sampler: NodeJS.Timeout | undefined;
  private state: "new" | "running" | "stopped" = "new";

  /** Opens the cache and outbox (throws, with what to do, when the data dir is unusable). */
  constructor(private readonly opts: EdgeAgentOptions) {
    const { config, credentials } = opts;
    this.node = config.nodeName;
    this.log = (opts.logger ?? silentLogger()).child({ component: "edge-agent", node: this.node });
    const paths = agentPaths(opts.dataDir);
    this.store = new DesiredCache(paths.cache);
    this.outbox = new Outbox(paths.outbox);
    this.cache = new DesiredView(this.store, this.node);
    // keys and revisions only (never bodies): what an operator, or a fault test watching a child
    // process, needs to tell "applied once" from "applied twice" at debug level
    this.store.onChange((cs) => {
      if (this.log.isLevelEnabled("debug"))
        this.log.debug({ changes: cs.map((c) => `${c.type} ${c.key}@${c.revision}`) }, "desired set changed");
    });
    const url = config.useWebSocket ? config.mqtt.wsUrl : config.mqtt.url;
    this.link = new EdgeLink({
      url,
      node: this.node,
      ca: credentials.ca,
      ...(credentials.password !== undefined
        ? { username: this.node, password: credentials.password }
        : { cert: credentials.cert, key: credentials.key }),
      logger: this.log,
      ...opts.link,
    });
    this.sync = new SyncAgent({
      node: this.node,
      agentVersion: opts.agentVersion,
      channel: this.link,
      sink: this.store,
      outbox: this.outbox,
      logger: this.log,
      ...(opts.replyTimeoutMs ? { replyTimeoutMs: opts.replyTimeoutMs } : {}),
    });
    this.heartbeat = new NodeHeartbeat({
      node: this.node,
      nodeIP: config.nodeIP,
      facts: opts.facts,
      report: (key, status) => this.sync.reportStatus(key, status),
      logger: this.log,
      ...opts.heartbeat,
    });
    this.storage = new LocalPathStorage({
      dataDir: opts.dataDir,
      node: this.node,
      cache: this.cache,
      onChange: (cb) => this.store.onChange(cb),
      report: (key, status) => this.sync.reportStatus(key, status),
      logger: this.log,
      ...opts.storage,
    });
    const now = new Date().toISOString();
    this.status = new StatusFile(
      paths.status,
      {
        pid: process.pid,
        node: this.node,
        hub: config.hubUrl,
        mqttUrl: url,
        startedAt: now,
        stopped: false,
        connected: false,
        since: now,
        watermark: this.store.watermark(),
        outbox: this.outbox.size(),
      },
      opts.statusFile?.minIntervalMs,
    );
  }

  /** Starts everything; resolves at once even when the hub is unreachable. */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.state !== "new")
      throw new Error("EdgeAgent.start: an agent starts once; create a new one to restart");
    this.state = "running";
    this.status.flush();
    this.offs.push(this.link.onStatus((s) => this.onLink(s)));
    await this.sync.start();
    await this.link.start();
    await this.heartbeat.start();
    await this.storage.start();
    this.sampler = setInterval(() => this.sample(), this.opts.statusFile?.sampleMs ?? 5000);
    this.sampler.unref();
    signal?.addEventListener("abort", () => void this.stop(), { once: true });
    this.log.info(
      { watermark: this.store.watermark(), cached: this.store.counts(), outbox: this.outbox.size() },
      "edge agent started from its cache; connecting to the hub",
    );
  }

  /** Idempotent. Stops reporting, says goodbye to the hub, closes the files. */
  async stop(): Promise<void> {
    if (this.state !== "running") {
      if (this.state === "new") this.closeFiles();
      this.state = "stopped";
      return;
    }
    this.state = "stopped";
    clearInterval(this.sampler);
    this.storage.stop();
    this.heartbeat.stop();
    this.sync.stop();
    await this.link.stop();
    for (const off of this.offs.splice(0)) off();
    this.sample();
    this.status.update({ stopped: true, connected: false });
    this.status.flush();
    this.closeFiles();
  }

  get connected(): boolean {
    return this.link.connected;
  }

  /** Every committed cache change, one batch per transaction (DNS, LB and overlay enqueue keys). */
  onCacheChange(handler: ChangeHandler): () => void {
    return this.store.onChange(handler);
  }

  /** Revision of the desired set the cache holds. */
  watermark(): number {
    return this.store.watermark();
  }

  /** How the hub answered this run's hellos (snapshots vs deltas). */
  syncStats(): SyncStats {
    return this.sync.stats;
  }

  /** Status updates waiting for the hub. */
  pendingStatus(): number {
    return this.outbox.size();
  }

  /** Pod status for the hub; `observedRevision` is the pod resourceVersion it was computed from. */
  reportPodStatus(namespace: string, name: string, status: unknown, observedRevision?: number): void {
    this.sync.reportStatus(`pod/${namespace}/${name}`, status, observedRevision);
  }

  /**
   * Annotations for this node's Node object (the overlay's VTEP MAC and public IP); the hub
   * accepts only flannel.alpha.coreos.com/ keys. Queued in the outbox like any status.
   */
  reportNodeAnnotations(annotations: Record<string, string>): void {
    this.sync.reportStatus(`node-annotations/${this.node}`, { annotations });
  }

  /** An Event (core/v1) to record on the hub; keyed by its uid so a resend is idempotent. */
  recordEvent(event: KubeObject): void {
    const uid = event.metadata.uid;
    if (!uid) throw new Error("recordEvent: the event needs metadata.uid (use crypto.randomUUID())");
    this.sync.reportStatus(`event/${uid}`, event);
  }

  private onLink(s: LinkStatus): void {
    const since = new Date().toISOString();
    if (s.type === "connected") {
      this.status.update({ connected: true, since, lastError: undefined, retryInMs: undefined });
      return;
    }
    const patch = {
      connected: false,
      retryInMs: s.retryInMs,
      ...(s.error ? { lastError: s.error.message } : {}),
    };
    this.status.update(this.status.current.connected ? { ...patch, since } : patch);
  }

  private sample(): void {
    this.status.update({
      watermark: this.store.watermark(),
      outbox: this.outbox.size(),
      sync: this.sync.stats,
    });
  }

  private closeFiles(): void {
    this.store.close();
    this.outbox.close();
  }
}
