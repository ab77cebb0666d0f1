/**
 * Fixture for pod manager integration tests: an in-memory PodSource and a recording
 * StatusReporter (the cache and outbox stand-ins), pods with unique uids/names, a temp data dir,
 * and cleanup of everything a test created: managers stopped, containers removed by their pod
 * uid label (by id), tmpfs mounts unmounted, directories removed.
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import type { KubeObject } from "../../src/api/object.js";
import {
  type EventType,
  localVolumeHost,
  PodManager,
  type PodManagerOptions,
  type PodSource,
  type ReferencedKind,
  type StatusReporter,
} from "../../src/edge-agent/pods/index.js";
import { DockerRuntime, scopeToNode } from "../../src/edge-agent/runtime/index.js";
import { ensureBusyboxImage } from "./images.js";
import { removePodContainers } from "./pod-containers.js";

export class MemorySource implements PodSource {
  private readonly podList = new Map<string, KubeObject>();
  private readonly objects = new Map<string, KubeObject>();
  private readonly listeners = new Set<() => void>();

  pods(): KubeObject[] {
    return [...this.podList.values()];
  }
  get(kind: ReferencedKind, ns: string, name: string): KubeObject | undefined {
    return this.objects.get(`${kind}/${ns}/${name}`);
  }
  onChange(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }
  setPod(p: KubeObject): void {
    this.podList.set(p.metadata.uid ?? "", structuredClone(p));
    this.changed();
  }
  deletePod(uid: string): void {
    this.podList.delete(uid);
    this.changed();
  }
  put(obj: KubeObject): void {
    const kind = obj.kind as ReferencedKind;
    this.objects.set(
      `${kind}/${obj.metadata.namespace ?? ""}/${obj.metadata.name ?? ""}`,
      structuredClone(obj),
    );
    this.changed();
  }
  private changed(): void {
    for (const l of this.listeners) l();
  }
}

export interface RecordedEvent {
  uid: string;
  type: EventType;
  reason: string;
  message: string;
}

// biome-ignore lint/suspicious/noExplicitAny: tests read nested status fields freely
export type AnyStatus = Record<string, any>;

export class RecordingReporter implements StatusReporter {
  readonly statuses = new Map<string, AnyStatus[]>();
  readonly events: RecordedEvent[] = [];
  reportPodStatus(pod: KubeObject, status: Record<string, unknown>): void {
    const uid = pod.metadata.uid ?? "";
    const list = this.statuses.get(uid) ?? [];
    list.push(structuredClone(status));
    this.statuses.set(uid, list);
  }
  recordEvent(pod: KubeObject, type: EventType, reason: string, message: string): void {
    this.events.push({ uid: pod.metadata.uid ?? "", type, reason, message });
  }
  latest(uid: string): AnyStatus | undefined {
    return this.statuses.get(uid)?.at(-1);
  }
  eventsOf(uid: string, reason?: string): RecordedEvent[] {
    return this.events.filter((e) => e.uid === uid && (reason === undefined || e.reason === reason));
  }
}

export class PodsFixture {
  readonly docker = new Docker();
  readonly image = ensureBusyboxImage();
  readonly dataDir = mkdtempSync(join(tmpdir(), "edgekube-pods-"));
  readonly source = new MemorySource();
  readonly reporter = new RecordingReporter();
  /** unique per fixture: orphan removal only touches this fixture's pods on a shared dockerd */
  readonly namespace = `t-${randomUUID().slice(0, 8)}`;
  private readonly uids: string[] = [];
  private readonly managers: PodManager[] = [];
  private readonly dirs: string[] = [this.dataDir];

  /** each fixture is its own "node": listings and orphan removal see only its containers,
   *  so test files sharing one dockerd in parallel never touch each other's pods */
  readonly node = `fixture-${randomUUID().slice(0, 12)}`;

  runtime(): DockerRuntime {
    return new DockerRuntime({ docker: scopeToNode(this.docker, this.node), sandboxImage: this.image });
  }

  manager(over: Partial<PodManagerOptions> = {}): PodManager {
    const m = new PodManager({
      runtime: this.runtime(),
      source: this.source,
      reporter: this.reporter,
      volumeHost: localVolumeHost(this.dataDir),
      nodeName: "node-a",
      hostIP: "127.0.0.1",
      resyncMs: 300,
      crashBackoff: { baseMs: 400, maxMs: 5_000 },
      pullBackoff: { baseMs: 400, maxMs: 5_000 },
      ownsPod: (p) => p.namespace === this.namespace,
      ...over,
    });
    this.managers.push(m);
    return m;
  }

  /** A v1 Pod with a fresh uid and name; `spec` is merged over a one-container default. */
  pod(spec: Record<string, unknown>, meta: Record<string, unknown> = {}): KubeObject {
    const uid = randomUUID();
    this.uids.push(uid);
    return {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: `pm-${uid.slice(0, 8)}`, namespace: this.namespace, uid, ...meta },
      spec: { nodeName: "node-a", restartPolicy: "Always", terminationGracePeriodSeconds: 5, ...spec },
    };
  }

  tempDir(): string {
    const d = mkdtempSync(join(tmpdir(), "edgekube-pods-host-"));
    this.dirs.push(d);
    return d;
  }

  async cleanup(): Promise<void> {
    // stop() ends the loop but not a sync already talking to dockerd: wait for those, or a
    // container they create after the removal below outlives the test (seen once: "Created")
    const managers = this.managers.splice(0);
    for (const m of managers) m.stop();
    await Promise.all(managers.map((m) => m.idle()));
    for (const uid of this.uids.splice(0)) {
      await removePodContainers(this.docker, uid);
    }
    for (const d of this.dirs.splice(0)) {
      const mounts = readFileSync("/proc/self/mountinfo", "utf8")
        .split("\n")
        .map((l) => l.split(" ")[4] ?? "")
        .filter((p) => p.startsWith(`${d}/`));
      for (const m of mounts.sort((a, b) => b.length - a.length)) execFileSync("umount", [m]);
      rmSync(d, { recursive: true, force: true });
    }
  }
}
