/**
 * LocalPathStorage: the agent's local-path provisioner. It hands the pod manager each claim's
 * directory (the pod manager's `VolumeHost`), removes directories of released Delete volumes
 * once no pod on this node uses them, and reports the node's free space.
 *
 *   hub PV controller                       agent (this)
 *   provisions PV + finalizer ──sync──►  persistentVolumePath(): mkdir 0777 before the pod starts
 *   PVC deleted → PV Released → delete ─►  reconcile(): unused? rm -r (Delete) / keep (Retain)
 *   StatusWriter drops the finalizer ◄──  report pv/<name> {"result":"Deleted"|"Retained"}
 *   Node annotations storage-*       ◄──  report storage/<node> {capacity, free, paths}
 *
 * Design notes (docs/storage.md)
 * - Level-triggered: every cache change and a periodic resync run one reconcile over the whole
 *   cache; runs never overlap (a change during a run schedules exactly one more).
 * - Offline: everything works from the agent's cache; reports wait in the outbox and reach the
 *   hub when the link returns. After an agent restart the first reconcile repeats whatever is
 *   still due (deleting a missing directory is a no-op; the hub ignores a repeated report).
 * - A volume marked for deletion is refused to new pods, so a directory is never re-created
 *   behind the reclaimer's back.
 * - Waiting on the runtime is event-driven, not left to the resync. With pvc-protection the PV
 *   is released exactly when its last pod leaves, so the pass that sees the release nearly always
 *   finds that pod's containers still being removed. Waiting for the next resync (30 s) made the
 *   directory outlive its pod by up to a whole period — longer under load, when removal itself is
 *   slow and a pass can miss it again (the "not removed within 90 s" flake). Now the pod manager
 *   calls podRemoved() when it has removed a pod, and while a removal is pending a follow-up pass
 *   runs after 1 s, doubling up to the resync period, for removals nobody reports (an operator's
 *   `docker rm`, a restart that adopted an orphan).
 */
import { chmodSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import type { PersistentVolume, Pod } from "kubernetes-types/core/v1";
import type { KubeObject } from "../api/object.js";
import { type Logger, silentLogger } from "../lib/logger.js";
import {
  type DiskSpace,
  readDiskSpace,
  type SpaceByBase,
  type StorageReport,
  significantChange,
  storageReport,
} from "./capacity.js";
import { StoragePathError } from "./names.js";
import { reclaimPlan } from "./reclaim.js";
import { defaultStorageDir, isProvisioned, volumeLocation, volumeNode } from "./volume-path.js";

/** What the storage component reads from the agent's cache (DesiredView fits). */
export interface StorageCache {
  /** desired pods bound to this node */
  pods(): Pod[];
  persistentVolumes(): PersistentVolume[];
}

export interface LocalPathOptions {
  dataDir: string;
  node: string;
  cache: StorageCache;
  /** subscribe to cache changes; returns an unsubscribe */
  onChange(cb: () => void): () => void;
  /** status for the hub through the agent's outbox (`pv/<name>`, `storage/<node>`) */
  report(key: string, status: unknown): void;
  /** uids of pods the container runtime still holds (a pod being removed may still mount) */
  runtimePods?: () => Promise<string[]>;
  /** periodic reconcile (default 30 s) and capacity check (default 60 s) */
  resyncMs?: number;
  capacityMs?: number;
  /** injected in tests; default statfs (of DATA_DIR/storage and of each nodePath base) */
  diskSpace?: (dir: string) => DiskSpace;
  logger?: Logger;
}

export type ReclaimResult = "Deleted" | "Retained";

const RETRY_FIRST_MS = 1000;

export class LocalPathStorage {
  readonly dataDir: string;
  private readonly log: Logger;
  private readonly reported = new Map<string, string>();
  /** the figures of the last capacity report sent (capacity.ts: send only on a real change) */
  private lastSpace: SpaceByBase | undefined;
  private waiting = new Map<string, string>();
  private running: Promise<void> | undefined;
  private again = false;
  private timers: NodeJS.Timeout[] = [];
  /** follow-up pass while a released volume waits on the runtime, and its next delay */
  private retry: NodeJS.Timeout | undefined;
  private retryMs = RETRY_FIRST_MS;
  private off: (() => void) | undefined;
  private started = false;

  constructor(private readonly opts: LocalPathOptions) {
    this.dataDir = opts.dataDir;
    this.log = (opts.logger ?? silentLogger()).child({ component: "local-path", node: opts.node });
  }

  /** Creates DATA_DIR/storage, reclaims what is due from the cache, reports capacity. */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.started) return;
    this.started = true;
    mkdirSync(defaultStorageDir(this.dataDir), { recursive: true, mode: 0o755 });
    signal?.addEventListener("abort", () => this.stop(), { once: true });
    this.off = this.opts.onChange(() => this.kick());
    this.timers.push(setInterval(() => this.kick(), this.opts.resyncMs ?? 30_000));
    this.timers.push(setInterval(() => this.reportCapacity(), this.opts.capacityMs ?? 60_000));
    for (const t of this.timers) t.unref();
    this.reportCapacity();
    // a first pass that cannot run yet (the runtime starts after us) must not fail the agent
    await this.reconcile().catch((err: Error) => {
      this.log.info({ err: err.message }, "first volume reclaim pass deferred");
      this.scheduleRetry(true);
    });
  }

  /** Idempotent; a reconcile in flight finishes its current step. */
  stop(): void {
    this.started = false;
    this.off?.();
    this.off = undefined;
    for (const t of this.timers.splice(0)) clearInterval(t);
    clearTimeout(this.retry);
    this.retry = undefined;
  }

  /** The pod manager removed a pod's containers: volumes waiting on it may go now. */
  podRemoved(): void {
    this.kick();
  }

  /**
   * VolumeHost: the directory of `pv` for `pvc`, created (mode 0777, so any container user can
   * write, as k3s's provisioner does) when provisioned. Throws with what to do otherwise.
   */
  persistentVolumePath(pvObj: KubeObject, _pvc: KubeObject): string {
    const pv = pvObj as unknown as PersistentVolume;
    if (pv.metadata?.deletionTimestamp) {
      throw new StoragePathError(
        `persistentvolume "${pv.metadata.name}" is being deleted: its directory is about to be removed; ` +
          "create a new claim for this pod",
      );
    }
    const loc = volumeLocation(this.dataDir, pv);
    if (!loc.provisioned) {
      if (!existsSync(loc.dir))
        throw new StoragePathError(
          `local volume path ${loc.dir} does not exist on this node: create it first`,
        );
      return loc.dir;
    }
    const base = dirname(loc.dir);
    if (base !== defaultStorageDir(this.dataDir) && !existsSync(base)) {
      throw new StoragePathError(
        `base path ${base} of persistentvolume "${pv.metadata?.name}" does not exist on this node: ` +
          "mount its disk (or create the directory), the pod starts once it exists",
      );
    }
    if (!existsSync(loc.dir)) {
      mkdirSync(loc.dir, { recursive: true });
      this.log.info({ pv: pv.metadata?.name, dir: loc.dir }, "volume directory created");
      queueMicrotask(() => this.reportCapacity());
    }
    chmodSync(loc.dir, 0o777); // mkdir's mode is masked by the umask
    return loc.dir;
  }

  /** Schedules a reconcile; coalesces bursts of cache changes into one extra run. */
  kick(): void {
    if (!this.started) return;
    void this.reconcile().catch((err: Error) => {
      this.log.warn({ err: err.message }, "volume reclaim failed; retrying");
      this.scheduleRetry(true);
    });
  }

  /** One pass over the cache (resolves when this and any pass it absorbed are done). */
  reconcile(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.pass();
        } while (this.again);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async pass(): Promise<void> {
    const pods = this.opts.cache.pods();
    const pvs = this.opts.cache.persistentVolumes();
    const runtimePods = this.opts.runtimePods ? await this.opts.runtimePods() : undefined;
    const plan = reclaimPlan({ node: this.opts.node, pvs, pods, ...(runtimePods ? { runtimePods } : {}) });
    const waiting = new Map<string, string>();
    let onRuntime = false;
    for (const step of plan) {
      const name = step.pv.metadata?.name ?? "";
      if (step.action === "wait") {
        waiting.set(name, step.reason);
        if (step.until === "runtime") onRuntime = true;
        if (this.waiting.get(name) !== step.reason)
          this.log.info({ pv: name, reason: step.reason }, "released volume kept until unused");
        continue;
      }
      let result: ReclaimResult = "Retained";
      if (step.action === "delete") {
        const { dir } = volumeLocation(this.dataDir, step.pv);
        if (existsSync(dir)) {
          rmSync(dir, { recursive: true, force: true });
          this.log.info({ pv: name, dir }, "released volume's directory removed");
        }
        result = "Deleted";
      }
      if (step.report) this.reportReclaim(step.pv, result);
    }
    this.waiting = waiting;
    this.scheduleRetry(onRuntime);
    const present = new Set(pvs.map((pv) => pv.metadata?.name ?? ""));
    for (const name of this.reported.keys()) if (!present.has(name)) this.reported.delete(name);
    // cheap (a statfs per base) and sends only on a real change: picks up a freed directory and
    // a volume on a new nodePath base as soon as the cache shows it
    this.reportCapacity();
  }

  /** while a volume waits on the runtime: one more pass soon (1 s doubling to the resync period) */
  private scheduleRetry(needed: boolean): void {
    if (!needed) {
      this.retryMs = RETRY_FIRST_MS;
      return;
    }
    if (this.retry || !this.started) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.opts.resyncMs ?? 30_000);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.kick();
    }, delay);
    this.retry.unref();
  }

  private reportReclaim(pv: PersistentVolume, result: ReclaimResult): void {
    const name = pv.metadata?.name ?? "";
    const id = `${pv.metadata?.uid ?? ""}/${result}`;
    if (this.reported.get(name) === id) return;
    this.reported.set(name, id);
    this.opts.report(`pv/${name}`, { result, uid: pv.metadata?.uid });
  }

  /**
   * Measures the default base and every other base a volume of this node lives under, and
   * reports them when they changed enough (capacity.ts). Returns the report that would be sent.
   */
  reportCapacity(): StorageReport | undefined {
    if (!this.started) return undefined;
    const measure = this.opts.diskSpace ?? readDiskSpace;
    const space = new Map<string, DiskSpace>();
    try {
      space.set("", measure(defaultStorageDir(this.dataDir)));
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "cannot read the storage dir's free space");
      return undefined;
    }
    for (const base of this.otherBases()) {
      try {
        space.set(base, measure(base));
      } catch {
        // not mounted (yet): nothing to report for it; the pod that needs it says so
      }
    }
    const report = storageReport(space);
    if (report && significantChange(this.lastSpace, space)) {
      this.lastSpace = space;
      this.opts.report(`storage/${this.opts.node}`, report);
    }
    return report;
  }

  /** nodePath bases (not the default) of the provisioned volumes of this node in the cache */
  private otherBases(): string[] {
    const out = new Set<string>();
    const def = defaultStorageDir(this.dataDir);
    for (const pv of this.opts.cache.persistentVolumes()) {
      if (!isProvisioned(pv) || volumeNode(pv) !== this.opts.node) continue;
      try {
        const base = dirname(volumeLocation(this.dataDir, pv).dir);
        if (base !== def) out.add(base);
      } catch {
        // a PV with a suspicious path is refused elsewhere; it has no base to measure
      }
    }
    return [...out].sort();
  }
}
