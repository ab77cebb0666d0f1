/**
 * A simulated kubelet for control-plane tests (not a product feature): registers Node
 * objects, renews their Leases, moves pods bound to them to Running/Ready (or Succeeded for
 * pods whose containers are marked to complete) and finishes graceful deletions.
 */
import type { KubeObject } from "../../src/api/object.js";
import { type Client, isConflict, isNotFound, refs } from "../../src/client/client.js";
import { Informer, type InformerCache } from "../../src/client/informer.js";

export interface SimNodeOptions {
  name: string;
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: string }[];
  arch?: string;
}

export interface KubeletSimOptions {
  leaseRenewMs?: number;
  /**
   * Pods whose annotation `sim.edgekube.io/exit` is "0"/"1" finish Succeeded/Failed; for pods
   * without it this decides (e.g. pods made by kubectl, whose template a test cannot annotate).
   * Return undefined to let the pod run.
   */
  exitCode?: (pod: KubeObject) => string | undefined;
  /**
   * read pods from this cache (e.g. the hub's shared pod informer) instead of a private one:
   * benchmarks that measure the hub's memory must not count a second copy of every pod
   */
  pods?: InformerCache;
}

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

export class KubeletSim {
  private readonly nodes = new Map<string, SimNodeOptions>();
  private informer: InformerCache | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ipSeq = 2;
  private stopped = false;

  constructor(
    private readonly client: Client,
    private readonly opts: KubeletSimOptions = {},
  ) {}

  async addNode(n: SimNodeOptions): Promise<KubeObject> {
    this.nodes.set(n.name, n);
    const node: KubeObject = {
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name: n.name,
        labels: {
          "kubernetes.io/hostname": n.name,
          "kubernetes.io/os": "linux",
          "kubernetes.io/arch": n.arch ?? "amd64",
          ...(n.labels ?? {}),
        },
      },
      spec: { ...(n.taints ? { taints: n.taints } : {}) },
    };
    const created = await this.client.create(refs.nodes, undefined, node);
    return this.client.mutate(
      refs.nodes,
      undefined,
      created.metadata.name!,
      (cur) => ({
        ...cur,
        status: {
          capacity: { cpu: n.cpu ?? "4", memory: n.memory ?? "8Gi", pods: n.pods ?? "110" },
          allocatable: { cpu: n.cpu ?? "4", memory: n.memory ?? "8Gi", pods: n.pods ?? "110" },
          conditions: [
            {
              type: "Ready",
              status: "True",
              reason: "KubeletReady",
              message: "simulated",
              lastHeartbeatTime: now(),
              lastTransitionTime: now(),
            },
          ],
          addresses: [
            { type: "InternalIP", address: `198.51.100.${10 + this.nodes.size}` },
            { type: "Hostname", address: n.name },
          ],
          nodeInfo: {
            architecture: n.arch ?? "amd64",
            operatingSystem: "linux",
            kubeletVersion: "v1.32.0-edgekube",
            containerRuntimeVersion: "sim://1",
            kernelVersion: "6",
            osImage: "sim",
            machineID: "",
            systemUUID: "",
            bootID: "",
            kubeProxyVersion: "",
          },
        },
      }),
      { status: true },
    );
  }

  async removeNode(name: string): Promise<void> {
    this.nodes.delete(name);
    await this.client.delete(refs.nodes, undefined, name).catch(() => {});
  }

  /** stop heartbeats for a node (it goes unreachable for the node lifecycle controller) */
  silence(name: string): void {
    this.nodes.delete(name);
  }

  async start(): Promise<void> {
    this.informer = this.opts.pods ?? new Informer(this.client, refs.pods);
    this.informer.addHandlers({ onAdd: (p) => void this.sync(p), onUpdate: (p) => void this.sync(p) });
    await this.informer.start();
    const renew = async () => {
      for (const name of this.nodes.keys()) await this.renewLease(name).catch(() => {});
      if (!this.stopped) this.timer = setTimeout(renew, this.opts.leaseRenewMs ?? 1000);
    };
    await renew();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.informer?.stop();
  }

  private async renewLease(name: string): Promise<void> {
    const spec = {
      holderIdentity: name,
      leaseDurationSeconds: 40,
      // MicroTime: six fractional digits
      renewTime: new Date().toISOString().replace("Z", "000Z"),
    };
    const existing = await this.client.get(refs.leases, "kube-node-lease", name);
    if (!existing) {
      await this.client.create(refs.leases, "kube-node-lease", {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name },
        spec,
      });
      return;
    }
    await this.client.mutate(refs.leases, "kube-node-lease", name, (cur) => ({
      ...cur,
      spec: { ...(cur.spec as object), ...spec },
    }));
  }

  private sync(pod: KubeObject): Promise<void> {
    // a status write racing a deletion or a newer write is not a test failure: log-free retry on next event
    return this.syncOnce(pod).catch(() => undefined);
  }

  private async syncOnce(pod: KubeObject): Promise<void> {
    const spec = pod.spec as { nodeName?: string; containers?: { name: string; image: string }[] };
    const node = spec.nodeName;
    if (!node || !this.nodes.has(node)) return;
    const name = pod.metadata.name!;
    const ns = pod.metadata.namespace!;
    try {
      if (pod.metadata.deletionTimestamp) {
        await this.client.delete(refs.pods, ns, name, { gracePeriodSeconds: 0 });
        return;
      }
      const status = (pod.status ?? {}) as { phase?: string };
      if (status.phase === "Running" || status.phase === "Succeeded" || status.phase === "Failed") return;
      const exit = pod.metadata.annotations?.["sim.edgekube.io/exit"] ?? this.opts.exitCode?.(pod);
      const t = now();
      const terminated = exit !== undefined;
      const phase = terminated ? (exit === "0" ? "Succeeded" : "Failed") : "Running";
      const ready = terminated ? "False" : "True";
      const ip = `10.42.0.${(this.ipSeq++ % 250) + 2}`;
      const withStatus = (cur: KubeObject): KubeObject => ({
        ...cur,
        status: {
          ...(cur.status as object),
          phase,
          hostIP: "198.51.100.10",
          podIP: ip,
          podIPs: [{ ip }],
          startTime: t,
          conditions: [
            { type: "PodScheduled", status: "True", lastTransitionTime: t },
            { type: "Initialized", status: "True", lastTransitionTime: t },
            { type: "ContainersReady", status: ready, lastTransitionTime: t },
            { type: "Ready", status: ready, lastTransitionTime: t },
          ],
          containerStatuses: (spec.containers ?? []).map((c) => ({
            name: c.name,
            image: c.image,
            imageID: `sim://${c.image}`,
            containerID: `sim://${name}-${c.name}`,
            ready: !terminated,
            started: !terminated,
            restartCount: 0,
            state: terminated
              ? {
                  terminated: {
                    exitCode: Number(exit),
                    reason: exit === "0" ? "Completed" : "Error",
                    startedAt: t,
                    finishedAt: t,
                  },
                }
              : { running: { startedAt: t } },
          })),
        },
      });
      // as a kubelet does: one status update from the watched copy (its resourceVersion), and a
      // read-modify-write only when that copy was stale (409)
      try {
        await this.client.updateStatus(refs.pods, ns, withStatus(pod));
      } catch (e) {
        if (!isConflict(e)) throw e;
        await this.client.mutate(refs.pods, ns, name, withStatus, { status: true });
      }
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}
