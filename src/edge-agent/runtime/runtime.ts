/**
 * ContainerRuntime: the contract between the agent's pod manager and whatever runs containers.
 *
 * Design notes
 * - Shaped like virtual-kubelet's PodLifecycleHandler and the kubelet's CRI split: the runtime
 *   knows sandboxes and containers, never the API. The pod manager resolves everything that
 *   needs the API or the cache (env from ConfigMaps/Secrets/fieldRefs, volumes prepared on
 *   disk as bind mounts, pull secrets decoded to credentials) and hands in a `PodRuntimeSpec`.
 * - Every container carries its pod's identity in labels (labels.ts), so the runtime keeps no
 *   state of its own that matters: a restarted agent rebuilds everything from `listPods()`.
 * - Restart policy, back-off (CrashLoopBackOff, ImagePullBackOff) and probes belong to the pod
 *   manager; the runtime reports facts (exit codes, reasons, attempts) and performs one action
 *   per call.
 * - Streams (logs, exec) are plain Node streams so the MQTT plumbing can carry them unchanged.
 */
import type { Readable, Writable } from "node:stream";
import type { Capabilities, ContainerPort, ResourceRequirements } from "kubernetes-types/core/v1";

export type PullPolicy = "Always" | "IfNotPresent" | "Never";

/** Registry credentials for one pull, decoded from an imagePullSecret by the pod manager. */
export interface RegistryAuth {
  username?: string;
  password?: string;
  auth?: string;
  serveraddress?: string;
  identitytoken?: string;
}

/** A host directory (already prepared by the pod manager) bound into a container. */
export interface BindMount {
  hostPath: string;
  containerPath: string;
  readOnly?: boolean;
}

/** The subset of a SecurityContext the runtime applies; container fields override the pod's. */
export interface SecurityOptions {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: Capabilities;
}

export interface PodSecurityOptions {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  supplementalGroups?: number[];
  fsGroup?: number;
}

export interface ContainerRuntimeSpec {
  name: string;
  image: string;
  imagePullPolicy?: PullPolicy;
  /** Kubernetes semantics: command replaces the image's ENTRYPOINT, args its CMD; `$(VAR)` expands from env */
  command?: string[];
  args?: string[];
  workingDir?: string;
  /** already resolved: plain name/value pairs in order */
  env?: { name: string; value: string }[];
  /** informational, as in Kubernetes (recorded as exposed ports) */
  ports?: ContainerPort[];
  resources?: ResourceRequirements;
  securityContext?: SecurityOptions;
  mounts?: BindMount[];
  /** exec command run before the container is stopped, inside the grace period */
  preStop?: string[];
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
}

export interface PodRuntimeSpec {
  uid: string;
  name: string;
  namespace: string;
  /** the pod's hostname (spec.hostname, else the pod name) */
  hostname?: string;
  hostNetwork?: boolean;
  shareProcessNamespace?: boolean;
  /** default 30 s as upstream */
  terminationGracePeriodSeconds?: number;
  securityContext?: PodSecurityOptions;
  dns?: { nameservers?: string[]; searches?: string[]; options?: string[] };
  initContainers?: ContainerRuntimeSpec[];
  containers: ContainerRuntimeSpec[];
  /** credentials tried for pulls of this pod's images */
  pullAuth?: RegistryAuth;
}

export type ContainerRole = "sandbox" | "init" | "app";

export type ContainerState =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: string } }
  | {
      terminated: {
        exitCode: number;
        signal?: number;
        reason: string;
        message?: string;
        startedAt: string;
        finishedAt: string;
        containerID: string;
      };
    };

/** Mirrors core/v1 ContainerStatus as far as the runtime knows it. */
export interface RuntimeContainerStatus {
  name: string;
  role: Exclude<ContainerRole, "sandbox">;
  state: ContainerState;
  lastState?: ContainerState;
  /** the attempt number of the current container: 0 for the first, +1 per restart */
  restartCount: number;
  image: string;
  imageID: string;
  containerID: string;
}

export interface SandboxStatus {
  id: string;
  running: boolean;
  /** host pid of the sandbox's process, 0 when not running */
  pid: number;
  /** /proc/<pid>/ns/net, for the CNI; undefined when not running */
  netnsPath?: string;
}

