/**
 * PodManager: the agent's reconcile loop from desired pods (PodSource) to Docker (runtime).
 *
 * Design notes (see docs/pods.md)
 * - One WorkQueue keyed by pod uid: source changes, probe results, airgap loads and a periodic
 *   resync only enqueue uids; `reconcile(uid)` decides between sync (desired), graceful
 *   termination (deletionTimestamp) and removal (no longer desired). A uid is never reconciled
 *   twice at once, so a delete cannot race a start of the same pod.
 * - Start-up order matters for offline autonomy: orphans are removed against the *current*
 *   desired set, which therefore must come from a loaded cache (call start after the cache has
 *   restored from SQLite). Pods that run as desired are adopted as they are — the runtime
 *   rebuilds them from labels and a sync of a running pod changes nothing — so an agent restart
 *   never restarts a container.
 * - stop() stops the loop, probes and timers but never the pods: containers outlive the agent.
 * - Container exits are noticed by the periodic resync (level-triggered; `resyncMs`), and
 *   promptly by requeues the sync itself asks for (back-off expiry, probe changes).
 */
import { existsSync, readdirSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import type { KubeObject } from "../../api/object.js";
import { type Logger, silentLogger } from "../../lib/logger.js";
import { type ReconcileResult, WorkQueue } from "../../lib/workqueue.js";
import type { ContainerRuntime, RuntimePod } from "../runtime/runtime.js";
import { AirgapImages } from "./airgap.js";
import { Backoff, type BackoffOptions } from "./backoff.js";
import type { DownwardContext } from "./downward.js";
import { PodState } from "./pod-state.js";
import { PodSyncer } from "./pod-sync.js";
import {
  type Clock,
  noNetwork,
  type PodNetwork,
  type PodSource,
  type StatusReporter,
  systemClock,
  type VolumeHost,
} from "./ports.js";
import { probeRunner, type RunProbe } from "./probe-runner.js";
import type { ClusterDNS } from "./runtime-spec.js";
import { removePodVolumes } from "./volumes/volumes.js";

/** Pods synced at once (see docs/pods.md "Starting many pods": measured with bench/pods). */
export const DEFAULT_CONCURRENCY = 16;

export interface PodManagerOptions {
  runtime: ContainerRuntime;
  source: PodSource;
  reporter: StatusReporter;
  volumeHost: VolumeHost;
  network?: PodNetwork;
  nodeName: string;
  hostIP?: string;
  /** node labels for PV node affinity; kubernetes.io/hostname = nodeName is always included */
  nodeLabels?: Record<string, string>;
  /** for resourceFieldRef of unset limits; default: this machine's cpus and memory */
  allocatable?: Partial<DownwardContext["allocatable"]>;
  clusterDNS?: ClusterDNS;
  clock?: Clock;
  /** CrashLoopBackOff timing (tests shrink baseMs) */
  crashBackoff?: BackoffOptions;
  /** ImagePullBackOff timing */
  pullBackoff?: BackoffOptions;
  /** periodic full resync (default 10 s) */
  resyncMs?: number;
  concurrency?: number;
  /** airgap folder (default DATA_DIR/images); false disables it */
  airgapDir?: string | false;
  airgapRescanMs?: number;
  probe?: RunProbe;
  /**
   * Which pods found in Docker are this manager's to remove as orphans (default: all). Only for
   * several agents (or test suites) sharing one dockerd; a device's agent owns its Docker.
   */
  ownsPod?: (pod: RuntimePod) => boolean;
  /** called once a pod's containers are removed (local-path reclaim waits for that) */
  onPodRemoved?: (uid: string) => void;
  logger?: Logger;
}

export class PodManager {
  private readonly states = new Map<string, PodState>();
  private readonly queue: WorkQueue;
  private readonly syncer: PodSyncer;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly crash: Backoff;
  private readonly pulls: Backoff;
  private airgap?: AirgapImages;
  private unsubscribe?: () => void;
  private resyncTimer: unknown;
  private running = false;
  private desiredMemo: Map<string, KubeObject> | undefined;

  constructor(private readonly opts: PodManagerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = (opts.logger ?? silentLogger()).child({ component: "pods", node: opts.nodeName });
    this.crash = new Backoff(() => this.clock.now(), opts.crashBackoff);
    this.pulls = new Backoff(() => this.clock.now(), opts.pullBackoff);
    this.queue = new WorkQueue((uid) => this.reconcile(uid), {
      concurrency: opts.concurrency ?? DEFAULT_CONCURRENCY,
      baseDelayMs: 500,
      maxDelayMs: 60_000,
      onError: (uid, err) => this.log.warn({ key: uid, err }, "pod sync failed; retrying"),
    });
    this.syncer = new PodSyncer({
      runtime: opts.runtime,
      source: opts.source,
      reporter: opts.reporter,
      volumeHost: opts.volumeHost,
      network: opts.network ?? noNetwork,
      hostIP: opts.hostIP,
      nodeLabels: { "kubernetes.io/hostname": opts.nodeName, ...opts.nodeLabels },
      allocatable: {
        cpuMilli: opts.allocatable?.cpuMilli ?? cpus().length * 1000,
        memoryBytes: opts.allocatable?.memoryBytes ?? totalmem(),
        ephemeralBytes: opts.allocatable?.ephemeralBytes ?? 0,
      },
      clock: this.clock,
      crash: this.crash,
      pulls: this.pulls,
      runProbe: opts.probe ?? probeRunner({ runtime: opts.runtime }),
      cluster: opts.clusterDNS,
      isRoot: process.getuid?.() === 0,
      log: this.log,
      enqueue: (uid) => this.queue.add(uid),
    });
  }

  /**
   * Loads airgap images, removes orphans (containers and pod directories of pods not desired),
   * then reconciles every desired pod and keeps doing so. The source must already be loaded.
   */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.running) return;
    this.running = true;
    signal?.addEventListener("abort", () => this.stop(), { once: true });
    const dir = this.opts.airgapDir ?? join(this.opts.volumeHost.dataDir, "images");
    if (dir !== false) {
      this.airgap = new AirgapImages({
        dir,
        runtime: this.opts.runtime,
        clock: this.clock,
        log: this.log,
        rescanMs: this.opts.airgapRescanMs,
        onLoaded: () => this.enqueueAll(),
      });
      await this.airgap.start();
    }
    const desired = new Set(this.desired().keys());
    const owns = this.opts.ownsPod ?? (() => true);
    for (const p of await this.opts.runtime.listPods()) {
      if (desired.has(p.uid) || !owns(p)) continue;
      this.log.info({ podUid: p.uid, pod: `${p.namespace}/${p.name}` }, "removing orphaned pod");
      await this.remove(p.uid, undefined);
    }
    await this.removeOrphanDirs(desired);
    this.unsubscribe = this.opts.source.onChange((uids) => {
      this.desiredMemo = undefined;
      if (uids === undefined) this.enqueueAll();
      else this.enqueueChanged(uids);
    });
    this.enqueueAll();
    this.scheduleResync();
  }

  /** Stops reconciling; pods keep running (they are adopted by the next start). */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.unsubscribe?.();
    this.airgap?.stop();
    this.clock.clearTimeout(this.resyncTimer);
    this.queue.stop();
    for (const st of this.states.values()) {
      st.stopProbes();
      st.abort.abort();
    }
  }

  /** Resolves when no reconcile is queued or running (tests). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Loads a `docker save` tarball (`edge-agent image import`); resolves with its tags. */
  importImage(path: string): Promise<string[]> {
    return this.opts.runtime.loadImageTar(path);
  }

  private scheduleResync(): void {
    if (!this.running) return;
    this.resyncTimer = this.clock.setTimeout(() => {
      this.enqueueAll();
      this.scheduleResync();
    }, this.opts.resyncMs ?? 10_000);
  }

  /**
   * The desired pods by uid, built once per source change: every reconcile looks its pod up
   * here, and re-reading (and parsing) all pods per reconcile made a batch O(pods²).
   */
  private desired(): Map<string, KubeObject> {
    if (this.desiredMemo) return this.desiredMemo;
    const m = new Map<string, KubeObject>();
    for (const p of this.opts.source.pods()) if (p.metadata.uid) m.set(p.metadata.uid, p);
    this.desiredMemo = m;
    return m;
  }

  private enqueueAll(): void {
    this.desiredMemo = undefined;
    for (const uid of this.desired().keys()) {
      if (!this.states.has(uid)) this.log.debug({ podTrace: "queued", podUid: uid }, "pod phase");
      this.queue.add(uid);
    }
    for (const uid of this.states.keys()) this.queue.add(uid);
  }

  /** Only the pods that changed, plus those no longer desired (a delete names no uid). */
  private enqueueChanged(uids: readonly string[]): void {
    const desired = this.desired();
    for (const uid of uids) {
      this.log.debug({ podTrace: "queued", podUid: uid }, "pod phase");
      this.queue.add(uid);
    }
    for (const uid of this.states.keys()) if (!desired.has(uid)) this.queue.add(uid);
  }

  private async removeOrphanDirs(desired: ReadonlySet<string>): Promise<void> {
    const pods = join(this.opts.volumeHost.dataDir, "pods");
    if (!existsSync(pods)) return;
    for (const uid of readdirSync(pods)) {
      if (desired.has(uid)) continue;
      const stuck = await removePodVolumes(this.opts.volumeHost.dataDir, uid);
      if (stuck.length > 0)
        this.log.warn({ podUid: uid, stuck }, "could not unmount an orphaned pod's volumes");
    }
  }

  private async reconcile(uid: string): Promise<ReconcileResult> {
    if (!this.running) return undefined;
    const obj = this.desired().get(uid);
    let st = this.states.get(uid);
    if (!obj) return this.remove(uid, st);
    if (!st) {
      st = new PodState(obj);
      this.states.set(uid, st);
    }
    st.obj = obj;
    if (obj.metadata.deletionTimestamp) return this.terminate(st);
    return this.syncer.sync(st);
  }

  /** deletionTimestamp set: stop gracefully, keep containers for logs, report final status. */
  private async terminate(st: PodState): Promise<ReconcileResult> {
    if (st.terminated) return undefined;
    const spec = (st.obj.spec ?? {}) as { terminationGracePeriodSeconds?: number };
    const grace = st.obj.metadata.deletionGracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30;
    st.abort.abort();
    st.stopProbes();
    const rt = await this.opts.runtime.podStatus(st.uid);
    for (const c of rt?.containers ?? []) {
      if ("running" in c.state)
        st.event(this.opts.reporter, this.clock.now(), "Normal", "Killing", `Stopping container ${c.name}`);
    }
    await this.opts.runtime.stopPod(st.uid, grace);
    st.terminated = true;
    this.syncer.report(st, await this.opts.runtime.podStatus(st.uid));
    return undefined;
  }

  /** No longer desired: stop (grace from the container labels), remove, tear down, forget. */
  private async remove(uid: string, st: PodState | undefined): Promise<ReconcileResult> {
    st?.abort.abort();
    st?.stopProbes();
    await this.opts.runtime.stopPod(uid);
    await this.opts.runtime.removePod(uid);
    this.opts.onPodRemoved?.(uid);
    const obj = st?.obj ?? { metadata: { uid } };
    await (this.opts.network ?? noNetwork).teardown(obj);
    const stuck = await removePodVolumes(this.opts.volumeHost.dataDir, uid);
    if (stuck.length > 0) throw new Error(`pod ${uid}: cannot unmount ${stuck.join(", ")}; retrying`);
    this.crash.forgetPrefix(`${uid}/`);
    this.pulls.forgetPrefix(`${uid}/`);
    this.states.delete(uid);
    return undefined;
  }
}
