/**
 * Spec → Docker create options. Pure functions: unit-tested without a daemon.
 *
 * Design notes (each rule is the kubelet's, via dockershim / kuberuntime)
 * - Sandbox: owns the network namespace (`none`, or `host` for hostNetwork), the IPC namespace
 *   ("shareable" so app containers can join it) and the hostname. App containers join all of
 *   them with `container:<sandbox>`; the pid namespace only with shareProcessNamespace.
 * - Command: `command` replaces ENTRYPOINT and then CMD is only `args` (Docker drops the image's
 *   CMD once ENTRYPOINT is given); only `args` keeps the image's ENTRYPOINT. `$(VAR)` in either
 *   expands from the container's env, `$$` escapes, unknown references stay verbatim.
 * - Resources: memory limit → Memory and MemorySwap equal (no swap, like the kubelet), cpu limit
 *   → CFS quota over a 100 ms period (minimum 1 ms), cpu request → CpuShares = milli·1024/1000
 *   clamped to [2, 262144]; no request at all is BestEffort's 2 shares.
 * - Security: runAsUser/runAsGroup → User "uid[:gid]"; runAsGroup alone is refused as dockershim
 *   did; runAsNonRoot is checked against runAsUser or else the image's USER.
 */
import type Docker from "dockerode";
import { toBytes, toMilli } from "../../api/quantity.js";
import { ContainerStartError } from "./errors.js";
import { containerLabels, dockerContainerName, SANDBOX_CONTAINER_NAME } from "./labels.js";
import type { ContainerRuntimeSpec, PodRuntimeSpec, SecurityOptions } from "./runtime.js";

export const DEFAULT_GRACE_SECONDS = 30;
export const CPU_PERIOD_US = 100_000;
const MIN_QUOTA_US = 1_000;
const MIN_SHARES = 2;
const MAX_SHARES = 262_144;

export interface SandboxOptions {
  image: string;
  command: string[];
  attempt: number;
  /**
   * The kubelet gives sandboxes -998 so the OOM killer spares them; lowering the score needs
   * CAP_SYS_RESOURCE in dockerd (absent in some sandboxes/rootless setups), so it is opt-in.
   */
  oomScoreAdj?: number;
}

export interface ContainerContext {
  sandboxId: string;
  role: "init" | "app";
  attempt: number;
  index: number;
  /** the image's configured USER, for the runAsNonRoot check */
  imageUser?: string;
}

export function graceSeconds(pod: PodRuntimeSpec): number {
  const g = pod.terminationGracePeriodSeconds;
  return g === undefined || g < 0 ? DEFAULT_GRACE_SECONDS : g;
}

/** Kubernetes `$(VAR)` expansion (third_party/forked/golang/expansion semantics). */
export function expandVarRefs(input: string, env: ReadonlyMap<string, string>): string {
  let out = "";
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch !== "$" || i + 1 >= input.length) {
      out += ch;
      continue;
    }
    const next = input[i + 1];
    if (next === "$") {
      out += "$";
      i++;
    } else if (next === "(") {
      const close = input.indexOf(")", i + 2);
      if (close < 0) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, close);
      const value = env.get(name);
      out += value ?? `$(${name})`;
      i = close;
    } else {
      out += ch;
    }
  }
  return out;
}

/** The pod hostname as the kubelet sets it: at most 63 characters, no trailing '-' or '.'. */
export function podHostname(pod: PodRuntimeSpec): string {
  const h = (pod.hostname || pod.name).slice(0, 63);
  return h.replace(/[-.]+$/, "");
}

export function cpuShares(requestMilli: number): number {
  if (requestMilli <= 0) return MIN_SHARES;
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, Math.floor((requestMilli * 1024) / 1000)));
}

export function cpuQuota(limitMilli: number): number {
  return Math.max(MIN_QUOTA_US, Math.floor((limitMilli * CPU_PERIOD_US) / 1000));
}

export function resourceHostConfig(c: ContainerRuntimeSpec): Docker.HostConfig {
  const limits = c.resources?.limits ?? {};
  const requests = c.resources?.requests ?? {};
  const hc: Docker.HostConfig = {};
  const cpuRequest = requests.cpu ?? limits.cpu;
  hc.CpuShares = cpuShares(cpuRequest === undefined ? 0 : toMilli(cpuRequest));
  if (limits.cpu !== undefined && toMilli(limits.cpu) > 0) {
    hc.CpuQuota = cpuQuota(toMilli(limits.cpu));
    hc.CpuPeriod = CPU_PERIOD_US;
  }
  if (limits.memory !== undefined && toBytes(limits.memory) > 0) {
    hc.Memory = toBytes(limits.memory);
    hc.MemorySwap = hc.Memory;
  }
  return hc;
}

/** Container settings override the pod's, field by field. */
export function effectiveSecurity(pod: PodRuntimeSpec, c: ContainerRuntimeSpec): SecurityOptions {
  const p = pod.securityContext ?? {};
  const s = c.securityContext ?? {};
  return {
    ...s,
    runAsUser: s.runAsUser ?? p.runAsUser,
    runAsGroup: s.runAsGroup ?? p.runAsGroup,
    runAsNonRoot: s.runAsNonRoot ?? p.runAsNonRoot,
  };
}

