/**
 * Flow steering: Receive Packet Steering (RPS) on the host end of every pod veth, so that the
 * packets of one flow are processed on one CPU, in the order the pod sent them.
 *
 * Design notes
 * - Why: a veth has no hardware queues. What a pod's TCP sends is handed to the host end with
 *   netif_rx and queued on the backlog of the CPU that happens to be sending: the pod's process
 *   (one CPU) for new data, and the softirq that handles the returning ACKs (often the other CPU)
 *   for data released by those ACKs. Both backlogs then run the long overlay path in parallel
 *   (bridge, forward, VXLAN encapsulation, the underlay, decapsulation, the far bridge), and the
 *   segments arrive out of order: measured on the dev cluster (2 cores) as thousands of
 *   out-of-order segments per GiB at the receiver, hundreds of spurious retransmissions
 *   (D-SACKed) at the sender, and a receive window that is idle half the time. A NIC with RSS
 *   never does this: it hashes each flow onto one queue. RPS is the software form of that: with
 *   a CPU mask on the veth's receive queue the kernel hashes each flow to one CPU of the mask and
 *   queues all of its packets there, so they stay in order; different flows still spread over
 *   all CPUs. Measured: no out-of-order segments or spurious retransmissions left; one flow's
 *   throughput on the 2-core dev cluster unchanged (its path now runs on one CPU, not two):
 *   docs/overlay.md.
 * - The mask is every CPU of the node; with one CPU there is nothing to steer and nothing is set.
 * - The only interface is sysfs (/sys/class/net/DEV/queues/rx-0/rps_cpus); netlink has no
 *   attribute for it. sysfs shows the network namespace of the process that mounted it. On a
 *   device the agent runs in the host namespace and the file is written directly, after checking
 *   that the device there is the one just created (same ifindex). Where the agent runs in a
 *   namespace entered with nsenter (the dev cluster, tests), the host's /sys does not show the
 *   device; then the write runs through `exec` in a private mount namespace with a fresh sysfs
 *   (`unshare --mount`), which shows the node namespace's devices and vanishes with the command.
 * - Steering is a performance setting: failing to set it (a kernel without CONFIG_RPS) is logged
 *   and the pod is wired anyway.
 */
import { readFileSync, writeFileSync } from "node:fs";
import type { Exec } from "./exec.js";

/**
 * The rps_cpus mask selecting CPUs 0…n-1: hex, in comma-separated 32-bit groups with the highest
 * group first (the kernel's bitmap format), e.g. 4 → "f", 40 → "ff,ffffffff".
 * Undefined for n ≤ 1: with one CPU there is nothing to steer to.
 */
export function rpsMask(cpus: number): string | undefined {
  if (!Number.isInteger(cpus) || cpus <= 1) return undefined;
  const groups: string[] = [];
  for (let left = cpus; left > 0; left -= 32) {
    const bits = Math.min(32, left);
    groups.unshift((bits === 32 ? 0xffffffff : 2 ** bits - 1).toString(16));
  }
  // every group but the highest is written in full width, as the kernel prints it
  return groups.map((g, i) => (i === 0 ? g : g.padStart(8, "0"))).join(",");
}

export interface FlowSteeringDeps {
  /** runs commands in the node namespace (the same Exec the CNI uses) */
  exec: Exec;
  /** CPUs to steer over (os.availableParallelism() on the node) */
  cpus: number;
  /** root of the sysfs this process sees; tests point it elsewhere */
  sysfsRoot?: string;
}

/**
 * `unshare` arguments that run the shell `script` with `args` as $1… in a private mount
 * namespace with a fresh sysfs mounted on /sys: it shows the network namespace the command runs
 * in, whatever /sys the caller sees. The arguments are passed, never spliced into the script.
 */
export function inFreshSysfs(script: string, args: readonly string[]): string[] {
  return [
    "--mount",
    "--propagation",
    "private",
    "--",
    "sh",
    "-c",
    `mount -t sysfs sysfs /sys && ${script}`,
    "sh",
    ...args,
  ];
}

/** The write, for a process whose /sys shows another namespace. */
const RPS_WRITE = 'printf "%s\\n" "$1" > "/sys/class/net/$2/queues/rx-0/rps_cpus"';

export class FlowSteering {
  readonly mask: string | undefined;
  private readonly sysfs: string;

  constructor(private readonly deps: FlowSteeringDeps) {
    this.mask = rpsMask(deps.cpus);
    this.sysfs = deps.sysfsRoot ?? "/sys";
  }

  /**
   * Steers the receive queue of `dev` (ifindex `ifindex` in the node namespace) over all CPUs.
   * Resolves with how it was written ("direct", "fresh-sysfs"), or "none" on a single CPU.
   */
  async steer(dev: string, ifindex: number | undefined): Promise<"direct" | "fresh-sysfs" | "none"> {
    const mask = this.mask;
    if (mask === undefined) return "none";
    if (ifindex !== undefined && this.visibleHere(dev, ifindex)) {
      writeFileSync(`${this.sysfs}/class/net/${dev}/queues/rx-0/rps_cpus`, `${mask}\n`);
      return "direct";
    }
    await this.deps.exec("unshare", inFreshSysfs(RPS_WRITE, [mask, dev]));
    return "fresh-sysfs";
  }

  /** True when this process's sysfs shows `dev` with the given ifindex (the same namespace). */
  private visibleHere(dev: string, ifindex: number): boolean {
    try {
      return Number(readFileSync(`${this.sysfs}/class/net/${dev}/ifindex`, "utf8").trim()) === ifindex;
    } catch {
      return false;
    }
  }
}
