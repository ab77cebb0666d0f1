/**
 * Container lifecycle steps shared by the runtime's verbs: finding a pod's containers, stopping
 * one the way the kubelet does, waiting for one to exit.
 *
 * Design notes
 * - Stop = preStop hook, then SIGTERM, then SIGKILL once the grace period is used up. The hook
 *   runs inside the grace period (upstream: the hook's time counts against it), is bounded by
 *   it, and a failing hook is logged, never fatal: the container still has to stop.
 * - `docker stop -t N` does TERM-then-KILL in the daemon, so a crashing agent mid-stop still
 *   leaves a stopped container, not a half-stopped one.
 * - Listing filters on our role label and the pod uid, then inspects: the list API lacks the
 *   state details (exit code, OOMKilled, times) status needs. A container removed between the
 *   two calls is simply skipped.
 */
import type Docker from "dockerode";
import type { Logger } from "../../lib/logger.js";
import { groupByPod, type InspectedContainer } from "./docker-status.js";
import { containerExec } from "./docker-streams.js";
import { isDockerNotFound, isDockerNotModified } from "./errors.js";
import { LABEL_POD_UID, LABEL_ROLE } from "./labels.js";

export async function inspectAll(
  docker: Docker,
  labelFilters: string[],
): Promise<Docker.ContainerInspectInfo[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [LABEL_ROLE, ...labelFilters] } });
  const infos = await Promise.all(
    list.map(async (c) => {
      try {
        return await docker.getContainer(c.Id).inspect();
      } catch (err) {
        if (isDockerNotFound(err)) return undefined;
        throw err;
      }
    }),
  );
  return infos.filter((i): i is Docker.ContainerInspectInfo => i !== undefined);
}

export async function podContainers(docker: Docker, podUid: string): Promise<InspectedContainer[]> {
  const infos = await inspectAll(docker, [`${LABEL_POD_UID}=${podUid}`]);
  return groupByPod(infos).get(podUid) ?? [];
}

/** Newest attempt of one named container, or of the sandbox with name "POD" and role sandbox. */
export function latest(
  containers: readonly InspectedContainer[],
  pick: (c: InspectedContainer) => boolean,
): { current?: InspectedContainer; all: InspectedContainer[] } {
  const all = containers.filter(pick).sort((a, b) => b.identity.attempt - a.identity.attempt);
  return { current: all[0], all };
}

/** Runs the preStop hook bounded by `timeoutMs`; resolves either way. */
async function runPreStop(
  docker: Docker,
  c: InspectedContainer,
  timeoutMs: number,
  log: Logger,
): Promise<void> {
  const cmd = c.identity.preStop;
  if (!cmd || cmd.length === 0 || timeoutMs <= 0) return;
  let timer: NodeJS.Timeout | undefined;
  try {
    const session = await containerExec(docker, c.info.Id, cmd);
    session.stdout.resume();
    session.stderr.resume();
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const result = await Promise.race([session.exitCode, timeout]);
    if (result === "timeout")
      log.warn({ container: c.identity.container }, "preStop hook did not finish within the grace period");
    else if (result !== 0)
      log.warn({ container: c.identity.container, exitCode: result }, "preStop hook failed");
  } catch (err) {
    log.warn({ container: c.identity.container, err }, "preStop hook could not run");
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** Stops a running container gracefully; a no-op for one that is not running or gone. */
export async function stopContainer(
  docker: Docker,
  c: InspectedContainer,
  graceSeconds: number,
  log: Logger,
): Promise<void> {
  if (!c.info.State.Running) return;
  const started = Date.now();
  if (c.identity.role !== "sandbox") await runPreStop(docker, c, graceSeconds * 1000, log);
  const left = Math.max(0, Math.ceil(graceSeconds - (Date.now() - started) / 1000));
  try {
    await docker.getContainer(c.info.Id).stop({ t: c.identity.role === "sandbox" ? 0 : left });
  } catch (err) {
    if (!isDockerNotFound(err) && !isDockerNotModified(err)) throw err;
  }
}

export async function removeContainer(docker: Docker, id: string): Promise<void> {
  try {
    await docker.getContainer(id).remove({ force: true });
  } catch (err) {
    // gone already, or another removal of it is under way (409): either way it is going
    if (!isDockerNotFound(err) && !isRemovalInProgress(err)) throw err;
  }
}

function isRemovalInProgress(err: unknown): boolean {
  const e = err as { statusCode?: number; message?: string };
  return e?.statusCode === 409 && /already in progress/.test(e.message ?? "");
}

/** Waits until the container has exited (the caller inspects it afterwards). */
export async function waitExit(docker: Docker, id: string, signal?: AbortSignal): Promise<void> {
  await docker.getContainer(id).wait({ condition: "not-running", abortSignal: signal });
}
