/**
 * Host-side helpers of the dev cluster: prerequisite checks with what to install, the command
 * lines of the processes it starts, polling with a deadline, and unmounting what dockerd leaves.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isAlive, type RecordedProc, tail } from "./procs.js";
import type { ClusterState, NodeState } from "./state.js";

export function hubArgs(s: ClusterState): string[] {
  return [
    s.launcher,
    "hub",
    "server",
    "--data-dir",
    s.hubDir,
    "--bind-address",
    s.hostIP,
    "--advertise-address",
    s.hostIP,
    "--tls-san",
    s.hostIP,
    "--https-port",
    String(s.httpsPort),
    "--mqtt-port",
    String(s.mqttPort),
  ];
}

/** nsenter --net (not ip netns exec: that remounts /sys and hides the cgroup mounts). */
export function dockerdArgs(n: NodeState): string[] {
  return [
    `--net=/run/netns/${n.netns}`,
    "dockerd",
    "--config-file",
    join(n.dir, "daemon.json"),
    "--data-root",
    join(n.dir, "docker"),
    "--exec-root",
    join(n.dir, "exec"),
    "-H",
    `unix://${n.dockerSock}`,
    "--pidfile",
    join(n.dir, "docker.pid"),
    "--bridge=none",
    "--iptables=false",
    "--ip-forward=false",
    "--ip-masq=false",
    "--log-level",
    "warn",
  ];
}

/**
 * nsenter arguments of a node's agent. `command` is how the agent is invoked: by default
 * `node <launcher> agent`; a release executable is `[<exe>, "agent"]` (the arm64 one runs
 * under qemu-user through binfmt, so it needs no wrapper here).
 */
export function agentArgs(
  s: ClusterState,
  n: NodeState,
  mode: "join" | "run",
  extra: string[],
  command: string[] = ["node", s.launcher, "agent"],
): string[] {
  const cmd =
    mode === "join"
      ? [
          "join",
          `https://${s.hostIP}:${s.httpsPort}`,
          "--token",
          s.token ?? "",
          "--node-name",
          n.name,
          "--node-ip",
          n.ip,
        ]
      : ["run"];
  return [`--net=/run/netns/${n.netns}`, ...command, ...cmd, "--data-dir", join(n.dir, "agent"), ...extra];
}

/** Polls `ready` until true; fails at once with the log tail when `proc` died. */
export async function until(
  what: string,
  proc: RecordedProc | undefined,
  ready: () => Promise<boolean>,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    try {
      if (await ready()) return;
    } catch (err) {
      last = (err as Error).message;
    }
    if (proc && !isAlive(proc))
      throw new Error(`waiting for ${what}: pid ${proc.pid} exited; its log ends:\n${tail(proc.log)}`);
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}${last ? ` (${last})` : ""}${proc ? `; log ${proc.log}:\n${tail(proc.log)}` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Unmounts what dockerd left below `dir` (netns bind mounts, overlay mounts), deepest first. */
export function unmountBelow(dir: string): void {
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => (l.split(" ")[4] ?? "").replace(/\\040/g, " "))
    .filter((m) => m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    try {
      execFileSync("umount", [m], { stdio: "ignore" });
    } catch {
      execFileSync("umount", ["-l", m], { stdio: "ignore" });
    }
  }
}

export function checkPrerequisites(): void {
  if (process.getuid?.() !== 0)
    throw new Error("the dev cluster needs root (network namespaces, dockerd): run it with sudo");
  for (const [tool, pkg] of [
    ["ip", "iproute2"],
    ["nsenter", "util-linux"],
    ["dockerd", "docker.io"],
    ["docker", "docker.io"],
    ["nft", "nftables"],
  ] as const) {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    } catch {
      throw new Error(`${tool} is missing: install it (apt-get install ${pkg})`);
    }
  }
  try {
    execFileSync("docker", ["info", "--format", "{{.ServerVersion}}"], { stdio: "ignore", timeout: 15_000 });
  } catch {
    throw new Error(
      "the host's Docker daemon does not answer (the busybox image is built there): start it (scripts/prereqs.sh)",
    );
  }
}
