/**
 * NodeServices: Services on one node — the service proxy (src/lb NftProxier) and the cluster
 * DNS server (src/dns ClusterDns) fed by the agent's cache and its own pod knowledge.
 *
 *   cache (Services, EndpointSlices, Pods) ─┬─ change ─► debounce ─► NftProxier.sync(ServiceState)
 *   LocalPods (pod manager statuses) ───────┤
 *                                           └─ revision ─► ClusterDns index (isEndpointLive)
 *   10.43.0.10/32 on the edgekube-dns dummy link (or lo) ◄── ClusterDns binds :53 (UDP+TCP)
 *   /etc/resolv.conf nameservers ──► ClusterDns forwarder (names outside cluster.local)
 *   pool LoadBalancer addresses this node wins (lb-announce.ts) ──► /32 on lo, answers ARP
 *   Local LoadBalancers' healthCheckNodePorts ──► ServiceHealthServer on the node addresses
 *
 * Design notes
 * - Everything comes from the local cache, so services and DNS come back after an offline
 *   reboot exactly as they were, minus this node's endpoints whose pods do not run (LocalPods).
 * - Cache changes arrive in bursts (a snapshot after reconnect is many transactions): syncs
 *   are debounced and coalesced, and the proxier itself only rewrites the service ports whose
 *   rules changed. A failed sync is retried with back-off; the old rules keep serving meanwhile.
 * - stop() leaves rules and the DNS address in place: services keep working while the agent
 *   restarts. reset() (edge-agent reset) removes both. The health check listeners close with
 *   the agent (a process's sockets cannot outlive it) and reopen from the cache on its start.
 * - The health checks follow each rules sync with the same ServiceState, and say the proxy is
 *   unhealthy while programming the rules fails (kube-proxy's serviceProxyHealthy).
 */
import { readFileSync } from "node:fs";
import { type Exec, hostExec } from "../../cni/exec.js";
import { ClusterDns } from "../../dns/index.js";
import { healthCheckTargets, NftProxier, ServiceHealthServer } from "../../lb/index.js";
import { type Logger, silentLogger } from "../../lib/logger.js";
import { ensureDnsAddress, removeDnsAddress, upstreamsFromResolvConf } from "./dns-address.js";
import { announce, electedAddresses } from "./lb-announce.js";
import { endpointLiveness, type LocalPods } from "./local-pods.js";
import { dnsSourceOf, type NodeFacts, type ServicesCache, serviceStateOf } from "./service-state.js";

const ANNOUNCE_RECHECK_MS = 60_000;

export interface NodeServicesOptions extends NodeFacts {
  cache: ServicesCache;
  localPods: LocalPods;
  /** cluster DNS address (default 10.43.0.10) and zone */
  clusterDNS: string;
  clusterDomain: string;
  /** reverse zones answered locally: pod and service CIDRs */
  serviceCIDR: string;
  /** DNS port (53; tests may pick another) */
  dnsPort?: number;
  /** where upstream resolvers come from (default /etc/resolv.conf) */
  resolvConfPath?: string;
  exec?: Exec;
  debounceMs?: number;
  logger?: Logger;
}

export class NodeServices {
  readonly proxier: NftProxier;
  readonly dns: ClusterDns;
  readonly health: ServiceHealthServer;
  private readonly exec: Exec;
  private readonly log: Logger;
  private readonly source: ReturnType<typeof dnsSourceOf>;
  private readonly offs: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private running = false;
  private syncs = 0;
  /** the claim last made true on lo (comma-joined), and when */
  private announced: string | undefined;
  private announcedAt = 0;

  constructor(private readonly o: NodeServicesOptions) {
    this.exec = o.exec ?? hostExec();
    // the parts get the logger as it came: each names its own component (one key per line)
    const base = o.logger ?? silentLogger();
    this.log = base.child({ component: "services", node: o.nodeName });
    this.proxier = new NftProxier({ exec: this.exec, logger: base });
    this.health = new ServiceHealthServer({ addresses: o.nodeIPs, logger: base });
    this.source = dnsSourceOf(o.cache, o.localPods);
    const liveIPs = () => o.localPods.ips();
    this.dns = new ClusterDns(
      {
        address: o.clusterDNS,
        port: o.dnsPort ?? 53,
        zone: o.clusterDomain,
        upstreams: upstreamsFromResolvConf(readResolvConf(o.resolvConfPath), o.clusterDNS),
        reverseCIDRs: [o.clusterCIDR, o.serviceCIDR],
      },
      { source: this.source, isEndpointLive: endpointLiveness(o.nodeName, liveIPs), logger: base },
    );
  }

