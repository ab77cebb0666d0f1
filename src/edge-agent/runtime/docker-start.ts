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
 */
import type Docker from "dockerode";
import type { Logger } from "../../lib/logger.js";
import { latest, podContainers, removeContainer, stopContainer, waitExit } from "./docker-lifecycle.js";
import { containerCreateOptions, graceSeconds, sandboxCreateOptions } from "./docker-mapping.js";
import { containerState, sandboxStatus } from "./docker-status.js";
import { ContainerStartError, InitContainerError, PodNotFoundError } from "./errors.js";
import { ensureImage, type ImageInfo } from "./images.js";
import type { ContainerRuntimeSpec, PodRuntimeSpec, SandboxStatus } from "./runtime.js";

export interface StartDeps {
  docker: Docker;
  log: Logger;
  sandboxImage: string;
  sandboxCommand: string[];
  sandboxOomScoreAdj?: number;
}

export function messageOf(err: unknown): string {
  const json = (err as { json?: { message?: unknown } } | null)?.json;
  if (json && typeof json.message === "string") return json.message;
  return err instanceof Error ? err.message : String(err);
}

export async function ensureSandbox(
  deps: StartDeps,
  pod: PodRuntimeSpec,
): Promise<{ status: SandboxStatus; created: boolean }> {
  const { docker, log } = deps;
  const all = await podContainers(docker, pod.uid);
  const { current } = latest(all, (c) => c.identity.role === "sandbox");
  if (current?.info.State.Running) return { status: sandboxStatus(current.info), created: false };
  await ensureImage(docker, deps.sandboxImage, "IfNotPresent");
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
  return { status: sandboxStatus(await c.inspect()), created: true };
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
}

/** Creates and starts the next attempt of one container; resolves with its Docker id. */
export async function startAttempt(
  deps: StartDeps,
  pod: PodRuntimeSpec,
  req: AttemptRequest,
): Promise<string> {
  const { docker, log } = deps;
  const { spec, role } = req;
  const { all } = latest(
    await podContainers(docker, pod.uid),
    (c) => c.identity.role === role && c.identity.container === spec.name,
  );
  const attempt = all[0] ? all[0].identity.attempt + 1 : 0;
  // a never-started attempt has nothing worth keeping; otherwise keep exactly one previous
  const keep = all[0] && all[0].info.State.Status !== "created" ? 1 : 0;
  for (const old of all.slice(keep)) await removeContainer(docker, old.info.Id);
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
  return c.id;
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
        : await startAttempt(deps, pod, {
            spec,
            role: "init",
            index,
            sandboxId: opts.sandboxId,
            image: opts.images.get(spec.image),
          });
    await waitExit(deps.docker, id, opts.signal);
    const state = containerState(await deps.docker.getContainer(id).inspect());
    if ("terminated" in state && state.terminated.exitCode !== 0) {
      throw new InitContainerError(spec.name, state.terminated.exitCode, state.terminated.reason);
    }
  }
}
