/**
 * ClusterDns: the DNS server every agent runs on the cluster DNS address (10.43.0.10:53).
 *
 * Design notes
 * - dns2 over UDP and TCP (TCP for answers over 512 bytes: large headless services set TC and
 *   clients retry over TCP).
 * - Answers come from the agent's cache through DnsSource, so DNS keeps working while the hub is
 *   unreachable and right after an offline reboot. The lookup index is rebuilt only when the
 *   source's revision changes (or invalidate() is called).
 * - Cluster names are answered authoritatively (AA set); the rest is forwarded (RA set) through
 *   the caching Forwarder. An ExternalName CNAME is chased: inside the zone from the index,
 *   outside through the forwarder, so stub resolvers that do not chase CNAMEs still get addresses.
 * - A handler never throws into dns2: any failure becomes SERVFAIL and a log line.
 */
import dns2 from "dns2";
import type { Logger } from "../lib/logger.js";
import { silentLogger } from "../lib/logger.js";
import { type Answer, answerQuestion, type DnsRecord, type RecordType } from "./answer.js";
import { buildIndex, type ClusterIndex, type DnsSource, type EndpointLiveness } from "./cluster-index.js";
import { Forwarder, type Upstream, type WireRecord } from "./forwarder.js";
import { normalizeName } from "./names.js";

const { Packet } = dns2;
type Dns2Handler = NonNullable<Parameters<typeof dns2.createServer>[0]["handle"]>;
type Dns2Request = Parameters<Dns2Handler>[0];
type Dns2Response = Parameters<Parameters<Dns2Handler>[1]>[0];
const TYPE_NAMES = new Map<number, string>(Object.entries(Packet.TYPE).map(([k, v]) => [v, k]));
const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4 } as const;

interface WireQuestion {
  name: string;
  type: number;
  class: number;
}

interface WirePacket {
  header: { id: number; qr: number; aa: number; ra: number; rcode: number };
  questions: WireQuestion[];
  answers: WireRecord[];
  authorities: WireRecord[];
  additionals: WireRecord[];
}

export interface ClusterDnsConfig {
  /** address to bind, e.g. 10.43.0.10 (production) or 127.0.0.1 (tests) */
  address: string;
  /** 53 in production; 0 picks a free port (read it back with ports()) */
  port: number;
  zone?: string;
  ttlSeconds?: number;
  upstreams: readonly Upstream[];
  /** reverse ranges answered locally (default the pod and service CIDRs 10.42/16, 10.43/16) */
  reverseCIDRs?: readonly string[];
  tcp?: boolean;
}

export interface ClusterDnsDeps {
  source: DnsSource;
  logger?: Logger;
  /** hides endpoints whose pods are not running (see cluster-index.ts) */
  isEndpointLive?: EndpointLiveness;
  /** replaces the default Forwarder (tests, or a shared cache) */
  forwarder?: Forwarder;
}

function toWire(r: DnsRecord): WireRecord {
  const { type, ...rest } = r;
  return { ...rest, type: Packet.TYPE[type], class: Packet.CLASS.IN };
}

export class ClusterDns {
  private readonly zone: string;
  private readonly ttl: number;
  private readonly reverseCIDRs: readonly string[];
  private readonly log: Logger;
  readonly forwarder: Forwarder;
  private server: ReturnType<typeof dns2.createServer> | undefined;
  private index: ClusterIndex | undefined;
  private indexRevision: number | string | undefined;
  queries = 0;

  constructor(
    private readonly cfg: ClusterDnsConfig,
    private readonly deps: ClusterDnsDeps,
  ) {
    this.zone = normalizeName(cfg.zone ?? "cluster.local");
    this.ttl = cfg.ttlSeconds ?? 5;
    this.reverseCIDRs = cfg.reverseCIDRs ?? ["10.42.0.0/16", "10.43.0.0/16"];
    this.log = (deps.logger ?? silentLogger()).child({ component: "dns" });
    this.forwarder = deps.forwarder ?? new Forwarder({ upstreams: cfg.upstreams });
  }

