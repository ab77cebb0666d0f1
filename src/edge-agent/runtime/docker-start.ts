/**
 * Starting things: the sandbox and one attempt of a container. Used by DockerRuntime's verbs.
 *
 * Design notes
 * - Attempts: each (re)start creates a new container named …_<attempt>, never restarts an old
 *   one, so exit code, OOMKilled and logs of the previous run survive for `lastState` and
 *   `kubectl logs -p`. One previous attempt is kept; older ones are removed here.
 * - A sandbox that is not running is replaced (attempt+1), never restarted: its network
 *   namespace died with it. Containers that had joined it are stopped so the caller starts them
 *   again into the new namespaces.
 * - Errors say which step failed with Docker's own message, as CreateContainerError or
 *   RunContainerError, the waiting reasons upstream reports.
 * - Docker calls are counted: a caller that already listed the pod's containers passes them in
 *   (`known`, `existing`) instead of having each step list and inspect the pod again, and each
 *   started container is inspected once, by id, for its state. With 50 pods starting together
 *   the per-pod list + inspect-everything calls were most of dockerd's work (bench/pods).
 */
import type Docker from "dockerode";
import type { Logger } from "../../lib/logger.js";
import { latest, podContainers, removeContainer, stopContainer, waitExit } from "./docker-lifecycle.js";
import { containerCreateOptions, graceSeconds, sandboxCreateOptions } from "./docker-mapping.js";
import { containerState, type InspectedContainer, sandboxStatus } from "./docker-status.js";
import { ContainerStartError, InitContainerError, isDockerNotFound, PodNotFoundError } from "./errors.js";
import type { ImageCache } from "./image-cache.js";
import { ensureImage, type ImageInfo } from "./images.js";
import { parseIdentity } from "./labels.js";
import type { ContainerRuntimeSpec, PodRuntimeSpec, SandboxStatus } from "./runtime.js";

export interface StartDeps {
  docker: Docker;
  log: Logger;
  sandboxImage: string;
  sandboxCommand: string[];
  sandboxOomScoreAdj?: number;
  images: ImageCache;
}

/** One inspect of a container we just created, as the status code wants it. */
async function inspected(c: Docker.Container): Promise<InspectedContainer> {
  const info = await c.inspect();
  const identity = parseIdentity(info.Config?.Labels);
  if (!identity) throw new Error(`container ${info.Id} lost its edgekube labels right after creation`);
  return { identity, info };
}