function verifyNonRoot(
  pod: PodRuntimeSpec,
  c: ContainerRuntimeSpec,
  sec: SecurityOptions,
  imageUser?: string,
): void {
  if (!sec.runAsNonRoot) return;
  const where = `(pod: "${pod.name}_${pod.namespace}(${pod.uid})", container: ${c.name})`;
  const fail = (msg: string): never => {
    throw new ContainerStartError(c.name, "CreateContainerConfigError", msg);
  };
  if (sec.runAsUser !== undefined) {
    if (sec.runAsUser === 0) fail(`container's runAsUser breaks non-root policy ${where}`);
    return;
  }
  const user = (imageUser ?? "").split(":")[0] ?? "";
  if (user === "" || user === "0" || user === "root")
    fail(`container has runAsNonRoot and image will run as root ${where}`);
  if (!/^\d+$/.test(user)) {
    fail(
      `container has runAsNonRoot and image has non-numeric user (${user}), cannot verify user is non-root ${where}`,
    );
  }
}

export function userString(c: ContainerRuntimeSpec, sec: SecurityOptions): string | undefined {
  if (sec.runAsUser === undefined) {
    if (sec.runAsGroup !== undefined) {
      throw new ContainerStartError(
        c.name,
        "CreateContainerConfigError",
        `container "${c.name}" sets runAsGroup without runAsUser: set runAsUser as well`,
      );
    }
    return undefined;
  }
  return sec.runAsGroup === undefined ? String(sec.runAsUser) : `${sec.runAsUser}:${sec.runAsGroup}`;
}

export function sandboxCreateOptions(
  pod: PodRuntimeSpec,
  opts: SandboxOptions,
): Docker.ContainerCreateOptions {
  const id = {
    podUid: pod.uid,
    podName: pod.name,
    podNamespace: pod.namespace,
    container: SANDBOX_CONTAINER_NAME,
    role: "sandbox" as const,
    attempt: opts.attempt,
    index: 0,
  };
  const hc: Docker.HostConfig = {
    NetworkMode: pod.hostNetwork ? "host" : "none",
    IpcMode: "shareable",
    OomScoreAdj: opts.oomScoreAdj,
    CpuShares: MIN_SHARES,
    RestartPolicy: { Name: "no" },
  };
  if (pod.dns?.nameservers?.length) hc.Dns = pod.dns.nameservers;
  if (pod.dns?.searches?.length) hc.DnsSearch = pod.dns.searches;
  if (pod.dns?.options?.length) hc.DnsOptions = pod.dns.options;
  return {
    name: dockerContainerName(id),
    Image: opts.image,
    Entrypoint: opts.command,
    Cmd: [],
    Hostname: pod.hostNetwork ? undefined : podHostname(pod),
    Labels: containerLabels(id),
    HostConfig: hc,
  };
}

export function containerCreateOptions(
  pod: PodRuntimeSpec,
  c: ContainerRuntimeSpec,
  ctx: ContainerContext,
): Docker.ContainerCreateOptions {
  const envMap = new Map((c.env ?? []).map((e) => [e.name, e.value]));
  const expand = (xs: string[] | undefined) => xs?.map((x) => expandVarRefs(x, envMap));
  const sec = effectiveSecurity(pod, c);
  verifyNonRoot(pod, c, sec, ctx.imageUser);
  const user = userString(c, sec);
  const sandbox = `container:${ctx.sandboxId}`;
  const groups = [...(pod.securityContext?.supplementalGroups ?? [])];
  if (pod.securityContext?.fsGroup !== undefined) groups.push(pod.securityContext.fsGroup);
  const hc: Docker.HostConfig = {
    ...resourceHostConfig(c),
    NetworkMode: sandbox,
    IpcMode: sandbox,
    PidMode: pod.shareProcessNamespace ? sandbox : undefined,
    Privileged: sec.privileged === true,
    ReadonlyRootfs: sec.readOnlyRootFilesystem === true,
    CapAdd: sec.capabilities?.add?.length ? sec.capabilities.add : undefined,
    CapDrop: sec.capabilities?.drop?.length ? sec.capabilities.drop : undefined,
    SecurityOpt: sec.allowPrivilegeEscalation === false ? ["no-new-privileges"] : undefined,
    GroupAdd: groups.length > 0 ? groups.map(String) : undefined,
    Mounts: (c.mounts ?? []).map((m) => ({
      Type: "bind" as const,
      Source: m.hostPath,
      Target: m.containerPath,
      ReadOnly: m.readOnly === true,
    })),
    RestartPolicy: { Name: "no" },
  };
  const ports: Record<string, object> = {};
  for (const p of c.ports ?? []) ports[`${p.containerPort}/${(p.protocol ?? "TCP").toLowerCase()}`] = {};
  const command = expand(c.command);
  const args = expand(c.args);
  const opts: Docker.ContainerCreateOptions = {
    name: dockerContainerName({
      podUid: pod.uid,
      podName: pod.name,
      podNamespace: pod.namespace,
      container: c.name,
      attempt: ctx.attempt,
    }),
    Image: c.image,
    Env: (c.env ?? []).map((e) => `${e.name}=${e.value}`),
    WorkingDir: c.workingDir || undefined,
    User: user,
    Tty: c.tty === true,
    OpenStdin: c.stdin === true,
    StdinOnce: c.stdinOnce === true,
    ExposedPorts: Object.keys(ports).length > 0 ? ports : undefined,
    Labels: containerLabels({
      podUid: pod.uid,
      podName: pod.name,
      podNamespace: pod.namespace,
      container: c.name,
      role: ctx.role,
      attempt: ctx.attempt,
      index: ctx.index,
      graceSeconds: graceSeconds(pod),
      preStop: c.preStop,
    }),
    HostConfig: hc,
  };
  if (command && command.length > 0) {
    opts.Entrypoint = command;
    opts.Cmd = args ?? [];
  } else if (args && args.length > 0) {
    opts.Cmd = args;
  }
  return opts;
}
