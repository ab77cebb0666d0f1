/**
 * Syncing one desired pod: the body of the reconcile loop (the kubelet's SyncPod).
 *
 * Design notes
 * - Level-triggered: every call re-reads the pod from the runtime and does what differs. Either
 *   the pod must be (re)started — no running sandbox, init containers incomplete, or an app
 *   container missing — and `runPod` does it (it resumes, it never restarts what runs), or it
 *   runs and only exited containers are considered under the restart policy. A pod that runs
 *   as desired is therefore never touched: that is what makes adoption after an agent restart
 *   free of restarts.
 * - Order of a start: volumes → images (events, back-off) → sandbox → network (pod IP) → env
 *   (needs the IP for status.podIP) → runPod. Each failure leaves the pod waiting with
 *   upstream's reason and a requeue time; nothing throws out except unexpected runtime errors,
 *   which the work queue retries with its own back-off.
 * - Restarts go through the CrashLoopBackOff back-off keyed by pod uid + container, measured
 *   from the container's finishedAt, so an agent restart does not reset a running back-off clock
 *   for a crash it did not witness (the delay itself restarts at the base).
 * - Status is written last and reported only when it changed.
 */
import type { Container, Pod, PodStatus } from "kubernetes-types/core/v1";
import type { Logger } from "../../lib/logger.js";
import type { ReconcileResult } from "../../lib/workqueue.js";
import { kubeTime } from "../runtime/docker-status.js";
import { ContainerStartError, ImagePullError, InitContainerError } from "../runtime/errors.js";
import type {
  ContainerRuntime,
  PodRuntimeSpec,
  RuntimeContainerStatus,
  RuntimePod,
} from "../runtime/runtime.js";
import { type Backoff, goDuration } from "./backoff.js";
import { ConfigError, type DownwardContext } from "./downward.js";
import { resolveEnv } from "./env.js";
import { ensurePulled } from "./image-puller.js";
import type { PodState } from "./pod-state.js";
import type { Clock, EventType, PodNetwork, PodSource, StatusReporter, VolumeHost } from "./ports.js";
import type { RunProbe } from "./probe-runner.js";
import { ContainerProbes, probeLabel } from "./probe-worker.js";
import { type ClusterDNS, pullAuth, type ResolvedContainer, runtimeSpec } from "./runtime-spec.js";
import { computePodStatus } from "./status.js";
import { VolumeError } from "./volumes/paths.js";
import { containerMounts, type PreparedVolume, prepareVolumes } from "./volumes/volumes.js";

export interface SyncDeps {
  runtime: ContainerRuntime;
  source: PodSource;
  reporter: StatusReporter;
  volumeHost: VolumeHost;
  network: PodNetwork;
  hostIP?: string;
  nodeLabels: Record<string, string>;
  allocatable: DownwardContext["allocatable"];
  clock: Clock;
  crash: Backoff;
  pulls: Backoff;
  runProbe: RunProbe;
  cluster?: ClusterDNS;
  isRoot: boolean;
  log: Logger;
  enqueue(uid: string): void;
}

const terminated = (s: RuntimeContainerStatus | undefined) =>
  s !== undefined && "terminated" in s.state ? s.state.terminated : undefined;
const isRunning = (s: RuntimeContainerStatus | undefined) => s !== undefined && "running" in s.state;
const ms = (t: string | undefined) => (t ? Date.parse(t) : Number.NaN);

export class PodSyncer {
  constructor(private readonly d: SyncDeps) {}

  private ev(st: PodState, type: EventType, reason: string, message: string): void {
    st.event(this.d.reporter, this.d.clock.now(), type, reason, message);
  }

  private podRef(pod: Pod): string {
    return `${pod.metadata?.name ?? ""}_${pod.metadata?.namespace ?? ""}(${pod.metadata?.uid ?? ""})`;
  }

  downward(st: PodState): DownwardContext {
    return {
      pod: st.obj as unknown as Pod,
      podIP: st.podIP,
      hostIP: this.d.hostIP,
      allocatable: this.d.allocatable,
    };
  }

