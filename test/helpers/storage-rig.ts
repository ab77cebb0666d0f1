/**
 * A real hub and a real edge agent for storage tests: the agent joins through the hub's join
 * endpoint (src/edge-agent/join), runs EdgeAgent from its data dir (SQLite cache and outbox,
 * local-path storage), and optionally a PodManager on the local dockerd, wired to the agent's
 * cache and outbox the way the agent's composition root will wire it.
 *
 * Shared dockerd: the runtime is scoped to the test's namespace, so orphan removal and the
 * storage component's "pods still being removed" check never see other tests' containers.
 * Everything is cleaned by id: containers by their pod uid label, directories by path.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import type { KubeObject } from "../../src/api/object.js";
import { EdgeAgent } from "../../src/edge-agent/agent.js";
import { agentPaths, loadAgentConfig, loadCredentials } from "../../src/edge-agent/config.js";
import { joinHub } from "../../src/edge-agent/join/join.js";
import { PodManager, type PodSource, type ReferencedKind } from "../../src/edge-agent/pods/index.js";
import {
  DockerRuntime,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
  LABEL_ROLE,
  type RuntimePod,
} from "../../src/edge-agent/runtime/index.js";
import { parseJoinToken } from "../../src/lib/join-token.js";
import { FACTS, mintToken } from "./edge-agent-sim.js";
import { startHub, type TestHub } from "./hub.js";
import { ensureBusyboxImage } from "./images.js";
import { uniqueNode } from "./transport-fixture.js";

/** DockerRuntime that only sees pods of one namespace (tests share one dockerd). */
export class NamespacedRuntime extends DockerRuntime {
  constructor(
    docker: Docker,
    image: string,
    private readonly ns: string,
  ) {
    super({ docker, sandboxImage: image });
  }
  override async listPods(): Promise<RuntimePod[]> {
    return (await super.listPods()).filter((p) => p.namespace === this.ns);
  }
  override async removeOrphans(desired: ReadonlySet<string>, grace?: number): Promise<string[]> {
    const orphans = (await this.listPods()).map((p) => p.uid).filter((uid) => !desired.has(uid));
    for (const uid of orphans) {
      await this.stopPod(uid, grace);
      await this.removePod(uid);
    }
    return orphans;
  }
}

/** The agent's cache as the pod manager's PodSource. */
function podSource(agent: EdgeAgent): PodSource {
  const c = agent.cache;
  const get = (kind: ReferencedKind, ns: string, name: string): unknown => {
    switch (kind) {
      case "ConfigMap":
        return c.configMap(ns, name);
      case "Secret":
        return c.secret(ns, name);
      case "PersistentVolumeClaim":
        return c.persistentVolumeClaim(ns, name);
      case "PersistentVolume":
        return c.persistentVolume(name);
      default:
        return undefined;
    }
  };
  return {
    pods: () => c.pods() as unknown as KubeObject[],
    get: (kind, ns, name) => get(kind, ns, name) as KubeObject | undefined,
    onChange: (cb) => agent.onCacheChange(() => cb()),
  };
}

export class StorageRig {
  hub!: TestHub;
  agent!: EdgeAgent;
  manager: PodManager | undefined;
  readonly node = uniqueNode("st");
  readonly ns = uniqueNode("ns");
  readonly agentDir = mkdtempSync(join(tmpdir(), "ek-storage-agent-"));
  readonly docker = new Docker();
  private image = "";
  private ports: { httpsPort: number; mqttPort: number } | undefined;

  /** Hub up, namespace created, agent joined and started (pods too when `pods`). */
  async start(opts: { pods?: boolean } = {}): Promise<void> {
    this.hub = await startHub({ leaseFlushIntervalMs: 1000 });
    this.ports = {
      httpsPort: Number(new URL(this.hub.hub.url).port),
      mqttPort: this.hub.hub.mqttAddress.port,
    };
    const token = parseJoinToken(await mintToken(this.hub.hub, this.hub.dataDir));
    await joinHub({
      hubUrl: new URL(this.hub.hub.url),
      token,
      nodeName: this.node,
      nodeIP: "127.0.0.1",
      dataDir: this.agentDir,
      labels: {},
      taints: [],
      useWebSocket: false,
      facts: FACTS,
    });
    await this.hub.kubectl(["create", "namespace", this.ns]);
    if (opts.pods) this.image = ensureBusyboxImage();
    await this.startAgent();
  }

  runtime(): NamespacedRuntime {
    return new NamespacedRuntime(this.docker, this.image, this.ns);
  }

  /** Starts the agent (and the pod manager when images were prepared) from the data dir. */
  async startAgent(): Promise<void> {
    const paths = agentPaths(this.agentDir);
    const runtime = this.image ? this.runtime() : undefined;
    const config = loadAgentConfig(paths);
    this.agent = new EdgeAgent({
      dataDir: this.agentDir,
      config,
      credentials: loadCredentials(paths, config),
      facts: FACTS,
      agentVersion: "test",
      link: { keepaliveSeconds: 2, backoff: { baseMs: 50, maxMs: 500 }, connectTimeoutMs: 2000 },
      replyTimeoutMs: 2000,
      heartbeat: { checkMs: 500, statusMs: 2000 },
      // the production resync (30 s): reclaim must follow events (cache changes, the pod manager's
      // podRemoved), not a short test-only timer that would hide a missed wake-up
      storage: {
        capacityMs: 1000,
        ...(runtime ? { runtimePods: async () => (await runtime.listPods()).map((p) => p.uid) } : {}),
      },
    });
    await this.agent.start();
    if (!runtime) return;
    const agent = this.agent;
    this.manager = new PodManager({
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
          agent.recordEvent({
            apiVersion: "v1",
            kind: "Event",
            metadata: { uid: randomUUID(), namespace: pod.metadata.namespace ?? "" },
            involvedObject: {
              kind: "Pod",
              apiVersion: "v1",
              namespace: pod.metadata.namespace,
              name: pod.metadata.name,
              uid: pod.metadata.uid,
            },
            type,
            reason,
            message,
          }),
      },
      volumeHost: agent.storage,
      onPodRemoved: () => agent.storage.podRemoved(),
      nodeName: this.node,
      hostIP: "127.0.0.1",
      resyncMs: 500,
      airgapDir: false,
      crashBackoff: { baseMs: 400, maxMs: 5000 },
    });
    await this.manager.start();
  }

  /** Stops the pod manager and the agent; containers keep running (as on a real device). */
  async stopAgent(): Promise<void> {
    this.manager?.stop();
    this.manager = undefined;
    await this.agent.stop();
  }

  async stopHub(): Promise<void> {
    await this.hub.stop({ keepData: true });
  }

  /** Starts the hub again on the same data dir and ports (the agent reconnects by itself). */
  async restartHub(): Promise<void> {
    this.hub = await startHub({ dataDir: this.hub.dataDir, leaseFlushIntervalMs: 1000, ...this.ports });
  }

  async cleanup(): Promise<void> {
    await this.stopAgent().catch(() => {});
    await this.hub.stop().catch(() => {});
    const list = await this.docker.listContainers({ all: true, filters: { label: [LABEL_POD_UID] } });
    const mine = list.filter((c) => c.Labels[LABEL_POD_NAMESPACE] === this.ns);
    mine.sort(
      (a, b) => Number(a.Labels[LABEL_ROLE] === "sandbox") - Number(b.Labels[LABEL_ROLE] === "sandbox"),
    );
    for (const c of mine)
      await this.docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => {});
    rmSync(this.agentDir, { recursive: true, force: true });
  }
}
