/**
 * DockerRuntime: ContainerRuntime on Docker Engine through dockerode.
 *
 * Design notes
 * - Layout of a pod (docs/runtime.md): one sandbox container (`sleep` or a pause image) owning
 *   the network, IPC and UTS namespaces, plus init and app containers joined to it. The CNI
 *   wires the sandbox's namespace via `sandboxNetnsPath`.
 * - Stateless by construction: every answer is rebuilt from Docker (labels + inspect), so a new
 *   instance after an agent restart adopts running pods without touching them.
 * - One operation at a time per pod (a promise chain per uid): a status sync racing a delete
 *   must not create containers into a pod that is being torn down.
 * - A replaced sandbox means a new network namespace: the pod's other containers still sit in
 *   the old one, so they are stopped and the pod starts over from its init containers, as the
 *   kubelet does when a sandbox changes.
 * - The runtime never retries or backs off: each call performs one step and reports; the pod
 *   manager owns restart policy and back-off.
 * - runPod lists the pod's containers once and carries that list through its steps (under the
 *   pod's lock nobody else changes them), adding what it starts; image facts come from a short
 *   cache (image-cache.ts). A fresh pod costs one list, two creates, two starts and two
 *   inspects instead of ~20 calls, which is what let 50 pods start side by side.
 */
import Docker from "dockerode";
import { type Logger, silentLogger } from "../../lib/logger.js";
import { inspectAll, latest, podContainers, removeContainer, stopContainer } from "./docker-lifecycle.js";
import { graceSeconds } from "./docker-mapping.js";
import {
  ensureSandbox,
  findSpec,
  messageOf,
  runInitContainers,
  type StartDeps,
  staleAttempts,
  startAttempt,
} from "./docker-start.js";
import { buildPod, groupByPod, type InspectedContainer, sandboxStatus } from "./docker-status.js";
import { containerExec, containerLogs } from "./docker-streams.js";
import { isDockerNotFound, PodNotFoundError } from "./errors.js";
import { ImageCache } from "./image-cache.js";
import { ensureImage, type ImageInfo, loadImageTar } from "./images.js";
import { LABEL_ROLE, parseIdentity } from "./labels.js";
import type * as rt from "./runtime.js";

export interface DockerRuntimeOptions {
  /** default: the local daemon's socket */
  docker?: Docker;
  /** image of the sandbox container; must be present or pullable (airgap folder on devices) */
  sandboxImage: string;
  /** default ["sleep", "2147483647"]: a pause image passes its own entrypoint, e.g. ["/pause"] */
  sandboxCommand?: string[];
  /** oom_score_adj of sandboxes (the kubelet uses -998); unset leaves Docker's default */
  sandboxOomScoreAdj?: number;
  logger?: Logger;
}

export class DockerRuntime implements rt.ContainerRuntime {
  readonly docker: Docker;
  private readonly log: Logger;
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly deps: StartDeps;
  private readonly images: ImageCache;

  constructor(private readonly opts: DockerRuntimeOptions) {
    this.docker = opts.docker ?? new Docker();
    this.log = (opts.logger ?? silentLogger()).child({ component: "runtime" });
    this.images = new ImageCache(this.docker);
    this.deps = {
      images: this.images,
      docker: this.docker,
      log: this.log,
      sandboxImage: opts.sandboxImage,
      sandboxCommand: opts.sandboxCommand ?? ["sleep", "2147483647"],
      sandboxOomScoreAdj: opts.sandboxOomScoreAdj,
    };
  }

  /** Checks the daemon answers and the sandbox image is usable; rejects with what to fix. */
  async start(_signal?: AbortSignal): Promise<void> {
    try {
      await this.docker.ping();
    } catch (err) {
      throw new Error("cannot reach the Docker daemon: is dockerd running and is its socket readable?", {
        cause: err,
      });
    }
    await ensureImage(this.docker, this.opts.sandboxImage, "IfNotPresent", undefined, this.images);
  }

  async stop(): Promise<void> {}