export function messageOf(err: unknown): string {
  const json = (err as { json?: { message?: unknown } } | null)?.json;
  if (json && typeof json.message === "string") return json.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * The running sandbox, or a new one. `known` is the pod's containers as the caller just listed
 * them (under the pod's lock); without it they are listed here.
 */
export async function ensureSandbox(
  deps: StartDeps,
  pod: PodRuntimeSpec,
  known?: InspectedContainer[],
): Promise<{ status: SandboxStatus; created: boolean; container: InspectedContainer }> {
  const { docker, log } = deps;
  const all = known ?? (await podContainers(docker, pod.uid));
  const { current } = latest(all, (c) => c.identity.role === "sandbox");
  if (current?.info.State.Running)
    return { status: sandboxStatus(current.info), created: false, container: current };
  await ensureImage(docker, deps.sandboxImage, "IfNotPresent", undefined, deps.images);
  const attempt = current ? current.identity.attempt + 1 : 0;
  // containers that joined the dead sandbox's namespaces must start over in the new ones
  for (const other of all) {
    if (other.identity.role !== "sandbox") await stopContainer(docker, other, graceSeconds(pod), log);
  }
  if (current) await removeContainer(docker, current.info.Id);
  const create = sandboxCreateOptions(pod, {
    image: deps.sandboxImage,
    command: deps.sandboxCommand,
    attempt,
    oomScoreAdj: deps.sandboxOomScoreAdj,
  });
  const c = await docker.createContainer(create);
  try {
    await c.start();
  } catch (err) {
    throw new Error(`starting the sandbox of pod ${pod.namespace}/${pod.name} failed: ${messageOf(err)}`, {
      cause: err,
    });
  }
  log.info({ pod: `${pod.namespace}/${pod.name}`, attempt }, "sandbox started");
  const container = await inspected(c);
  return { status: sandboxStatus(container.info), created: true, container };
}

export function findSpec(
  pod: PodRuntimeSpec,
  name: string,
): { spec: ContainerRuntimeSpec; role: "init" | "app"; index: number } {
  const a = pod.containers.findIndex((c) => c.name === name);
  if (a >= 0) return { spec: pod.containers[a]!, role: "app", index: a };
  const i = (pod.initContainers ?? []).findIndex((c) => c.name === name);
  if (i >= 0) return { spec: pod.initContainers![i]!, role: "init", index: i };
  throw new PodNotFoundError(pod.uid, name, "it is not in the pod's spec");
}

export interface AttemptRequest {
  spec: ContainerRuntimeSpec;
  role: "init" | "app";
  index: number;
  sandboxId: string;
  image?: ImageInfo;
  /** the pod's containers as the caller listed them under the pod's lock (else listed here) */
  existing?: readonly InspectedContainer[];
}

/**
 * Attempts (newest first) that a new attempt replaces: a never-started newest attempt has
 * nothing worth keeping; otherwise exactly one previous attempt stays for lastState and logs.
 */
export function staleAttempts(newestFirst: readonly InspectedContainer[]): InspectedContainer[] {
  const first = newestFirst[0];
  const keep = first && first.info.State.Status !== "created" ? 1 : 0;
  return newestFirst.slice(keep);
}

/** Creates and starts the next attempt of one container; resolves with it, inspected. */
export async function startAttempt(
  deps: StartDeps,
  pod: PodRuntimeSpec,
  req: AttemptRequest,
): Promise<InspectedContainer> {
  const { docker, log } = deps;
  const { spec, role } = req;
  const { all } = latest(
    req.existing ?? (await podContainers(docker, pod.uid)),
    (c) => c.identity.role === role && c.identity.container === spec.name,
  );
  const attempt = all[0] ? all[0].identity.attempt + 1 : 0;
  for (const old of staleAttempts(all)) await removeContainer(docker, old.info.Id);
  const options = containerCreateOptions(pod, spec, {
    sandboxId: req.sandboxId,
    role,
    attempt,
    index: req.index,
    imageUser: req.image?.user,
  });
  let c: Docker.Container;
  try {
    c = await docker.createContainer(options);
  } catch (err) {
    // "No such image": removed behind the cache's back; the next attempt inspects it again
    if (isDockerNotFound(err)) deps.images.forget(spec.image);
    const msg = `creating container "${spec.name}" failed: ${messageOf(err)}`;
    throw new ContainerStartError(spec.name, "CreateContainerError", msg, { cause: err });
  }
  try {
    await c.start();
  } catch (err) {
    const msg = `starting container "${spec.name}" failed: ${messageOf(err)}`;
    throw new ContainerStartError(spec.name, "RunContainerError", msg, { cause: err });
  }
  log.info({ pod: `${pod.namespace}/${pod.name}`, container: spec.name, attempt }, "container started");
  return inspected(c);
}

/**
 * Runs init containers one at a time, each to completion. Ones that already completed for
 * this sandbox are skipped and a running one is waited for, so a retried runPod resumes; with a
 * fresh sandbox all of them run again. A non-zero exit throws InitContainerError.
 */
export async function runInitContainers(
  deps: StartDeps,
  pod: PodRuntimeSpec,
  opts: { sandboxId: string; fresh: boolean; images: ReadonlyMap<string, ImageInfo>; signal?: AbortSignal },
): Promise<void> {
  for (const [index, spec] of (pod.initContainers ?? []).entries()) {
    opts.signal?.throwIfAborted();
    const { current } = latest(
      await podContainers(deps.docker, pod.uid),
      (c) => c.identity.role === "init" && c.identity.container === spec.name,
    );
    const s = current?.info.State;
    if (!opts.fresh && s?.Status === "exited" && s.ExitCode === 0) continue;
    const id =
      current && s?.Running && !opts.fresh
        ? current.info.Id
        : (
            await startAttempt(deps, pod, {
              spec,
              role: "init",
              index,
              sandboxId: opts.sandboxId,
              image: opts.images.get(spec.image),
            })
          ).info.Id;
    await waitExit(deps.docker, id, opts.signal);
    const state = containerState(await deps.docker.getContainer(id).inspect());
    if ("terminated" in state && state.terminated.exitCode !== 0) {
      throw new InitContainerError(spec.name, state.terminated.exitCode, state.terminated.reason);
    }
  }
}
