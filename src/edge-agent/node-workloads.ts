/**
 * NodeWorkloads: what runs pods on a node, wired onto a started EdgeAgent — Docker runtime,
 * pod network (overlay + IPAM), services (proxy rules + cluster DNS) and pod manager.
 *
 *   EdgeAgent.cache ──► PodSource ──► PodManager ──► DockerRuntime (DOCKER_HOST or local socket)
 *                 ├──► Nodes ──► AgentNetwork ◄── PodNetwork hook ┘
 *                 └──► Services, EndpointSlices ──► NodeServices ◄── LocalPods ◄─┐
 *   PodManager status/events ──► EdgeAgent outbox ──► hub                          │
 *                           └──────────────────────────────────────────────────────┘
 *
 * Design notes
 * - Start order is the offline-autonomy order: the cache is loaded (EdgeAgent.start), the runtime
 *   answers, the network is set up from the cached Nodes (leases reconciled against the running
 *   sandboxes), services and DNS come up from the cached Services (so DNS answers before the
 *   first pod asks) with LocalPods seeded from the pods that kept running and wired (so the
 *   first rules sync keeps this node's endpoints: an agent restart changes no rule), then the
 *   pod manager adopts what runs and starts what is missing; after its orphan sweep, leases of
 *   the removed pods are released.
 * - Pods get `nameserver <clusterDNS>` (the agent's own DNS on its edgekube-dns link) unless
 *   services are disabled, in which case they get the config's address all the same: the
 *   administrator then runs a DNS there.
 * - stop() stops reconciling; containers, links and rules stay, so restarting the agent
 *   changes nothing that runs. `edge-agent reset` removes them.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import Docker from "dockerode";
import type { KubeObject } from "../api/object.js";
import { metaTime } from "../api/time.js";
import type { Logger } from "../lib/logger.js";
import { type StreamHandler, type StreamKind, StreamServer } from "../transport/streams/index.js";
import type { EdgeAgent } from "./agent.js";
import { R } from "./cache/keys.js";
import type { AgentConfig } from "./config.js";
import { AgentNetwork } from "./network/agent-network.js";
import { PodManager, type PodSource, type StatusReporter } from "./pods/index.js";
import { DockerRuntime, scopeToNode } from "./runtime/index.js";
import { LocalPods, NodeServices, runningAtStart, servicesCacheOf } from "./services/index.js";
import { agentStreamHandlers, MetricsReporter } from "./streams/index.js";
import { ServiceAccountTokenManager } from "./tokens/index.js";

export interface NodeWorkloadsOptions {
  agent: EdgeAgent;
  config: AgentConfig;
  dataDir: string;
  /** sandbox image (present or in the airgap folder) */
  sandboxImage: string;
  /** underlay interface (`--flannel-iface`) */
  flannelIface?: string;
  /** route same-segment peers without VXLAN (`--flannel-direct-routing`) */
  flannelDirectRouting?: boolean;
  logger: Logger;
  /** pod manager resync period (tests shorten it) */
  resyncMs?: number;
  runtime?: DockerRuntime;
  onWired?: (uid: string, ms: number) => void;
  /** service proxy and cluster DNS on this node (default true; `--no-services` turns it off) */
  services?: boolean;
  /** cluster DNS address (`--cluster-dns`); default: the one the hub gave at join (10.43.0.10) */
  clusterDNS?: string;
  /** called as each stream opens (the command line turns V8's baseline compiler on at the first) */
  onStream?: () => void;
}

export class NodeWorkloads {
  readonly runtime: DockerRuntime;
  readonly network: AgentNetwork;
  readonly pods: PodManager;
  /** pod-bound service account tokens from the hub (projected volumes) */
  readonly tokens: ServiceAccountTokenManager;
  private readonly streams: StreamServer;
  private readonly metrics: MetricsReporter;
  readonly services: NodeServices | undefined;
  readonly localPods = new LocalPods();
  private leaseTimer: NodeJS.Timeout | undefined;
  private readonly agent: EdgeAgent;
  private readonly log: Logger;

