/**
 * PartitionRelay: a user-space TCP relay between bench/sync's simulated agents and the hub's MQTT
 * port that can partition the network the way a dropped uplink or an iptables DROP rule does,
 * without touching the host's firewall (the machine is shared).
 *
 * Design notes
 * - One relay per worker process, listening on 127.0.0.1. Each agent connects from its own
 *   127.x source address, and the relay connects on to the hub from that same address, so the
 *   hub still sees one source address per agent and `ss` on the hub's port still counts every
 *   agent's connection (the relay forwards bytes unchanged, with Nagle off like both ends).
 * - partition(): nothing crosses any more, and nothing is refused or reset either (DROP, not
 *   REJECT). Bytes of open connections wait in the relay and a close on either side is held
 *   back, as TCP would keep retransmitting them.
 * - New connections during a partition: a real DROP leaves the agent's connect() pending (its
 *   SYN is lost and retransmitted) until the agent's own connect timeout gives up. The relay
 *   cannot hold back its own accept() (the kernel completes loopback handshakes), so the agents
 *   dial through `dialer()`, which models the SYN: while partitioned the dial neither completes
 *   nor fails, and one still pending at the heal connects at the SYN retransmission that
 *   follows (Linux: 1, 3, 7, 15, 31 s after the first SYN) unless the agent aborted it first.
 *   Without this, an agent's connect succeeded into the black hole and it could not tell a
 *   dead link from a slow hub (it waited out the 30 s CONNACK timeout instead of probing).
 *   A connection that does reach accept() while partitioned is still held as before.
 * - heal(): held bytes of connections that both ends still hold flow at the retransmission
 *   that follows the heal: TCP retransmits unacknowledged data after RTO × (2^k − 1) from the
 *   first loss (Linux's minimum RTO, 200 ms, on these low-latency links), so after a 60 s
 *   outage the next retry comes ≈ 42 s after the heal (at 102 s). A connection one
 *   end closed meanwhile — the MQTT keepalive gave up on it, 1.5× the keepalive after the last
 *   packet — is closed at the other end too, as the retransmitted FIN or an RST would. A
 *   connection attempt made during the partition reaches the hub at the SYN retransmission that
 *   follows the heal (Linux: 1, 3, 7, 15, 31 s after the first SYN), unless the agent gave up on
 *   it first (its connect timeout); this spreads a fleet's reconnects as a real link would.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";
import type { Dialer } from "../../src/transport/dialer.js";

/** seconds after the first SYN at which Linux retransmits it (initial RTO 1 s, doubling) */
const SYN_RETRIES_S = [0, 1, 3, 7, 15, 31, 63];
/** Linux TCP_RTO_MIN: data retransmissions come RTO × (2^k − 1) after the first loss */
const RTO_S = 0.2;

/** ms until the first retransmission at or after `now` of data first lost at `lostAt` */
export function nextRetransmitMs(lostAt: number, now: number, rtoS = RTO_S): number {
  const since = (now - lostAt) / 1000;
  let at = rtoS;
  while (at < since) at = at * 2 + rtoS;
  return (at - since) * 1000;
}

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
  startedAt: number;
  /** bytes held while partitioned (or before the upstream connection exists) */
  toHub: Buffer[];
  toAgent: Buffer[];
  /** when bytes were first held by the partition (their loss, for the retransmission timing) */
  heldSince: number;
  closed: boolean;
}

export class PartitionRelay {
  private server: Server | undefined;
  private partitioned = false;
  private readonly pairs = new Set<Pair>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** dials waiting for the heal (see the design notes) */
  private readonly pendingDials = new Set<() => void>();

  constructor(private readonly target: { host: string; port: number }) {}

