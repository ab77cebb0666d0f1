/**
 * Node IPAM controller: gives every node a /24 pod CIDR in spec.podCIDR and spec.podCIDRs
 * (the agent's overlay reads it), never reusing a subnet while its node exists.
 *
 * Design notes
 * - start() lists the nodes and occupies their existing CIDRs before any allocation, so a
 *   hub restart cannot hand out a live node's subnet. A node whose CIDR collides or lies
 *   outside the cluster CIDR keeps it (we never rewrite a set podCIDR: the agent has wired
 *   it) and a Warning event says so.
 * - A deleted node releases its subnet. When the range is exhausted the node gets upstream's
 *   `CIDRNotAvailable` event and is retried every 30 s.
 */
import type { KubeObject } from "../../../api/object.js";
import { isNotFound, refs } from "../../../client/client.js";
import type { InformerCache } from "../../../client/informer.js";
import { type ReconcileResult, WorkQueue } from "../../../lib/workqueue.js";
import type { Controller, ControllerDeps } from "../controller.js";
import { CidrAllocator, CidrExhaustedError } from "./cidr-allocator.js";

const COMPONENT = "cidrAllocator";

export class NodeIpamController implements Controller {
  readonly name = "node-ipam";
  readonly allocator: CidrAllocator;
  private readonly nodes: InformerCache;
  private readonly queue: WorkQueue;

  constructor(
    private readonly deps: ControllerDeps,
    clusterCIDR: string,
  ) {
    this.allocator = new CidrAllocator(clusterCIDR);
    this.nodes = deps.informers.informer(refs.nodes);
    this.queue = new WorkQueue((k) => this.reconcile(k), {
      concurrency: 1,
      onError: (key, err) => deps.logger.warn({ key, err }, "pod CIDR allocation failed; retrying"),
    });
  }

  async start(_signal?: AbortSignal): Promise<void> {
    // occupy what existing nodes hold before the first allocation
    const existing = await this.deps.client.list(refs.nodes);
    for (const n of existing.items) this.occupy(n);
    this.nodes.addHandlers({
      onAdd: (n) => this.queue.add(n.metadata.name ?? ""),
      onUpdate: (n) => this.queue.add(n.metadata.name ?? ""),
      onDelete: (n) => {
        this.allocator.release(n.metadata.name ?? "");
      },
    });
    await this.nodes.start();
  }

  stop(): void {
    this.queue.stop();
    this.nodes.stop();
  }

  private occupy(n: KubeObject): boolean {
    const cidr = (n.spec as { podCIDR?: string } | undefined)?.podCIDR;
    if (!cidr) return true;
    return this.allocator.occupy(n.metadata.name ?? "", cidr);
  }

  async reconcile(name: string): Promise<ReconcileResult> {
    const node = this.nodes.get(name);
    if (!node) {
      this.allocator.release(name);
      return;
    }
    const spec = (node.spec ?? {}) as { podCIDR?: string; podCIDRs?: string[] };
    if (spec.podCIDR) {
      if (!this.occupy(node) && this.allocator.cidrOf(name) !== spec.podCIDR) {
        void this.deps.events.record(
          node,
          "Warning",
          "CIDRAssignmentFailed",
          `Node ${name} has pod CIDR ${spec.podCIDR}, which is outside ${this.allocator.clusterCIDR} or held by another node: fix spec.podCIDR or re-register the node`,
          COMPONENT,
        );
      }
      return;
    }
    let cidr: string;
    try {
      cidr = this.allocator.allocate(name);
    } catch (e) {
      if (!(e instanceof CidrExhaustedError)) throw e;
      void this.deps.events.record(
        node,
        "Normal",
        "CIDRNotAvailable",
        `Node ${name} status is now: CIDRNotAvailable`,
        COMPONENT,
      );
      this.deps.logger.warn({ node: name }, e.message);
      return { requeueAfterMs: 30_000 };
    }
    try {
      await this.deps.client.mutate(refs.nodes, undefined, name, (cur) => {
        const s = (cur.spec ?? {}) as { podCIDR?: string };
        if (s.podCIDR) return cur; // someone set it meanwhile: the update event re-reconciles
        return { ...cur, spec: { ...s, podCIDR: cidr, podCIDRs: [cidr] } };
      });
    } catch (e) {
      this.allocator.release(name);
      if (isNotFound(e)) return;
      throw e;
    }
  }
}
