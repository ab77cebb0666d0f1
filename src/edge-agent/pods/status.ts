/**
 * Pod status from what the runtime reports plus what the pod manager knows (back-off, pull
 * errors, probe results). Pure: unit-tested without Docker.
 *
 * Design notes (upstream: kubelet's generateAPIPodStatus / getPhase / status.GeneratePodReadyCondition)
 * - Phase: Pending while an init container is incomplete (Failed if one failed under
 *   restartPolicy Never) or an app container waits for its first start; Running while any runs
 *   or will be restarted; Succeeded when all exited 0; Failed when all exited and one failed
 *   under Never. A container waiting in back-off after a run counts as stopped, not waiting.
 * - Conditions Initialized, Ready, ContainersReady, PodScheduled keep their lastTransitionTime
 *   while their status does not change, so a re-sent status is byte-identical and the manager
 *   only reports real changes.
 * - A container waiting for back-off or an image shows the manager's reason (CrashLoopBackOff,
 *   ImagePullBackOff, CreateContainerConfigError…) with the last run in lastState.
 */
import type { Pod, PodCondition, PodStatus } from "kubernetes-types/core/v1";
import type { ContainerState, RuntimeContainerStatus, RuntimePod } from "../runtime/runtime.js";
import { qosClass } from "./qos.js";

export interface Waiting {
  reason: string;
  message?: string;
}

export interface StatusInput {
  pod: Pod;
  runtime?: RuntimePod;
  /** reasons the manager holds for containers that do not run (by container name) */
  waiting: ReadonlyMap<string, Waiting>;
  /** probe view of running app containers: started (startup probe passed), ready (readiness) */
  probe(name: string, containerID: string): { started: boolean; ready: boolean };
  previous?: PodStatus;
  podIP?: string;
  hostIP?: string;
  startTime?: string;
  /** RFC 3339, for condition transitions */
  now: string;
}

type Json = Record<string, unknown>;

function stateJson(s: ContainerState | undefined): Json {
  if (!s) return {};
  if ("waiting" in s) return { waiting: { ...s.waiting } };
  if ("running" in s) return { running: { ...s.running } };
  return { terminated: { ...s.terminated } };
}

const isRunning = (s: ContainerState | undefined) => s !== undefined && "running" in s;
const exitCodeOf = (s: ContainerState | undefined) =>
  s !== undefined && "terminated" in s ? s.terminated.exitCode : undefined;

interface Built {
  status: Json;
  running: boolean;
  /** current state terminated, or waiting with a terminated last run */
  stopped: boolean;
  exitCode?: number;
}

function buildContainer(
  input: StatusInput,
  name: string,
  image: string,
  rt: RuntimeContainerStatus | undefined,
  init: boolean,
  notStartedReason: string,
): Built {
  const override = input.waiting.get(name);
  let state: Json;
  let last: Json;
  let exitCode = exitCodeOf(rt?.state);
  if (override && !isRunning(rt?.state)) {
    state = { waiting: override.message ? { ...override } : { reason: override.reason } };
    // the dead current attempt is the "last" one while we wait to replace it
    last = rt && "terminated" in rt.state ? stateJson(rt.state) : stateJson(rt?.lastState);
    exitCode = undefined;
  } else if (rt) {
    state = stateJson(rt.state);
    last = stateJson(rt.lastState);
  } else {
    state = { waiting: { reason: notStartedReason } };
    last = {};
  }
  const running = isRunning(rt?.state) && !override;
  const probe = running && rt ? input.probe(name, rt.containerID) : { started: false, ready: false };
  const status: Json = {
    name,
    state,
    lastState: last,
    ready: init ? exitCode === 0 : running && probe.ready,
    restartCount: rt?.restartCount ?? 0,
    image,
    imageID: rt?.imageID ?? "",
  };
  if (rt?.containerID) status.containerID = rt.containerID;
  status.started = init ? running : running && probe.started;
  const lastTerm = (last as { terminated?: { exitCode?: number } }).terminated;
  return {
    status,
    running,
    stopped: exitCode !== undefined || (lastTerm !== undefined && "waiting" in state),
    exitCode: exitCode ?? (override ? lastTerm?.exitCode : undefined),
  };
}

