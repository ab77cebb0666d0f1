/**
 * Node facts: what the hub needs to register and schedule onto this device (architecture, OS,
 * kernel, CPU, memory, ephemeral storage, container runtime, machine and boot ids), gathered at
 * join and again at every agent start (a reboot may bring a new kernel).
 *
 * Design notes
 * - Read where the kubelet reads them: osImage is PRETTY_NAME of /etc/os-release, the kernel
 *   is uname's release, CPUs are the logical CPUs, machine and boot ids come from
 *   /etc/machine-id and /proc, the runtime version from Docker's /version. These were read with
 *   systeminformation until it showed up as ≈6 MiB of an idle agent's RSS (its 700 KB of
 *   source and the buffers of its probes stay for the life of the process): an agent must stay
 *   under 60 MiB idle (issue 5), and node:os + three small files give the same answers.
 * - Architecture uses Go's GOARCH names (`kubernetes.io/arch`: amd64, arm64, arm), because
 *   images and nodeSelectors are written in those terms, not Node's (x64, arm64, arm).
 * - Ephemeral storage is the size of the filesystem holding the data dir (where volumes and
 *   container layers live on a Pi: usually the SD card), read with statfs.
 * - Nothing here may block a start: every probe has a fallback ("docker://unknown" when dockerd
 *   is not reachable within a few seconds), since an agent with a sick dockerd must still connect
 *   and report that.
 */
import { readFileSync, statfsSync } from "node:fs";
import { cpus, arch as nodeArch, hostname as osHostname, platform, release, totalmem } from "node:os";
import Docker from "dockerode";
import type { NodeFacts } from "../api/join.js";

export type { NodeFacts };

export const DEFAULT_MAX_PODS = 110;

const GOARCH: Record<string, string> = {
  x64: "amd64",
  ia32: "386",
  arm64: "arm64",
  arm: "arm",
  ppc64: "ppc64le",
  s390x: "s390x",
  riscv64: "riscv64",
  loong64: "loong64",
  mips: "mips",
  mipsel: "mipsle",
};

/** Node's process.arch → Go's GOARCH (what `kubernetes.io/arch` holds). */
export function goArch(nodeArchName: string): string {
  return GOARCH[nodeArchName] ?? nodeArchName;
}

async function within<T>(ms: number, p: Promise<T>, fallback: T): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((r) => {
    t = setTimeout(() => r(fallback), ms);
  });
  try {
    return await Promise.race([p.catch(() => fallback), timeout]);
  } finally {
    clearTimeout(t);
  }
}

function readTrim(file: string): string {
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return "";
  }
}

function diskBytes(dir: string): number {
  try {
    const s = statfsSync(dir);
    return s.blocks * s.bsize;
  } catch {
    return 0;
  }
}

/** The fields of an os-release file (quotes and escapes removed). */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m?.[1]) continue;
    let v = m[2] ?? "";
    const q = v[0];
    if ((q === '"' || q === "'") && v.endsWith(q)) v = v.slice(1, -1);
    out[m[1]] = v.replace(/\\(["'$`\\])/g, "$1");
  }
  return out;
}

/** osImage as the kubelet reports it: PRETTY_NAME, else NAME VERSION_ID (CODENAME). */
export function osImageOf(osRelease: Record<string, string>): string {
  if (osRelease.PRETTY_NAME) return osRelease.PRETTY_NAME;
  const codename = osRelease.VERSION_CODENAME ? `(${osRelease.VERSION_CODENAME})` : "";
  return [osRelease.NAME, osRelease.VERSION_ID, codename].filter(Boolean).join(" ");
}

/** Gathers the facts; `dataDir` must exist (its filesystem is the ephemeral storage). */
export async function gatherNodeFacts(
  dataDir: string,
  opts: { maxPods?: number; docker?: Pick<Docker, "version"> } = {},
): Promise<NodeFacts> {
  const docker = opts.docker ?? new Docker();
  const version = await within(
    3000,
    docker.version().then((v) => v.Version),
    undefined,
  );
  const osRelease = parseOsRelease(readTrim("/etc/os-release") || readTrim("/usr/lib/os-release"));
  return {
    architecture: goArch(nodeArch()),
    operatingSystem: platform(),
    kernelVersion: release(),
    osImage: osImageOf(osRelease) || "unknown",
    containerRuntimeVersion: version ? `docker://${version}` : "docker://unknown",
    cpu: cpus().length || 1,
    memoryBytes: totalmem(),
    ephemeralStorageBytes: diskBytes(dataDir),
    pods: opts.maxPods ?? DEFAULT_MAX_PODS,
    machineID: readTrim("/etc/machine-id") || readTrim("/var/lib/dbus/machine-id"),
    bootID: readTrim("/proc/sys/kernel/random/boot_id"),
    hostname: osHostname(),
  };
}
