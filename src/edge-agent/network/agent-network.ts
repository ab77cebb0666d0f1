/**
 * AgentNetwork: the edge agent's pod network — the overlay library (src/cni) driven by the
 * agent's cache.
 *
 *   cached Nodes ──► own podCIDR ──► VxlanOverlay.setupNode + Masquerade.install + IPAM (SQLite)
 *        │                              └──► node annotations (VTEP MAC, public IP) → hub
 *        └── every Node change ──► peersFromNodes ──► VxlanOverlay.reconcilePeers
 *   pod manager ──► hook.setup(pod, netns) / hook.teardown(pod) ──► PodNetwork.wirePod/unwirePod
 *
 * Design notes
 * - Everything is driven from the local cache, never from the hub directly: after a reboot with
 *   the hub unreachable the cached Nodes (own podCIDR, peers) rebuild the same overlay, and the
 *   kernel state left by the previous run is simply confirmed (setupNode and reconcilePeers
 *   change only what differs, so an agent restart does not disturb pod traffic).
 * - The podCIDR comes from the join answer when the hub had one then, otherwise from this
 *   node's cached Node once the hub's node IPAM controller assigns it. start() does not wait
 *   for it: setup runs on the first Node change that carries it.
 * - Node changes only mark the peer set dirty; one serial loop reconciles, so a burst of
 *   changes (a snapshot after a reconnect) costs one pass. A failed pass is retried on a timer.
 * - The annotations are published through the status path (`publish`), re-sent whenever the
 *   cached own Node lacks them — e.g. after the hub lost them — and never while unchanged.
 * - IPAM leases are reconciled against the running sandboxes at start (a crash between a lease
 *   and its sandbox leaks nothing) and again on request after the pod manager removed orphans.
 */
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { Node } from "kubernetes-types/core/v1";
import { type Exec, hostExec } from "../../cni/exec.js";
import { FlowSteering } from "../../cni/flow-steering.js";
import { HostLocalIpam } from "../../cni/ipam.js";
import { Masquerade, type MasqueradeMode } from "../../cni/masquerade.js";
import { VxlanOverlay } from "../../cni/overlay.js";
import { PodNetwork } from "../../cni/pod-network.js";
import { type Logger, silentLogger } from "../../lib/logger.js";
import type { PodNetwork as PodNetworkHook } from "../pods/ports.js";
import { annotationsCurrent, peersFromNodes, podCIDRFromNodes } from "./node-peers.js";
import { OverlayPodHook, type WiredNetwork } from "./pod-hook.js";

export interface AgentNetworkOptions {
  nodeName: string;
  /** underlay address (the node's InternalIP) */
  nodeIP: string;
  clusterCIDR: string;
  /** from the join answer, when the hub had assigned one by then */
  podCIDR?: string;
  /** underlay interface (`--flannel-iface`); default: the one carrying nodeIP */
  iface?: string;
  /** route same-segment peers without VXLAN (`--flannel-direct-routing`, cni/direct-routing.ts) */
  directRouting?: boolean;
  dataDir: string;
  /** cached Nodes (read-only) */
  nodes: () => Node[];
  /** subscribes to cache changes; the callback says whether any Node changed */
  onNodesChange: (cb: () => void) => () => void;
  /** sends this node's overlay annotations to the hub (status path) */
  publish: (annotations: Record<string, string>) => void;
  /** uids of pods whose sandbox runs now (IPAM reconcile) */
  liveSandboxes: () => Promise<string[]>;
  exec?: Exec;
  masquerade?: MasqueradeMode;
  retryMs?: number;
  logger?: Logger;
  onWired?: (uid: string, ms: number) => void;
}