  constructor(o: NodeWorkloadsOptions) {
    const { agent, config } = o;
    this.agent = agent;
    this.log = o.logger;
    const log = o.logger;
    // only this node's containers are adopted or removed, even on a shared Docker Engine
    const docker = scopeToNode(new Docker(), config.nodeName);
    this.runtime = o.runtime ?? new DockerRuntime({ docker, sandboxImage: o.sandboxImage, logger: log });
    this.network = new AgentNetwork({
      nodeName: config.nodeName,
      nodeIP: config.nodeIP,
      clusterCIDR: config.clusterCIDR,
      ...(config.podCIDR ? { podCIDR: config.podCIDR } : {}),
      ...(o.flannelIface ? { iface: o.flannelIface } : {}),
      ...(o.flannelDirectRouting ? { directRouting: true } : {}),
      dataDir: o.dataDir,
      nodes: () => agent.cache.nodes(),
      onNodesChange: (cb) =>
        agent.onCacheChange((changes) => {
          if (changes.some((c) => c.resource === R.nodes)) cb();
        }),
      publish: (a) => agent.reportNodeAnnotations(a),
      liveSandboxes: async () =>
        (await this.runtime.listPods()).filter((p) => p.sandbox?.running).map((p) => p.uid),
      logger: log,
      ...(o.onWired ? { onWired: o.onWired } : {}),
    });
    const clusterDNS = o.clusterDNS ?? config.clusterDNS;
    this.services =
      o.services === false
        ? undefined
        : new NodeServices({
            nodeName: config.nodeName,
            nodeIPs: [config.nodeIP],
            clusterCIDR: config.clusterCIDR,
            serviceCIDR: config.serviceCIDR,
            clusterDNS,
            clusterDomain: config.clusterDomain,
            cache: servicesCacheOf(agent),
            localPods: this.localPods,
            logger: log,
          });
    this.tokens = new ServiceAccountTokenManager({
      link: agent.channel,
      file: join(o.dataDir, "sa-tokens.json"),
      livePods: () => agent.cache.pods().map((p) => p.metadata?.uid ?? ""),
      logger: log,
    });
    this.pods = new PodManager({
      runtime: this.runtime,
      source: agentPodSource(agent, this.tokens),
      reporter: statusReporter(agent, this.localPods),
      // the local-path provisioner validates names and paths: it is the pods' volume host
      volumeHost: agent.storage,
      // a released volume waiting for this pod's containers to go is reclaimed at once
      onPodRemoved: () => agent.storage.podRemoved(),
      network: this.network.hook,
      nodeName: config.nodeName,
      hostIP: config.nodeIP,
      clusterDNS: { nameservers: [clusterDNS], domain: config.clusterDomain },
      ...(o.resyncMs ? { resyncMs: o.resyncMs } : {}),
      logger: log,
    });
    // kubectl logs/exec/attach/port-forward and `kubectl top`, over the same MQTT link
    this.streams = new StreamServer({
      channel: agent.channel,
      handlers: withHook(agentStreamHandlers({ runtime: this.runtime, docker }), o.onStream),
    });
    this.metrics = new MetricsReporter({
      channel: agent.channel,
      runtime: this.runtime,
      docker,
      logger: log,
    });
  }

  async start(signal?: AbortSignal): Promise<void> {
    await this.runtime.start(signal);
    await this.network.start(signal);
    if (this.services) await this.seedLocalPods();
    await this.services?.start(signal);
    await this.tokens.start(signal);
    await this.pods.start(signal);
    await this.streams.start();
    await this.metrics.start();
    await this.network.reconcileLeases();
    this.leaseTimer = setInterval(() => void this.network.reconcileLeases().catch(() => {}), 60_000);
    this.leaseTimer.unref();
  }

  /**
   * LocalPods before the first rules sync: the desired pods that run and kept their wiring
   * across the restart. Best effort: on failure the pod manager's reports fill it as before.
   */
  private async seedLocalPods(): Promise<void> {
    try {
      const desired = new Set(this.agent.cache.pods().map((p) => p.metadata?.uid ?? ""));
      const candidates = runningAtStart(await this.runtime.listPods(), desired);
      const wired = await this.network.wiredAddresses(candidates);
      for (const [uid, ip] of wired) this.localPods.observe(uid, { phase: "Running", podIP: ip });
      if (wired.size > 0)
        this.log.info({ pods: wired.size }, "services start with the pods that kept running");
    } catch (err) {
      this.log.warn({ err }, "cannot list the running pods; their endpoints wait for the pod manager");
    }
  }

