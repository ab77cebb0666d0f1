/**
 * AgentWorkloads: runs the desired pods of this node — Docker runtime + pod manager — fed by the
 * agent's cache and reporting through the agent's outbox.
 *
 * Design notes
 * - Started after the cache is open, so the pod manager's first pass (adoption, orphan removal)
 *   sees the whole cached desired set, also after an offline reboot.
 * - A missing Docker Engine or sandbox image does not stop the agent (the link, cache and
 *   heartbeats keep working): start-up is retried with backoff and the failure is logged.
 */
import { randomUUID } from "node:crypto";
import Docker from "dockerode";
import type { KubeObject } from "../api/object.js";
import type { Logger } from "../lib/logger.js";
import { StreamServer } from "../transport/streams/index.js";
import type { EdgeAgent } from "./agent.js";
import { noNetwork, PodManager, type PodNetwork, type PodSource } from "./pods/index.js";
import { DockerRuntime, scopeToNode } from "./runtime/index.js";
import { agentStreamHandlers, MetricsReporter } from "./streams/index.js";

export interface WorkloadOptions {
  dataDir: string;
  nodeName: string;
  hostIP?: string;
  sandboxImage: string;
  sandboxCommand?: string[];
  dockerSocket?: string;
  network?: PodNetwork;
  clusterDNS?: { nameservers: string[]; domain: string };
  logger: Logger;
}

function podSource(agent: EdgeAgent): PodSource {
  const view = agent.cache;
  return {
    pods: () => view.pods() as unknown as KubeObject[],
    get: (kind, ns, name) => {
      switch (kind) {
        case "ConfigMap":
          return view.configMap(ns, name) as unknown as KubeObject | undefined;
        case "Secret":
          return view.secret(ns, name) as unknown as KubeObject | undefined;
        case "PersistentVolumeClaim":
          return view.persistentVolumeClaim(ns, name) as unknown as KubeObject | undefined;
        case "PersistentVolume":
          return view.persistentVolume(name) as unknown as KubeObject | undefined;
        default:
          return undefined;
      }
    },
    onChange: (cb) => agent.onCacheChange(() => cb()),
  };
}

export class AgentWorkloads {
  private manager: PodManager | undefined;
  private runtime: DockerRuntime | undefined;
  private streams: StreamServer | undefined;
  private reporter: MetricsReporter | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly agent: EdgeAgent,
    private readonly opts: WorkloadOptions,
  ) {}

  async start(signal?: AbortSignal): Promise<void> {
    signal?.addEventListener("abort", () => void this.stop(), { once: true });
    await this.tryStart(0);
  }

  private async tryStart(attempt: number): Promise<void> {
    if (this.stopped) return;
    const { opts, agent } = this;
    try {
      // only this node's containers are adopted or removed, even on a shared Docker Engine
      const docker = scopeToNode(
        new Docker({ socketPath: opts.dockerSocket ?? "/var/run/docker.sock" }),
        opts.nodeName,
      );
      const runtime = new DockerRuntime({
        docker,
        sandboxImage: opts.sandboxImage,
        ...(opts.sandboxCommand ? { sandboxCommand: opts.sandboxCommand } : {}),
        logger: opts.logger.child({ component: "runtime" }),
      });
      await runtime.start();
      const manager = new PodManager({
        runtime,
        source: podSource(agent),
        reporter: {
          reportPodStatus: (pod, status) =>
            agent.reportPodStatus(
              pod.metadata.namespace ?? "",
              pod.metadata.name ?? "",
              status,
              Number(pod.metadata.resourceVersion) || undefined,
            ),
          recordEvent: (pod, type, reason, message) =>
            agent.recordEvent(podEvent(pod, opts.nodeName, type, reason, message)),
        },
        // the local-path provisioner validates names and paths; it is the pods' volume host
        volumeHost: agent.storage,
        network: opts.network ?? noNetwork,
        nodeName: opts.nodeName,
        ...(opts.hostIP ? { hostIP: opts.hostIP } : {}),
        ...(opts.clusterDNS ? { clusterDNS: opts.clusterDNS } : {}),
        logger: opts.logger.child({ component: "pods" }),
      });
      await manager.start();
      // kubectl logs/exec/attach/port-forward and metrics for kubectl top, over the same link
      const streams = new StreamServer({
        channel: agent.channel,
        handlers: agentStreamHandlers({ runtime, docker }),
      });
      await streams.start();
      const reporter = new MetricsReporter({
        channel: agent.channel,
        runtime,
        docker,
        logger: opts.logger.child({ component: "metrics" }),
      });
      await reporter.start();
      this.runtime = runtime;
      this.manager = manager;
      this.streams = streams;
      this.reporter = reporter;
      opts.logger.info({ sandboxImage: opts.sandboxImage }, "pod manager started");
    } catch (err) {
      const delay = Math.min(60_000, 1000 * 2 ** attempt);
      opts.logger.warn(
        { err: (err as Error).message, retryInMs: delay },
        "cannot run pods yet (Docker Engine or sandbox image); retrying",
      );
      this.timer = setTimeout(() => void this.tryStart(attempt + 1), delay);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.reporter?.stop();
    await this.streams?.stop();
    this.manager?.stop();
    await this.runtime?.stop();
  }

  /** uids of the pods that have containers now (the storage reclaimer never removes their volumes) */
  async runtimePodUids(): Promise<string[]> {
    return this.runtime ? (await this.runtime.listPods()).map((p) => p.uid) : [];
  }

  importImage(path: string): Promise<string[]> {
    if (!this.manager) throw new Error("the pod manager is not running (no Docker Engine?)");
    return this.manager.importImage(path);
  }
}

function podEvent(pod: KubeObject, node: string, type: string, reason: string, message: string): KubeObject {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  const uid = randomUUID();
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: {
      name: `${pod.metadata.name}.${uid.slice(0, 16).replace(/-/g, "")}`,
      namespace: pod.metadata.namespace,
      uid,
    },
    involvedObject: {
      kind: "Pod",
      apiVersion: "v1",
      namespace: pod.metadata.namespace,
      name: pod.metadata.name,
      uid: pod.metadata.uid,
      resourceVersion: pod.metadata.resourceVersion,
    },
    reason,
    message,
    type,
    source: { component: "kubelet", host: node },
    reportingComponent: "kubelet",
    reportingInstance: node,
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
}