export class AgentNetwork {
  /** The pod manager's PodNetwork hook. */
  readonly hook: PodNetworkHook;
  private readonly podHook: OverlayPodHook;
  private readonly exec: Exec;
  private readonly log: Logger;
  private readonly base: Logger;
  private overlay: VxlanOverlay | undefined;
  private wired: WiredNetwork | undefined;
  private notReady = "this node has no podCIDR yet (the hub assigns one after the join)";
  private unsubscribe: (() => void) | undefined;
  private loop: Promise<void> = Promise.resolve();
  private dirty = false;
  private retry: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly o: AgentNetworkOptions) {
    this.exec = o.exec ?? hostExec();
    // the parts get the logger as it came: each names its own component (one key per line)
    this.base = o.logger ?? silentLogger();
    this.log = this.base.child({ component: "network", node: o.nodeName });
    this.podHook = new OverlayPodHook({
      exec: this.exec,
      current: () => this.wired ?? this.notReady,
      logger: this.base,
      ...(o.onWired ? { onWired: o.onWired } : {}),
    });
    this.hook = this.podHook;
  }

  /** Leased addresses of the given pods that are wired right now (see OverlayPodHook). */
  wiredAddresses(uids: Iterable<string>): Promise<Map<string, string>> {
    return this.podHook.wiredAddresses(uids);
  }

  /** Sets the overlay up when the podCIDR is known (else on the Node change that brings it). */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.running) return;
    this.running = true;
    signal?.addEventListener("abort", () => this.stop(), { once: true });
    this.unsubscribe = this.o.onNodesChange(() => this.kick());
    this.dirty = true;
    await this.pass();
  }

  /** Stops reacting to Node changes. The overlay and pod wiring stay: pods keep their network. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.unsubscribe?.();
    clearTimeout(this.retry);
    this.wired?.ipam.close();
    this.wired = undefined;
    this.notReady = "the agent is stopping";
  }

  /** Resolves when no reconcile pass is running or pending (tests, bench). */
  async idle(): Promise<void> {
    while (this.dirty) await this.pass();
    await this.loop;
  }

  get ready(): boolean {
    return this.wired !== undefined;
  }

  get podCIDR(): string | undefined {
    return this.overlay?.podCIDR.cidr;
  }

  /**
   * Unwires pods whose sandbox no longer runs (after the pod manager's orphan sweep removed
   * containers without a teardown). Only leases that existed before the listing are judged: a
   * pod wired meanwhile is not in that listing but is alive.
   */
  async reconcileLeases(): Promise<string[]> {
    const net = this.wired;
    if (!net) return [];
    const before = net.ipam.leases().map((l) => l.containerId);
    const live = new Set(await this.o.liveSandboxes());
    const gone = before.filter((uid) => !live.has(uid));
    for (const uid of gone) await net.pods.unwirePod(uid);
    if (gone.length > 0) this.log.info({ released: gone }, "released addresses of pods that no longer run");
    return gone;
  }

  private kick(): void {
    if (!this.running) return;
    this.dirty = true;
    void this.pass();
  }

  private pass(): Promise<void> {
    const run = this.loop.then(async () => {
      if (!this.dirty || !this.running) return;
      this.dirty = false;
      try {
        await this.reconcile();
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, "pod network reconcile failed; retrying");
        clearTimeout(this.retry);
        this.retry = setTimeout(() => this.kick(), this.o.retryMs ?? 2000);
        this.retry.unref();
      }
    });
    this.loop = run;
    return run;
  }

  private async reconcile(): Promise<void> {
    const nodes = this.o.nodes();
    if (!this.overlay) {
      const podCIDR = this.o.podCIDR ?? podCIDRFromNodes(nodes, this.o.nodeName);
      if (!podCIDR) return;
      await this.setUp(podCIDR);
    }
    const overlay = this.overlay;
    if (!overlay) return;
    const cached = podCIDRFromNodes(nodes, this.o.nodeName);
    if (cached && cached !== overlay.podCIDR.cidr) {
      this.log.error(
        { have: overlay.podCIDR.cidr, hub: cached },
        "the hub assigned this node another podCIDR: run `edge-agent reset` and join again",
      );
    }
    this.publishIfNeeded(nodes, overlay);
    const { peers, skipped } = peersFromNodes(nodes, this.o.nodeName);
    for (const s of skipped) this.log.debug({ peer: s.name }, `peer not programmed yet: ${s.reason}`);
    await overlay.reconcilePeers(peers);
  }

  private async setUp(podCIDR: string): Promise<void> {
    if (/^127\./.test(this.o.nodeIP)) {
      // VXLAN over loopback reaches no peer, and the bridge and rules would land on the host
      throw new Error(
        `the node IP ${this.o.nodeIP} is a loopback address: run the agent with --node-ip set to the address peers reach it on`,
      );
    }
    const overlay = new VxlanOverlay(
      {
        nodeName: this.o.nodeName,
        nodeIP: this.o.nodeIP,
        podCIDR,
        clusterCIDR: this.o.clusterCIDR,
        ...(this.o.iface ? { iface: this.o.iface } : {}),
        ...(this.o.directRouting ? { directRouting: true } : {}),
      },
      { exec: this.exec, logger: this.base },
    );
    const setup = await overlay.setupNode();
    const backend = await new Masquerade(
      {
        clusterCIDR: this.o.clusterCIDR,
        mode: this.o.masquerade ?? "auto",
        vxlan: { nodeIP: this.o.nodeIP, port: overlay.port },
      },
      { exec: this.exec, logger: this.base },
    ).install();
    const ipam = new HostLocalIpam({ dbPath: join(this.o.dataDir, "ipam.db"), podCIDR, logger: this.base });
    try {
      const live = await this.o.liveSandboxes();
      const released = ipam.reconcile(live);
      if (released.length > 0) this.log.info({ released }, "released addresses of pods that no longer run");
    } catch (err) {
      ipam.close();
      throw err;
    }
    const pods = new PodNetwork({
      exec: this.exec,
      ipam,
      mtu: setup.mtu,
      bridgeName: overlay.bridgeName,
      steering: new FlowSteering({ exec: this.exec, cpus: availableParallelism() }),
      logger: this.base,
    });
    this.overlay = overlay;
    this.wired = { pods, ipam, bridgeName: overlay.bridgeName };
    this.log.info({ podCIDR, mtu: setup.mtu, masquerade: backend }, "pod network ready");
  }

  /**
   * Sends the annotations when the cached own Node lacks them (first start, or the hub lost
   * them). The outbox keeps one row per key, so repeats while the hub is away cost nothing.
   */
  private publishIfNeeded(nodes: readonly Node[], overlay: VxlanOverlay): void {
    const want = overlay.nodeAnnotations();
    const self = nodes.find((n) => n.metadata?.name === this.o.nodeName);
    if (annotationsCurrent(self?.metadata?.annotations, want)) return;
    this.o.publish(want);
  }
}