  async sync(st: PodState): Promise<ReconcileResult> {
    const pod = st.obj as unknown as Pod;
    st.waiting.clear();
    let rt = await this.d.runtime.podStatus(st.uid);
    if (st.lastStatus?.phase === "Succeeded" || st.lastStatus?.phase === "Failed") {
      if (!st.finished) {
        st.stopProbes();
        await this.d.runtime.stopPod(st.uid);
        st.finished = true;
      }
      this.report(st, await this.d.runtime.podStatus(st.uid));
      return undefined;
    }
    st.startTime ??= pod.status?.startTime ?? kubeTime(new Date(this.d.clock.now()).toISOString());
    await this.ensureNetwork(st, rt);
    let volumes: Map<string, PreparedVolume>;
    try {
      volumes = await prepareVolumes(st.obj, this.downward(st), {
        host: this.d.volumeHost,
        source: this.d.source,
        nodeLabels: this.d.nodeLabels,
        isRoot: this.d.isRoot,
        warn: (reason, message) => this.ev(st, "Warning", reason, message),
      });
    } catch (err) {
      if (!(err instanceof VolumeError)) throw err;
      this.ev(st, "Warning", "FailedMount", err.message);
      this.report(st, rt);
      return { requeueAfterMs: this.d.crash.baseMs };
    }
    const spec = pod.spec;
    const initDone = (spec?.initContainers ?? []).every((c) => {
      const r = rt?.containers.find((x) => x.role === "init" && x.name === c.name);
      return terminated(r)?.exitCode === 0;
    });
    const appsPresent = (spec?.containers ?? []).every((c) =>
      rt?.containers.some((x) => x.role === "app" && x.name === c.name && !("waiting" in x.state)),
    );
    let requeue: number | undefined;
    if (!rt?.sandbox?.running || !initDone || !appsPresent) requeue = await this.startPod(st, rt, volumes);
    else requeue = await this.keepRunning(st, rt, volumes);
    rt = await this.d.runtime.podStatus(st.uid);
    this.syncProbes(st, rt);
    this.report(st, rt);
    return requeue !== undefined ? { requeueAfterMs: Math.max(1, requeue) } : undefined;
  }

  /** Sets up (or re-learns, after adoption) the pod's network once per sandbox. */
  private async ensureNetwork(st: PodState, rt: RuntimePod | undefined): Promise<void> {
    const pod = st.obj as unknown as Pod;
    if (pod.spec?.hostNetwork) {
      st.podIP = this.d.hostIP;
      return;
    }
    const sb = rt?.sandbox;
    if (!sb?.running || !sb.netnsPath || st.netSandboxId === sb.id) return;
    const r = await this.d.network.setup(st.obj, sb.netnsPath);
    st.podIP = r.podIP;
    st.netSandboxId = sb.id;
  }

