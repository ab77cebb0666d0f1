/**
 * Docker inspect → pod status. Pure: unit-tested with recorded inspect documents.
 *
 * Design notes
 * - A pod's status is rebuilt from its containers alone (labels + inspect), never from memory,
 *   which is what makes adoption after an agent restart exact.
 * - Per container name the newest attempt is the current state and the one before it gives
 *   `lastState`, as the kubelet keeps one dead container per name for `kubectl logs -p`.
 * - Reasons are upstream's: OOMKilled when the kernel killed it for memory, Completed for exit 0,
 *   Error otherwise; ContainerCannotRun when Docker created it but could not start it;
 *   ContainerCreating while created and not yet started.
 * - Times are RFC 3339 to the second like metav1.Time; Docker's zero time means "never".
 */
import type Docker from "dockerode";
import { type ContainerIdentity, parseIdentity } from "./labels.js";
import type { ContainerState, RuntimeContainerStatus, RuntimePod, SandboxStatus } from "./runtime.js";

export interface InspectedContainer {
  identity: ContainerIdentity;
  info: Docker.ContainerInspectInfo;
}

const DOCKER_ZERO_TIME = "0001-01-01T00:00:00Z";

/** metav1.Time: RFC 3339 in UTC, whole seconds; "" for Docker's zero time. */
export function kubeTime(dockerTime: string | undefined): string {
  if (!dockerTime || dockerTime.startsWith("0001-01-01")) return "";
  const d = new Date(dockerTime);
  if (Number.isNaN(d.getTime())) return "";
  return d.toISOString().replace(/\.\d+Z$/, "Z");
}

export function dockerContainerID(id: string): string {
  return `docker://${id}`;
}

export function containerState(info: Docker.ContainerInspectInfo): ContainerState {
  const s = info.State;
  if (s.Running || s.Status === "running" || s.Status === "paused" || s.Status === "restarting") {
    return { running: { startedAt: kubeTime(s.StartedAt) } };
  }
  if (s.Status === "created") {
    if (!s.Error) return { waiting: { reason: "ContainerCreating" } };
    return {
      terminated: {
        exitCode: s.ExitCode || 128,
        reason: "ContainerCannotRun",
        message: s.Error,
        startedAt: kubeTime(s.StartedAt),
        finishedAt: kubeTime(s.FinishedAt),
        containerID: dockerContainerID(info.Id),
      },
    };
  }
  const reason = s.OOMKilled ? "OOMKilled" : s.ExitCode === 0 ? "Completed" : "Error";
  const terminated: Extract<ContainerState, { terminated: unknown }>["terminated"] = {
    exitCode: s.ExitCode,
    reason,
    startedAt: kubeTime(s.StartedAt),
    finishedAt: kubeTime(s.FinishedAt === DOCKER_ZERO_TIME ? undefined : s.FinishedAt),
    containerID: dockerContainerID(info.Id),
  };
  if (s.Error) terminated.message = s.Error;
  if (s.ExitCode > 128 && s.ExitCode < 160) terminated.signal = s.ExitCode - 128;
  return { terminated };
}

export function sandboxStatus(info: Docker.ContainerInspectInfo): SandboxStatus {
  const running = info.State.Running === true && info.State.Pid > 0;
  return {
    id: info.Id,
    running,
    pid: running ? info.State.Pid : 0,
    netnsPath: running ? `/proc/${info.State.Pid}/ns/net` : undefined,
  };
}

function containerStatus(current: InspectedContainer, previous?: InspectedContainer): RuntimeContainerStatus {
  const role = current.identity.role === "init" ? "init" : "app";
  const status: RuntimeContainerStatus = {
    name: current.identity.container,
    role,
    state: containerState(current.info),
    restartCount: current.identity.attempt,
    image: current.info.Config?.Image ?? "",
    imageID: current.info.Image ? dockerContainerID(current.info.Image) : "",
    containerID: dockerContainerID(current.info.Id),
  };
  if (previous) status.lastState = containerState(previous.info);
  return status;
}

/** Builds one pod from all of its containers (any attempts, any roles). */
export function buildPod(podUid: string, containers: readonly InspectedContainer[]): RuntimePod {
  const first = containers[0]?.identity;
  const pod: RuntimePod = {
    uid: podUid,
    name: first?.podName ?? "",
    namespace: first?.podNamespace ?? "",
    containers: [],
  };
  const byName = new Map<string, InspectedContainer[]>();
  let sandbox: InspectedContainer | undefined;
  for (const c of containers) {
    if (c.identity.role === "sandbox") {
      if (!sandbox || c.identity.attempt > sandbox.identity.attempt) sandbox = c;
      continue;
    }
    const key = `${c.identity.role}/${c.identity.container}`;
    const list = byName.get(key) ?? [];
    list.push(c);
    byName.set(key, list);
  }
  if (sandbox) pod.sandbox = sandboxStatus(sandbox.info);
  const groups = [...byName.values()].map((list) =>
    list.sort((a, b) => b.identity.attempt - a.identity.attempt),
  );
  groups.sort((a, b) => {
    const x = a[0]!.identity;
    const y = b[0]!.identity;
    if (x.role !== y.role) return x.role === "init" ? -1 : 1;
    return x.index - y.index;
  });
  for (const list of groups) pod.containers.push(containerStatus(list[0]!, list[1]));
  return pod;
}

/** Groups inspected containers by pod uid; containers without our labels are skipped. */
export function groupByPod(infos: readonly Docker.ContainerInspectInfo[]): Map<string, InspectedContainer[]> {
  const pods = new Map<string, InspectedContainer[]>();
  for (const info of infos) {
    const identity = parseIdentity(info.Config?.Labels);
    if (!identity) continue;
    const list = pods.get(identity.podUid) ?? [];
    list.push({ identity, info });
    pods.set(identity.podUid, list);
  }
  return pods;
}
