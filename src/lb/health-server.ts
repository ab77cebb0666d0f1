/**
 * ServiceHealthServer: one HTTP listener per healthCheckNodePort on each of this node's
 * addresses, answering kube-proxy's health check (health-check.ts) for its Service.
 *
 * Design notes
 * - sync(targets) is level-triggered like the proxy: listeners of ports no longer wanted (or now
 *   owned by another Service) are closed, new ones opened, and the counts behind the answers
 *   swapped in one step, so a request always sees the latest synced state.
 * - Node addresses only (kube-proxy's nodePortAddresses behaviour), never 0.0.0.0: pods and the
 *   cluster DNS address have no business with these ports.
 * - A port that cannot be bound (taken by another program) is logged and retried on the next
 *   sync; the other Services' listeners are not affected. kube-proxy records an event there.
 * - Unlike the rules, listeners die with the agent: stop() closes them, and the next agent
 *   start opens them again from its cache (the hub need not be reachable).
 */
import { createServer, type Server } from "node:http";
import { type Logger, silentLogger } from "../lib/logger.js";
import { type HealthCheckTarget, healthCheckReply } from "./health-check.js";

export interface ServiceHealthServerOptions {
  /** addresses to listen on (this node's InternalIP/ExternalIP) */
  addresses: readonly string[];
  logger?: Logger;
}

interface Listening {
  key: string;
  servers: Server[];
}

export class ServiceHealthServer {
  private readonly log: Logger;
  /** port → the Service answered there and its local endpoint count */
  private targets = new Map<number, HealthCheckTarget>();
  private readonly listening = new Map<number, Listening>();
  private proxyHealthy = true;
  private stopped = false;

  constructor(private readonly o: ServiceHealthServerOptions) {
    this.log = (o.logger ?? silentLogger()).child({ component: "healthcheck" });
  }

  /** Nothing to open until the first sync; stops on abort. */
  async start(signal?: AbortSignal): Promise<void> {
    this.stopped = false;
    signal?.addEventListener("abort", () => void this.stop(), { once: true });
  }

  /** Whether the proxy's last rules sync succeeded (kube-proxy's serviceProxyHealthy). */
  setProxyHealthy(healthy: boolean): void {
    this.proxyHealthy = healthy;
  }

  /** Ports currently served (tests, status). */
  ports(): number[] {
    return [...this.listening.keys()].sort((a, b) => a - b);
  }

  /**
   * Serves exactly `targets` (one per port; a second Service on the same port is ignored with a
   * warning). Resolves once every listener is open or has failed; failures are returned.
   */
  async sync(targets: readonly HealthCheckTarget[]): Promise<{ port: number; error: string }[]> {
    if (this.stopped) return [];
    const next = new Map<number, HealthCheckTarget>();
    for (const t of targets) {
      const have = next.get(t.port);
      if (have) {
        this.log.warn(
          { port: t.port, service: `${t.namespace}/${t.name}`, owner: `${have.namespace}/${have.name}` },
          "two Services claim one healthCheckNodePort; serving the first",
        );
        continue;
      }
      next.set(t.port, t);
    }
    this.targets = next;
    for (const [port, l] of this.listening) {
      const t = next.get(port);
      if (!t || `${t.namespace}/${t.name}` !== l.key) await this.close(port);
    }
    const failed: { port: number; error: string }[] = [];
    for (const [port, t] of next) {
      if (this.listening.has(port)) continue;
      try {
        this.listening.set(port, { key: `${t.namespace}/${t.name}`, servers: await this.open(port) });
        this.log.info({ port, service: `${t.namespace}/${t.name}` }, "serving health checks");
      } catch (err) {
        const error = (err as Error).message;
        failed.push({ port, error });
        this.log.warn(
          { port, service: `${t.namespace}/${t.name}`, err: error },
          "cannot serve the health check port (another program holds it?); retrying on the next sync",
        );
      }
    }
    return failed;
  }

  /** Closes every listener. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const port of [...this.listening.keys()]) await this.close(port);
  }

  private async open(port: number): Promise<Server[]> {
    const servers: Server[] = [];
    try {
      for (const address of this.o.addresses) {
        const server = createServer((req, res) => {
          req.resume();
          const t = this.targets.get(port);
          if (!t) {
            // closed a moment ago: kube-proxy drops such a request without an answer
            res.destroy();
            return;
          }
          const reply = healthCheckReply(t, this.proxyHealthy);
          res.writeHead(reply.status, reply.headers);
          res.end(reply.body);
        });
        await new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen(port, address, () => {
            server.off("error", reject);
            resolve();
          });
        });
        servers.push(server);
      }
      return servers;
    } catch (err) {
      for (const s of servers) await closeServer(s);
      throw err;
    }
  }

  private async close(port: number): Promise<void> {
    const l = this.listening.get(port);
    this.listening.delete(port);
    for (const s of l?.servers ?? []) await closeServer(s);
  }
}

function closeServer(s: Server): Promise<void> {
  s.closeAllConnections();
  return new Promise((resolve) => s.close(() => resolve()));
}
