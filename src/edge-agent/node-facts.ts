/**
 * Node facts: what the hub needs to register and schedule onto this device (architecture, OS,
 * kernel, CPU, memory, ephemeral storage, container runtime, machine and boot ids), gathered with
 * systeminformation at join and again at every agent start (a reboot may bring a new kernel).
 *
 * Design notes
 * - Architecture uses Go's GOARCH names (`kubernetes.io/arch`: amd64, arm64, arm), because
 *   images and nodeSelectors are written in those terms, not Node's (x64, arm64, arm).
 * - Ephemeral storage is the size of the filesystem holding the data dir (where volumes and
 *   container layers live on a Pi: usually the SD card), read with statfs.
 * - Nothing here may block a start: every probe has a fallback ("docker://unknown" when dockerd
 *   is not reachable within a few seconds), since an agent with a sick dockerd must still connect
 *   and report that.
 */
import { readFileSync, statfsSync } from "node:fs";
import { arch as nodeArch, hostname as osHostname } from "node:os";
import si from "systeminformation";
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

/** Gathers the facts; `dataDir` must exist (its filesystem is the ephemeral storage). */
export async function gatherNodeFacts(dataDir: string, opts: { maxPods?: number } = {}): Promise<NodeFacts> {
  const [os, cpu, mem, uuid, docker] = await Promise.all([
    within(5000, si.osInfo(), undefined),
    within(5000, si.cpu(), undefined),
    within(5000, si.mem(), undefined),
    within(5000, si.uuid(), undefined),
    within(3000, si.dockerInfo(), undefined),
  ]);
  const osImage = os
    ? [os.distro, os.release, os.codename ? `(${os.codename})` : ""].filter(Boolean).join(" ")
    : "";
  return {
    architecture: goArch(nodeArch()),
    operatingSystem: os?.platform ?? "linux",
    kernelVersion: os?.kernel ?? "",
    osImage: osImage || "unknown",
    containerRuntimeVersion: docker?.serverVersion ? `docker://${docker.serverVersion}` : "docker://unknown",
    cpu: cpu?.cores || 1,
    memoryBytes: mem?.total ?? 0,
    ephemeralStorageBytes: diskBytes(dataDir),
    pods: opts.maxPods ?? DEFAULT_MAX_PODS,
    machineID: uuid?.os || readTrim("/etc/machine-id"),
    bootID: readTrim("/proc/sys/kernel/random/boot_id"),
    hostname: os?.hostname || osHostname(),
  };
}