  /**
   * Checks nft, puts the DNS address on its link, binds DNS and programs the rules once.
   * Rejects when nft or the DNS address/socket cannot be had (the message says what to fix).
   */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.running) return;
    await this.proxier.start(signal);
    const where = await ensureDnsAddress(this.exec, this.o.clusterDNS);
    this.log.info(
      { address: this.o.clusterDNS, on: where === "lo" ? "lo" : "edgekube-dns" },
      "cluster DNS address",
    );
    await this.dns.start(signal);
    await this.health.start(signal);
    this.running = true;
    this.offs.push(this.o.cache.onChange(() => this.kick()));
    this.offs.push(this.o.localPods.onChange(() => this.kick()));
    signal?.addEventListener("abort", () => void this.stop(), { once: true });
    await this.syncNow();
  }

  /** Stops syncing and answering; rules and the DNS address stay (see design notes). */
  async stop(): Promise<void> {
    this.running = false;
    for (const off of this.offs.splice(0)) off();
    clearTimeout(this.timer);
    this.source.dispose();
    this.proxier.stop();
    await this.health.stop();
    await this.dns.stop();
  }

  /** Number of completed syncs (tests wait on it). */
  get syncCount(): number {
    return this.syncs;
  }

  private kick(delay = this.o.debounceMs ?? 100): void {
    if (!this.running || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.syncNow();
    }, delay);
    this.timer.unref();
  }

  private async syncNow(): Promise<void> {
    try {
      const state = serviceStateOf(this.o.cache, this.o.localPods, this.o);
      const r = await this.proxier.sync(state);
      this.health.setProxyHealthy(true);
      const unserved = await this.health.sync(healthCheckTargets(state));
      const claim = electedAddresses(
        state.services,
        state.endpointSlices,
        this.o.cache.nodes(),
        this.o.nodeName,
      );
      // an unchanged claim is re-checked against lo only once a minute: every sync used to
      // spawn `ip addr show`, and syncs follow every pod status echo (bench/pods: ≈1 s of the
      // agent's CPU while 50 pods start)
      const claimKey = claim.join(",");
      if (claimKey !== this.announced || Date.now() - this.announcedAt > ANNOUNCE_RECHECK_MS) {
        const moved = await announce(this.exec, claim);
        this.announced = claimKey;
        this.announcedAt = Date.now();
        if (moved.added.length + moved.removed.length > 0)
          this.log.info(moved, "LoadBalancer pool addresses this node answers for");
      }
      this.failures = 0;
      this.syncs++;
      if (r.mode !== "unchanged")
        this.log.debug({ mode: r.mode, changed: r.changed.length }, "service rules programmed");
      for (const w of r.warnings) this.log.warn({ warning: w }, "service skipped");
      // a health check port another program holds: try again later (no faster than the back-off)
      if (unserved.length > 0) this.kick(5_000);
    } catch (err) {
      this.failures++;
      this.health.setProxyHealthy(false);
      const retryMs = Math.min(30_000, 500 * 2 ** Math.min(this.failures, 6));
      this.log.error({ err, retryMs }, "programming service rules failed; the previous rules stay");
      this.kick(retryMs);
    }
  }
}

function readResolvConf(path = "/etc/resolv.conf"): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** `edge-agent reset`: removes the service rules, the cluster DNS address and pool addresses. */
export async function resetNodeServices(exec: Exec = hostExec()): Promise<{ dnsAddressRemoved: boolean }> {
  const dnsAddressRemoved = await removeDnsAddress(exec);
  await announce(exec, []);
  await new NftProxier({ exec }).reset();
  return { dnsAddressRemoved };
}
