/**
 * `edge-agent reset`: removes from this host everything the agent created — its pods'
 * containers (through the runtime, by the pod labels it set), the overlay's links, routes and
 * masquerade rules (resetOverlay), the IPAM leases, the service rules (table ip edgekube-lb)
 * and the cluster DNS link (edgekube-dns), and on request the whole data dir.
 *
 * Design notes
 * - Refuses while an agent runs on the same data dir: it would rebuild what reset removes.
 * - Containers go first (their veths die with their namespaces), then the overlay, then files.
 * - The data dir is removed only after every mount below it (emptyDir tmpfs) is unmounted:
 *   a recursive delete must never walk into a mounted file system.
 * - Every step tolerates "already gone", so reset can be run twice or after a half-done join.
 */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type Exec, hostExec } from "../cni/exec.js";
import { resetOverlay } from "../cni/reset.js";
import { type Logger, silentLogger } from "../lib/logger.js";
import { agentPaths, loadAgentConfig } from "./config.js";
import { unmountAll } from "./pods/volumes/empty-dir.js";
import type { ContainerRuntime } from "./runtime/runtime.js";
import { resetNodeServices } from "./services/index.js";
import { agentRunning, readStatusFile } from "./status-file.js";

export interface ResetAgentOptions {
  dataDir: string;
  deleteData: boolean;
  /** the node's Docker; undefined skips containers (no daemon) */
  runtime?: ContainerRuntime;
  exec?: Exec;
  logger?: Logger;
}

export interface ResetAgentReport {
  removedPods: string[];
  removedLinks: string[];
  /** the edgekube-lb table is gone (it may not have existed) */
  serviceRulesRemoved: boolean;
  /** the cluster DNS address (edgekube-dns link or lo:edgekube-dns) was there and is gone */
  dnsAddressRemoved: boolean;
  deletedDataDir: boolean;
  stuckMounts: string[];
}

export class AgentRunningError extends Error {
  constructor(pid: number, dataDir: string) {
    super(
      `an edge agent (pid ${pid}) is running on ${dataDir}: stop it first (systemctl stop edge-agent, or kill ${pid}), then reset`,
    );
    this.name = "AgentRunningError";
  }
}

/** the joined cluster's pod network, when the data dir still has it (direct routes lie in it) */
function clusterOf(paths: ReturnType<typeof agentPaths>): { clusterCIDR?: string } {
  try {
    return { clusterCIDR: loadAgentConfig(paths).clusterCIDR };
  } catch {
    return {};
  }
}

export async function resetAgent(o: ResetAgentOptions): Promise<ResetAgentReport> {
  const log = (o.logger ?? silentLogger()).child({ component: "reset" });
  const paths = agentPaths(o.dataDir);
  const st = readStatusFile(paths.status);
  if (st && agentRunning(st) && st.pid !== process.pid) throw new AgentRunningError(st.pid, o.dataDir);

  const removedPods: string[] = [];
  if (o.runtime) {
    for (const p of await o.runtime.listPods()) {
      await o.runtime.removePod(p.uid);
      removedPods.push(p.uid);
    }
  }
  const exec = o.exec ?? hostExec();
  const { removedLinks } = await resetOverlay({
    exec,
    ipamDbPath: join(o.dataDir, "ipam.db"),
    ...clusterOf(paths),
    // as it came: resetOverlay names its own component (one key per log line)
    ...(o.logger ? { logger: o.logger } : {}),
  });
  let serviceRulesRemoved = true;
  let dnsAddressRemoved = false;
  try {
    ({ dnsAddressRemoved } = await resetNodeServices(exec));
  } catch (err) {
    // no nft binary means no rules of ours either; anything else is worth a line
    serviceRulesRemoved = false;
    log.warn({ err }, "service rules not removed: is nftables installed? (nft delete table ip edgekube-lb)");
  }
  let stuckMounts: string[] = [];
  let deletedDataDir = false;
  if (o.deleteData && existsSync(o.dataDir)) {
    stuckMounts = await unmountAll(o.dataDir);
    if (stuckMounts.length === 0) {
      rmSync(o.dataDir, { recursive: true, force: true });
      deletedDataDir = true;
    }
  }
  log.info({ removedPods: removedPods.length, removedLinks, deletedDataDir }, "agent reset");
  return { removedPods, removedLinks, serviceRulesRemoved, dnsAddressRemoved, deletedDataDir, stuckMounts };
}