  /** The full runtime spec, or the waiting reason of the container whose config is wrong. */
  private resolve(st: PodState, volumes: ReadonlyMap<string, PreparedVolume>): PodRuntimeSpec | undefined {
    const pod = st.obj as unknown as Pod;
    const ctx = this.downward(st);
    const resolved = new Map<string, ResolvedContainer>();
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      try {
        const r = resolveEnv(c, ctx, (kind, ns, name) => this.d.source.get(kind, ns, name));
        for (const w of r.warnings) this.ev(st, "Warning", "InvalidEnvironmentVariableNames", w);
        const envMap = new Map(r.env.map((e) => [e.name, e.value]));
        resolved.set(c.name, { env: r.env, mounts: containerMounts(c, volumes, envMap) });
      } catch (err) {
        if (!(err instanceof ConfigError) && !(err instanceof VolumeError)) throw err;
        st.waiting.set(c.name, { reason: "CreateContainerConfigError", message: err.message });
        this.ev(st, "Warning", "Failed", `Error: ${err.message}`);
        return undefined;
      }
    }
    return runtimeSpec(pod, resolved, {
      cluster: this.d.cluster,
      auth: pullAuth(pod, this.d.source),
    });
  }

  /** Init containers that failed: CrashLoopBackOff before runPod retries them. */
  private initBackoff(st: PodState, rt: RuntimePod | undefined): number | "never" | undefined {
    const pod = st.obj as unknown as Pod;
    for (const c of pod.spec?.initContainers ?? []) {
      const r = rt?.containers.find((x) => x.role === "init" && x.name === c.name);
      const t = terminated(r);
      if (!t || t.exitCode === 0) continue;
      if ((pod.spec?.restartPolicy ?? "Always") === "Never") return "never";
      return this.backoffGate(st, "init", c.name, t.startedAt, t.finishedAt);
    }
    return undefined;
  }

  /** undefined: go ahead (back-off armed for next time); a number: wait that long. */
  private backoffGate(
    st: PodState,
    role: string,
    name: string,
    startedAt: string,
    finishedAt: string,
  ): number | undefined {
    const pod = st.obj as unknown as Pod;
    const key = `${st.uid}/${role}/${name}`;
    const failedAt = Number.isNaN(ms(finishedAt)) ? this.d.clock.now() : ms(finishedAt);
    const remaining = this.d.crash.remaining(key, failedAt);
    if (remaining > 0) {
      const delay = goDuration(this.d.crash.delay(key) ?? this.d.crash.baseMs);
      st.waiting.set(name, {
        reason: "CrashLoopBackOff",
        message: `back-off ${delay} restarting failed container=${name} pod=${this.podRef(pod)}`,
      });
      this.ev(
        st,
        "Warning",
        "BackOff",
        `Back-off restarting failed container ${name} in pod ${this.podRef(pod)}`,
      );
      return remaining;
    }
    const ranFor = failedAt - ms(startedAt);
    this.d.crash.next(key, failedAt, Number.isNaN(ranFor) ? 0 : ranFor);
    return undefined;
  }

  private async startPod(
    st: PodState,
    rt: RuntimePod | undefined,
    volumes: ReadonlyMap<string, PreparedVolume>,
  ): Promise<number | undefined> {
    const pod = st.obj as unknown as Pod;
    const gate = this.initBackoff(st, rt);
    if (gate === "never") return undefined;
    if (gate !== undefined) return gate;
    let wait: number | undefined;
    const seen = new Set<string>();
    const all: Container[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
    for (const c of all) {
      if (seen.has(c.image ?? "")) continue;
      seen.add(c.image ?? "");
      const r = await ensurePulled(
        {
          runtime: this.d.runtime,
          backoff: this.d.pulls,
          now: () => this.d.clock.now(),
          podUid: st.uid,
          auth: pullAuth(pod, this.d.source),
          event: (type, reason, message) => this.ev(st, type, reason, message),
          failedAt: st.pullFailedAt,
        },
        c,
      );
      if (!r.ok) {
        for (const x of all) if (x.image === c.image) st.waiting.set(x.name, r.waiting);
        wait = Math.min(wait ?? r.retryMs, r.retryMs);
      }
    }
    if (wait !== undefined) return wait;
    let spec = this.resolve(st, volumes);
    if (!spec) return this.d.crash.baseMs;
    const sandbox = await this.d.runtime.runSandbox(spec);
    if (!pod.spec?.hostNetwork && sandbox.netnsPath && st.netSandboxId !== sandbox.id) {
      st.podIP = (await this.d.network.setup(st.obj, sandbox.netnsPath)).podIP;
      st.netSandboxId = sandbox.id;
      spec = this.resolve(st, volumes);
      if (!spec) return this.d.crash.baseMs;
    }
    try {
      const after = await this.d.runtime.runPod(spec, st.abort.signal);
      this.announce(st, after);
    } catch (err) {
      const now = await this.d.runtime.podStatus(st.uid);
      if (now) this.announce(st, now);
      if (st.abort.signal.aborted) return undefined;
      if (err instanceof InitContainerError) return 1;
      if (err instanceof ContainerStartError) {
        st.waiting.set(err.container, { reason: err.reason, message: err.message });
        this.ev(st, "Warning", "Failed", `Error: ${err.message}`);
        return this.d.crash.baseMs;
      }
      if (err instanceof ImagePullError) {
        this.ev(st, "Warning", "Failed", err.message);
        return this.d.pulls.baseMs;
      }
      throw err;
    }
    return undefined;
  }

  /** Created/Started events for containers we have not announced yet. */
  private announce(st: PodState, rt: RuntimePod): void {
    for (const c of rt.containers) {
      if (!c.containerID || st.announced.has(c.containerID) || "waiting" in c.state) continue;
      st.announced.add(c.containerID);
      this.ev(st, "Normal", "Created", `Created container: ${c.name}`);
      this.ev(st, "Normal", "Started", `Started container: ${c.name}`);
    }
  }

  private async keepRunning(
    st: PodState,
    rt: RuntimePod,
    volumes: ReadonlyMap<string, PreparedVolume>,
  ): Promise<number | undefined> {
    const pod = st.obj as unknown as Pod;
    const policy = pod.spec?.restartPolicy ?? "Always";
    let wait: number | undefined;
    let spec: PodRuntimeSpec | undefined;
    const specOnce = () => {
      spec ??= this.resolve(st, volumes);
      return spec;
    };
    for (const c of pod.spec?.containers ?? []) {
      const r = rt.containers.find((x) => x.role === "app" && x.name === c.name);
      const kill = st.kills.get(c.name);
      if (kill && r && isRunning(r) && r.containerID === kill.containerID) {
        st.kills.delete(c.name);
        this.ev(st, "Normal", "Killing", `Container ${c.name} failed ${kill.kind} probe, will be restarted`);
        if (policy === "Never") {
          this.d.log.warn(
            { pod: this.podRef(pod), container: c.name },
            "restartPolicy Never: a failed probe does not restart",
          );
          continue;
        }
        const s = specOnce();
        if (!s) return this.d.crash.baseMs;
        const started = ms("running" in r.state ? r.state.running.startedAt : undefined);
        this.d.crash.next(`${st.uid}/app/${c.name}`, this.d.clock.now(), this.d.clock.now() - started);
        await this.d.runtime.restartContainer(s, c.name);
        continue;
      }
      const t = terminated(r);
      if (!t) continue;
      const restart = policy === "Always" || (policy === "OnFailure" && t.exitCode !== 0);
      if (!restart) continue;
      const gate = this.backoffGate(st, "app", c.name, t.startedAt, t.finishedAt);
      if (gate !== undefined) {
        wait = Math.min(wait ?? gate, gate);
        continue;
      }
      const s = specOnce();
      if (!s) return this.d.crash.baseMs;
      try {
        await this.d.runtime.startContainer(s, c.name);
      } catch (err) {
        if (!(err instanceof ContainerStartError)) throw err;
        st.waiting.set(c.name, { reason: err.reason, message: err.message });
        this.ev(st, "Warning", "Failed", `Error: ${err.message}`);
        wait = Math.min(wait ?? this.d.crash.baseMs, this.d.crash.baseMs);
      }
    }
    const now = await this.d.runtime.podStatus(st.uid);
    if (now) this.announce(st, now);
    return wait;
  }

  /** One ContainerProbes per running app container id; stale ones stopped. */
  private syncProbes(st: PodState, rt: RuntimePod | undefined): void {
    const pod = st.obj as unknown as Pod;
    const live = new Set<string>();
    for (const c of pod.spec?.containers ?? []) {
      const r = rt?.containers.find((x) => x.role === "app" && x.name === c.name);
      if (!r || !("running" in r.state)) continue;
      live.add(c.name);
      const have = st.probes.get(c.name);
      if (have?.containerID === r.containerID) continue;
      have?.set.stop();
      const containerID = r.containerID;
      const set = new ContainerProbes(
        c,
        { podUid: st.uid, container: c, podIP: st.podIP, netnsPath: rt?.sandbox?.netnsPath },
        ms(r.state.running.startedAt) || this.d.clock.now(),
        this.d.runProbe,
        this.d.clock,
        {
          onChange: () => this.d.enqueue(st.uid),
          onFailure: (kind, output) =>
            this.ev(st, "Warning", "Unhealthy", `${probeLabel(kind)} probe failed: ${output}`.trim()),
          onKill: (kind) => {
            st.kills.set(c.name, { containerID, kind: kind === "startup" ? "startup" : "liveness" });
            this.d.enqueue(st.uid);
          },
        },
      );
      st.probes.set(c.name, { containerID, set });
    }
    for (const [name, p] of st.probes) {
      if (!live.has(name)) {
        p.set.stop();
        st.probes.delete(name);
      }
    }
  }

  report(st: PodState, rt: RuntimePod | undefined): void {
    const status = computePodStatus({
      pod: st.obj as unknown as Pod,
      runtime: rt,
      waiting: st.waiting,
      probe: (name, id) => {
        const p = st.probes.get(name);
        if (!p || p.containerID !== id) return { started: false, ready: false };
        return { started: p.set.started, ready: p.set.ready };
      },
      previous: st.lastStatus as PodStatus | undefined,
      podIP: st.podIP,
      hostIP: this.d.hostIP,
      startTime: st.startTime,
      now: kubeTime(new Date(this.d.clock.now()).toISOString()),
    });
    const json = JSON.stringify(status);
    if (json === st.lastStatusJson) return;
    st.lastStatus = status;
    st.lastStatusJson = json;
    this.d.reporter.reportPodStatus(st.obj, status);
  }
}