  private withPod<T>(uid: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(uid) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => {});
    this.locks.set(uid, tail);
    void tail.then(() => {
      if (this.locks.get(uid) === tail) this.locks.delete(uid);
    });
    return next;
  }

  async ensureImage(
    ref: string,
    policy?: rt.PullPolicy,
    auth?: rt.RegistryAuth,
  ): Promise<{ imageID: string }> {
    const { imageID } = await ensureImage(this.docker, ref, policy, auth, this.images);
    return { imageID };
  }

  async loadImageTar(path: string): Promise<string[]> {
    try {
      return await loadImageTar(this.docker, path);
    } finally {
      this.images.forget();
    }
  }

  runSandbox(pod: rt.PodRuntimeSpec): Promise<rt.SandboxStatus> {
    return this.withPod(pod.uid, async () => (await ensureSandbox(this.deps, pod)).status);
  }

  async sandboxNetnsPath(podUid: string): Promise<string> {
    const { current } = latest(
      await podContainers(this.docker, podUid),
      (c) => c.identity.role === "sandbox",
    );
    const status = current ? sandboxStatus(current.info) : undefined;
    if (!status?.netnsPath) throw new PodNotFoundError(podUid, undefined, "running sandbox");
    return status.netnsPath;
  }

  runPod(pod: rt.PodRuntimeSpec, signal?: AbortSignal): Promise<rt.RuntimePod> {
    return this.withPod(pod.uid, async () => {
      const images = new Map<string, ImageInfo>();
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
        if (!images.has(c.image))
          images.set(
            c.image,
            await ensureImage(this.docker, c.image, c.imagePullPolicy, pod.pullAuth, this.images),
          );
      }
      let all = await podContainers(this.docker, pod.uid);
      const sb = await ensureSandbox(this.deps, pod, all);
      // a replaced sandbox stopped and removed containers: only then is the list stale
      if (sb.created) all = all.length === 0 ? [sb.container] : await podContainers(this.docker, pod.uid);
      if ((pod.initContainers ?? []).length > 0) {
        await runInitContainers(this.deps, pod, {
          sandboxId: sb.status.id,
          fresh: sb.created,
          images,
          signal,
        });
        all = await podContainers(this.docker, pod.uid);
      }
      for (const [i, spec] of pod.containers.entries()) {
        signal?.throwIfAborted();
        const mine = latest(all, (c) => c.identity.role === "app" && c.identity.container === spec.name);
        if (mine.current && !sb.created && mine.current.info.State.Status !== "created") continue;
        const started = await startAttempt(this.deps, pod, {
          spec,
          role: "app",
          index: i,
          sandboxId: sb.status.id,
          image: images.get(spec.image),
          existing: all,
        });
        // startAttempt removed the stale attempts: the list follows
        const gone = new Set(staleAttempts(mine.all).map((c) => c.info.Id));
        all = [...all.filter((c) => !gone.has(c.info.Id)), started];
      }
      return buildPod(pod.uid, all);
    });
  }

  private async startOne(pod: rt.PodRuntimeSpec, name: string): Promise<rt.RuntimeContainerStatus> {
    const { spec, role, index } = findSpec(pod, name);
    const status = async () =>
      buildPod(pod.uid, await podContainers(this.docker, pod.uid)).containers.find(
        (c) => c.name === name && c.role === role,
      );
    // idempotent: a running current attempt is the answer, not a reason to start a twin
    const now = await status();
    if (now && "running" in now.state) return now;
    const image = await ensureImage(this.docker, spec.image, spec.imagePullPolicy, pod.pullAuth, this.images);
    const sandbox = await this.sandboxOf(pod.uid);
    await startAttempt(this.deps, pod, { spec, role, index, sandboxId: sandbox.id, image });
    const started = await status();
    if (!started) throw new PodNotFoundError(pod.uid, name, "it vanished right after it started");
    return started;
  }

  private async sandboxOf(podUid: string): Promise<rt.SandboxStatus> {
    const { current } = latest(
      await podContainers(this.docker, podUid),
      (c) => c.identity.role === "sandbox",
    );
    if (!current?.info.State.Running)
      throw new PodNotFoundError(podUid, undefined, "running sandbox (call runSandbox or runPod first)");
    return sandboxStatus(current.info);
  }

  startContainer(pod: rt.PodRuntimeSpec, name: string): Promise<rt.RuntimeContainerStatus> {
    return this.withPod(pod.uid, () => this.startOne(pod, name));
  }

  restartContainer(pod: rt.PodRuntimeSpec, name: string): Promise<rt.RuntimeContainerStatus> {
    return this.withPod(pod.uid, async () => {
      const { current } = latest(
        await podContainers(this.docker, pod.uid),
        (c) => c.identity.role !== "sandbox" && c.identity.container === name,
      );
      if (current) await stopContainer(this.docker, current, graceSeconds(pod), this.log);
      return this.startOne(pod, name);
    });
  }

  stopPod(podUid: string, grace?: number): Promise<void> {
    return this.withPod(podUid, () => this.stopAll(podUid, grace));
  }

  private async stopAll(podUid: string, grace?: number): Promise<void> {
    const all = await podContainers(this.docker, podUid);
    const workload = all.filter((c) => c.identity.role !== "sandbox");
    await Promise.all(
      workload.map((c) => stopContainer(this.docker, c, grace ?? c.identity.graceSeconds ?? 30, this.log)),
    );
    for (const s of all.filter((c) => c.identity.role === "sandbox"))
      await stopContainer(this.docker, s, 0, this.log);
  }

  removePod(podUid: string): Promise<void> {
    return this.withPod(podUid, async () => {
      const all = await podContainers(this.docker, podUid);
      // workload first: removing the sandbox while others still reference its namespaces fails
      for (const c of all.filter((x) => x.identity.role !== "sandbox"))
        await removeContainer(this.docker, c.info.Id);
      for (const c of all.filter((x) => x.identity.role === "sandbox"))
        await removeContainer(this.docker, c.info.Id);
    });
  }

  async podStatus(podUid: string): Promise<rt.RuntimePod | undefined> {
    const all = await podContainers(this.docker, podUid);
    return all.length === 0 ? undefined : buildPod(podUid, all);
  }

  async listPods(): Promise<rt.RuntimePod[]> {
    const pods = groupByPod(await inspectAll(this.docker, []));
    return [...pods.entries()].map(([uid, cs]) => buildPod(uid, cs));
  }

  async removeOrphans(desired: ReadonlySet<string>, grace?: number): Promise<string[]> {
    const list = await this.docker.listContainers({ all: true, filters: { label: [LABEL_ROLE] } });
    const orphans = new Set<string>();
    for (const c of list) {
      const uid = parseIdentity(c.Labels)?.podUid;
      if (uid && !desired.has(uid)) orphans.add(uid);
    }
    for (const uid of orphans) {
      this.log.info({ podUid: uid }, "removing orphaned pod");
      await this.stopPod(uid, grace);
      await this.removePod(uid);
    }
    return [...orphans];
  }

  private async pick(podUid: string, name: string, previous: boolean): Promise<InspectedContainer> {
    const { all } = latest(
      await podContainers(this.docker, podUid),
      (c) => c.identity.role !== "sandbox" && c.identity.container === name,
    );
    const c = previous ? all[1] : all[0];
    if (!c)
      throw new PodNotFoundError(
        podUid,
        name,
        previous ? "previous terminated container not found" : undefined,
      );
    return c;
  }

  async logs(podUid: string, name: string, opts: rt.LogOptions = {}): Promise<rt.LogStreams> {
    const c = await this.pick(podUid, name, opts.previous === true);
    return containerLogs(this.docker, c.info.Id, c.info.Config?.Tty === true, opts);
  }

  async exec(podUid: string, name: string, cmd: string[], opts?: rt.ExecOptions): Promise<rt.ExecSession> {
    const c = await this.pick(podUid, name, false);
    if (!c.info.State.Running)
      throw new PodNotFoundError(podUid, name, "it is not running, so nothing can be executed in it");
    try {
      return await containerExec(this.docker, c.info.Id, cmd, opts);
    } catch (err) {
      if (isDockerNotFound(err)) throw new PodNotFoundError(podUid, name, messageOf(err));
      throw err;
    }
  }
}