  /** Listens on 127.0.0.1; resolves the port agents should connect to. */
  async start(): Promise<number> {
    const server = createServer({ noDelay: true }, (client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: "127.0.0.1", port: 0, backlog: 4096 }, () => resolve());
    });
    const a = server.address();
    if (a === null || typeof a === "string") throw new Error("partition relay has no TCP address");
    return a.port;
  }

  partition(): void {
    this.partitioned = true;
  }

  heal(): void {
    this.partitioned = false;
    for (const resume of [...this.pendingDials]) resume();
    const now = Date.now();
    for (const p of this.pairs) {
      if (p.closed) {
        this.drop(p);
      } else if (p.upstream) {
        if (p.heldSince === 0) continue;
        this.later(() => this.flush(p), nextRetransmitMs(p.heldSince, now));
      } else {
        const since = (now - p.startedAt) / 1000;
        const at = SYN_RETRIES_S.find((s) => s >= since);
        if (at === undefined) this.drop(p);
        else this.later(() => this.connectUpstream(p), (at - since) * 1000);
      }
    }
  }

  /**
   * The agents' TCP connect to this relay, through the partition: see the design notes. The
   * abort signal (the agent's connect timeout, or its stop) ends a pending dial.
   */
  dialer(): Dialer {
    return (target, signal) =>
      new Promise<Socket>((resolve, reject) => {
        const startedAt = Date.now();
        let timer: NodeJS.Timeout | undefined;
        let socket: Socket | undefined;
        const onAbort = (): void => {
          clearTimeout(timer);
          this.pendingDials.delete(resume);
          socket?.destroy();
          reject(signal.reason);
        };
        const connectNow = (): void => {
          timer = undefined;
          if (this.partitioned) {
            this.pendingDials.add(resume);
            return;
          }
          const s = createConnection({
            host: target.host,
            port: target.port,
            noDelay: true,
            ...(target.localAddress ? { localAddress: target.localAddress } : {}),
          });
          socket = s;
          s.once("connect", () => {
            signal.removeEventListener("abort", onAbort);
            s.removeAllListeners("error");
            resolve(s);
          });
          s.once("error", (err) => {
            signal.removeEventListener("abort", onAbort);
            s.destroy();
            reject(err);
          });
        };
        // the heal: the SYN gets through at its next retransmission (none left: never)
        const resume = (): void => {
          this.pendingDials.delete(resume);
          const since = (Date.now() - startedAt) / 1000;
          const at = SYN_RETRIES_S.find((x) => x >= since);
          if (at !== undefined) timer = setTimeout(connectNow, (at - since) * 1000);
        };
        if (signal.aborted) {
          reject(signal.reason);
          return;
        }
        signal.addEventListener("abort", onAbort, { once: true });
        connectNow();
      });
  }

  async stop(): Promise<void> {
    this.pendingDials.clear();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const p of this.pairs) this.drop(p);
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  private accept(client: Socket): void {
    const p: Pair = {
      client,
      upstream: undefined,
      startedAt: Date.now(),
      toHub: [],
      toAgent: [],
      heldSince: 0,
      closed: false,
    };
    this.pairs.add(p);
    client.on("data", (b: Buffer) => {
      // behind held bytes, never past them: TLS records must arrive in order
      if (this.partitioned || p.toHub.length > 0 || !p.upstream || p.upstream.connecting) {
        this.hold(p, p.toHub, b);
      } else p.upstream.write(b);
    });
    client.on("error", () => {});
    client.on("close", () => this.closed(p));
    if (!this.partitioned) this.connectUpstream(p);
  }

  private connectUpstream(p: Pair): void {
    if (p.closed || p.upstream) {
      if (p.closed) this.drop(p);
      return;
    }
    const up = createConnection({
      host: this.target.host,
      port: this.target.port,
      noDelay: true,
      ...(p.client.remoteAddress ? { localAddress: p.client.remoteAddress } : {}),
    });
    p.upstream = up;
    up.on("connect", () => this.flush(p));
    up.on("data", (b: Buffer) => {
      if (this.partitioned || p.toAgent.length > 0) this.hold(p, p.toAgent, b);
      else p.client.write(b);
    });
    up.on("error", () => {});
    up.on("close", () => {
      if (!this.partitioned && up.bytesRead === 0 && up.bytesWritten === 0) {
        // refused (the hub is restarting): the agent sees a reset, as a direct connect would
        this.pairs.delete(p);
        p.closed = true;
        p.client.resetAndDestroy();
        return;
      }
      this.closed(p);
    });
  }

  private hold(p: Pair, queue: Buffer[], b: Buffer): void {
    if (this.partitioned && p.heldSince === 0) p.heldSince = Date.now();
    queue.push(b);
  }

  private flush(p: Pair): void {
    if (this.partitioned || p.closed || !p.upstream || p.upstream.connecting) return;
    p.heldSince = 0;
    for (const b of p.toHub.splice(0)) p.upstream.write(b);
    for (const b of p.toAgent.splice(0)) p.client.write(b);
  }

  /** one end closed: passed on at once, or at heal() while partitioned */
  private closed(p: Pair): void {
    p.closed = true;
    if (!this.partitioned) this.drop(p);
  }

  private drop(p: Pair): void {
    p.closed = true;
    this.pairs.delete(p);
    p.client.destroy();
    p.upstream?.destroy();
  }

  private later(f: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      f();
    }, ms);
    this.timers.add(t);
  }
}