  /** Binds UDP (and TCP); rejects if the address cannot be bound. */
  async start(signal?: AbortSignal): Promise<void> {
    const server = dns2.createServer({
      udp: true,
      tcp: this.cfg.tcp !== false,
      handle: (req, send) => {
        this.handle(req as unknown as WirePacket)
          .then((res) => send(res as unknown as Dns2Response))
          .catch((err: unknown) => this.log.warn({ err }, "DNS response could not be sent"));
      },
    });
    const failed = new Promise<never>((_, reject) =>
      server.once("error", (err: Error) =>
        reject(
          new Error(
            `cluster DNS cannot listen on ${this.cfg.address}:${this.cfg.port}: ${err.message}; ` +
              "check that the address exists on this node and the port is free",
            { cause: err },
          ),
        ),
      ),
    );
    const bind = { port: this.cfg.port, address: this.cfg.address };
    await Promise.race([
      server.listen({ udp: bind, ...(this.cfg.tcp !== false ? { tcp: bind } : {}) }),
      failed,
    ]);
    server.on("error", (err: Error) => this.log.error({ err }, "DNS server error"));
    this.server = server;
    signal?.addEventListener("abort", () => void this.stop(), { once: true });
    this.log.info({ address: this.cfg.address, ports: this.ports() }, "cluster DNS listening");
  }

  /** Closes the sockets. Idempotent. */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await s.close();
  }

  ports(): { udp?: number; tcp?: number } {
    const a = this.server?.addresses();
    return { ...(a?.udp ? { udp: a.udp.port } : {}), ...(a?.tcp ? { tcp: a.tcp.port } : {}) };
  }

  /** Forces an index rebuild on the next query (for sources without revision()). */
  invalidate(): void {
    this.index = undefined;
  }

  private currentIndex(): ClusterIndex {
    const rev = this.deps.source.revision?.();
    if (!this.index || rev === undefined || rev !== this.indexRevision) {
      this.index = buildIndex(this.deps.source, this.zone, this.deps.isEndpointLive);
      this.indexRevision = rev;
    }
    return this.index;
  }

  /** Answers one request packet; exported for tests through handleQuery. */
  async handle(req: WirePacket): Promise<WirePacket> {
    const res = Packet.createResponseFromRequest(req as unknown as Dns2Request) as unknown as WirePacket;
    res.answers = [];
    res.authorities = [];
    res.additionals = [];
    const q = req.questions[0];
    if (!q) {
      res.header.rcode = 1; // FORMERR
      return res;
    }
    this.queries++;
    try {
      const typeName = TYPE_NAMES.get(q.type);
      const type: RecordType = (typeName as RecordType | undefined) ?? "OTHER";
      const opts = { zone: this.zone, ttl: this.ttl, reverseCIDRs: this.reverseCIDRs };
      const a: Answer = answerQuestion(this.currentIndex(), q.name, type, opts);
      if (a.kind === "local") {
        res.header.aa = 1;
        res.header.rcode = RCODE[a.rcode];
        res.answers = a.answers.map(toWire);
        res.authorities = a.authority.map(toWire);
        res.additionals = a.additionals.map(toWire);
      } else if (a.kind === "cname") {
        res.header.aa = 1;
        res.answers = [toWire(a.record)];
        if (type === "A" || type === "AAAA") await this.chase(a.target, type, res);
      } else if (!typeName) {
        res.header.rcode = RCODE.NOTIMP;
      } else {
        const f = await this.forwarder.resolve(normalizeName(q.name), typeName);
        res.header.ra = 1;
        res.header.rcode = f.rcode;
        res.answers = f.answers;
        res.authorities = f.authorities;
      }
    } catch (err) {
      this.log.warn({ err, name: q.name }, "DNS query failed");
      res.header.rcode = RCODE.SERVFAIL;
      res.answers = [];
      res.authorities = [];
      res.additionals = [];
    }
    return res;
  }

  private async chase(target: string, type: "A" | "AAAA", res: WirePacket): Promise<void> {
    const opts = { zone: this.zone, ttl: this.ttl, reverseCIDRs: this.reverseCIDRs };
    const inner = answerQuestion(this.currentIndex(), target, type, opts);
    if (inner.kind === "local") {
      res.answers.push(...inner.answers.map(toWire));
      return;
    }
    if (inner.kind === "forward") {
      const f = await this.forwarder.resolve(target, type).catch(() => undefined);
      if (f) res.answers.push(...f.answers);
    }
  }
}