export interface RuntimePod {
  uid: string;
  name: string;
  namespace: string;
  sandbox?: SandboxStatus;
  /** init containers first in the order they were started, then app containers */
  containers: RuntimeContainerStatus[];
}

export interface LogOptions {
  follow?: boolean;
  tail?: number;
  /** unix seconds */
  since?: number;
  timestamps?: boolean;
  /** logs of the previous attempt (kubectl logs -p) */
  previous?: boolean;
}

export interface LogStreams {
  stdout: Readable;
  stderr: Readable;
  /** stops a follow early; ends both streams */
  close(): void;
}

export interface ExecOptions {
  stdin?: boolean;
  tty?: boolean;
  /** initial terminal size for tty sessions */
  size?: { rows: number; cols: number };
}

export interface ExecSession {
  stdin?: Writable;
  stdout: Readable;
  /** with tty, everything arrives on stdout and this stream just ends */
  stderr: Readable;
  resize(size: { rows: number; cols: number }): Promise<void>;
  /** the command's exit code, once it has exited and its output has been read */
  exitCode: Promise<number>;
}

export interface ContainerRuntime {
  /**
   * Makes `ref` usable. Present and policy not Always → done without network. Missing or Always
   * → pull with `auth`. Never and missing → ImagePullError(ErrImageNeverPull). Pull failures
   * reject with ImagePullError(ErrImagePull); back-off between attempts is the caller's.
   */
  ensureImage(ref: string, policy?: PullPolicy, auth?: RegistryAuth): Promise<{ imageID: string }>;

  /** `docker load` of an image tarball (airgap folder); resolves with the tags it loaded. */
  loadImageTar(path: string): Promise<string[]>;

  /**
   * Ensures the pod's sandbox exists and runs; idempotent. A dead sandbox is replaced (its app
   * containers are then stale: the caller restarts them, as the kubelet does on sandbox change).
   */
  runSandbox(pod: PodRuntimeSpec): Promise<SandboxStatus>;

  /** The sandbox's network namespace file; rejects with PodNotFoundError when not running. */
  sandboxNetnsPath(podUid: string): Promise<string>;

  /**
   * Full start: images, sandbox, init containers one at a time to completion (a failing one
   * rejects with InitContainerError and nothing after it starts), then app containers.
   * Containers already running are left alone, so a retried call resumes where it stopped.
   */
  runPod(pod: PodRuntimeSpec, signal?: AbortSignal): Promise<RuntimePod>;

  /** Creates and starts one container of the pod (sandbox must run) as attempt last+1 (or 0). */
  startContainer(pod: PodRuntimeSpec, name: string): Promise<RuntimeContainerStatus>;

  /** Stops (preStop, SIGTERM, SIGKILL after grace) and starts a fresh attempt of one container. */
  restartContainer(pod: PodRuntimeSpec, name: string): Promise<RuntimeContainerStatus>;

  /**
   * Stops every container of the pod: preStop hooks, SIGTERM, SIGKILL after the grace period
   * (override with `graceSeconds`), then the sandbox. Containers stay for status and logs.
   * May be called many times and for pods it does not know.
   */
  stopPod(podUid: string, graceSeconds?: number): Promise<void>;

  /** Force-removes every container of the pod. Idempotent. */
  removePod(podUid: string): Promise<void>;

  /** Status of one pod rebuilt from Docker; undefined when it has no containers. */
  podStatus(podUid: string): Promise<RuntimePod | undefined>;

  /** Every pod that has containers here, rebuilt from labels (adoption after an agent restart). */
  listPods(): Promise<RuntimePod[]>;

  /** Stops and removes pods whose uid is not in `desired`; resolves with the removed uids. */
  removeOrphans(desired: ReadonlySet<string>, graceSeconds?: number): Promise<string[]>;

  /** Log streams of one container (current attempt, or previous). */
  logs(podUid: string, container: string, opts?: LogOptions): Promise<LogStreams>;

  /** Runs `cmd` in a running container. */
  exec(podUid: string, container: string, cmd: string[], opts?: ExecOptions): Promise<ExecSession>;
}