function condition(
  input: StatusInput,
  type: string,
  ok: boolean,
  reason?: string,
  message?: string,
): PodCondition {
  const prev = input.previous?.conditions?.find((c) => c.type === type);
  const status = ok ? "True" : "False";
  const c: PodCondition & Json = {
    type,
    status,
    lastProbeTime: null as unknown as string,
    lastTransitionTime:
      prev && prev.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : input.now,
  };
  if (reason) c.reason = reason;
  if (message) c.message = message;
  return c;
}

export function computePodStatus(input: StatusInput): Json {
  const spec = input.pod.spec;
  const policy = spec?.restartPolicy ?? "Always";
  const rtOf = (role: "init" | "app", name: string) =>
    input.runtime?.containers.find((c) => c.role === role && c.name === name);

  const inits = (spec?.initContainers ?? []).map((c) =>
    buildContainer(input, c.name, c.image ?? "", rtOf("init", c.name), true, "PodInitializing"),
  );
  const incomplete = (spec?.initContainers ?? [])
    .filter((_, i) => inits[i]?.exitCode !== 0)
    .map((c) => c.name);
  const failedInit = inits.some((b) => b.exitCode !== undefined && b.exitCode !== 0);
  const initialized = incomplete.length === 0;
  const apps = (spec?.containers ?? []).map((c) =>
    buildContainer(
      input,
      c.name,
      c.image ?? "",
      rtOf("app", c.name),
      false,
      initialized ? "ContainerCreating" : "PodInitializing",
    ),
  );

  let phase: string;
  const running = apps.filter((a) => a.running).length;
  const stopped = apps.filter((a) => !a.running && a.stopped).length;
  const waiting = apps.length - running - stopped;
  const succeeded = apps.filter((a) => a.exitCode === 0 && !a.running).length;
  if (!initialized) phase = failedInit && policy === "Never" ? "Failed" : "Pending";
  else if (waiting > 0) phase = "Pending";
  else if (running > 0) phase = "Running";
  else if (stopped > 0) {
    if (policy === "Always") phase = "Running";
    else if (stopped === succeeded) phase = "Succeeded";
    else if (policy === "Never") phase = "Failed";
    else phase = "Running";
  } else phase = "Pending";
  if (input.previous?.phase === "Succeeded" || input.previous?.phase === "Failed")
    phase = input.previous.phase;

  const unready = (spec?.containers ?? []).filter((_, i) => !apps[i]?.status.ready).map((c) => c.name);
  const done = phase === "Succeeded" || phase === "Failed";
  const notReady = (msg: string) => (done ? "PodCompleted" : msg);
  const unreadyMsg = `containers with unready status: [${unready.join(" ")}]`;
  const conditions = [
    initialized
      ? condition(input, "Initialized", true, done && inits.length === 0 ? "PodCompleted" : undefined)
      : condition(
          input,
          "Initialized",
          false,
          "ContainersNotInitialized",
          `containers with incomplete status: [${incomplete.join(" ")}]`,
        ),
    unready.length === 0
      ? condition(input, "Ready", true)
      : condition(input, "Ready", false, notReady("ContainersNotReady"), done ? undefined : unreadyMsg),
    unready.length === 0
      ? condition(input, "ContainersReady", true)
      : condition(
          input,
          "ContainersReady",
          false,
          notReady("ContainersNotReady"),
          done ? undefined : unreadyMsg,
        ),
    condition(input, "PodScheduled", true),
  ];

  const status: Json = { phase, conditions };
  if (input.hostIP) {
    status.hostIP = input.hostIP;
    status.hostIPs = [{ ip: input.hostIP }];
  }
  if (input.podIP) {
    status.podIP = input.podIP;
    status.podIPs = [{ ip: input.podIP }];
  }
  if (input.startTime) status.startTime = input.startTime;
  if (inits.length > 0) status.initContainerStatuses = inits.map((b) => b.status);
  status.containerStatuses = apps.map((b) => b.status);
  status.qosClass = qosClass(input.pod);
  return status;
}