  /** Stops reconciling; pods, links, rules and the DNS address stay (see design notes). */
  async stop(): Promise<void> {
    clearInterval(this.leaseTimer);
    this.metrics.stop();
    void this.streams.stop();
    this.pods.stop();
    this.tokens.stop();
    this.network.stop();
    await this.services?.stop();
  }
}

/** Resources a pod's sync reads besides the pod itself (env, volumes, pull secrets, claims). */
const POD_INPUTS: ReadonlySet<string> = new Set([
  R.configMaps,
  R.secrets,
  R.persistentVolumeClaims,
  R.persistentVolumes,
]);

/** The agent's cache (and, when given, its token manager) as the pod manager's PodSource. */
export function agentPodSource(agent: EdgeAgent, tokens?: ServiceAccountTokenManager): PodSource {
  const c = agent.cache;
  return {
    pods: () => c.pods() as unknown as KubeObject[],
    get(kind, ns, name) {
      const o =
        kind === "ConfigMap"
          ? c.configMap(ns, name)
          : kind === "Secret"
            ? c.secret(ns, name)
            : kind === "PersistentVolumeClaim"
              ? c.persistentVolumeClaim(ns, name)
              : kind === "PersistentVolume"
                ? c.persistentVolume(name)
                : undefined;
      return o as unknown as KubeObject | undefined;
    },
    onChange: (cb) => {
      const offCache = agent.onCacheChange((changes) => {
        // pods depend on their own objects and on what they reference; Nodes, Services and
        // EndpointSlices (and the Node's own heartbeat status) never need a pod sync
        let uids: string[] | undefined = [];
        let podsChanged = false;
        for (const ch of changes) {
          if (ch.resource === R.pods) {
            podsChanged = true;
            const uid = ch.type === "put" ? ch.object.metadata.uid : undefined;
            if (uid) uids?.push(uid);
          } else if (POD_INPUTS.has(ch.resource)) uids = undefined;
        }
        if (uids === undefined) cb();
        else if (podsChanged) cb(uids);
      });
      // a refreshed token is written by the pods' next sync
      const offTokens = tokens?.onChange((uid) => cb([uid]));
      return () => {
        offCache();
        offTokens?.();
      };
    },
    ...(tokens
      ? { serviceAccountToken: (pod, audience, seconds) => tokens.get(pod, audience, seconds) }
      : {}),
  };
}

function statusReporter(agent: EdgeAgent, local: LocalPods): StatusReporter {
  return {
    reportPodStatus(pod, status) {
      local.observe(pod.metadata.uid, status);
      const rv = Number(pod.metadata.resourceVersion);
      agent.reportPodStatus(
        pod.metadata.namespace ?? "default",
        pod.metadata.name ?? "",
        status,
        Number.isFinite(rv) && rv > 0 ? rv : undefined,
      );
    },
    recordEvent(pod, type, reason, message) {
      const now = metaTime(new Date());
      agent.recordEvent({
        apiVersion: "v1",
        kind: "Event",
        metadata: { uid: randomUUID(), namespace: pod.metadata.namespace ?? "default" },
        involvedObject: {
          apiVersion: "v1",
          kind: "Pod",
          namespace: pod.metadata.namespace,
          name: pod.metadata.name,
          uid: pod.metadata.uid,
        },
        type,
        reason,
        message,
        source: { component: "kubelet", host: agent.node },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      } as KubeObject);
    },
  };
}

function withHook(
  handlers: Record<StreamKind, StreamHandler>,
  hook: (() => void) | undefined,
): Record<StreamKind, StreamHandler> {
  if (!hook) return handlers;
  const out = { ...handlers };
  for (const k of Object.keys(out) as StreamKind[]) {
    const h = handlers[k];
    out[k] = (req) => {
      hook();
      return h(req);
    };
  }
  return out;
}
