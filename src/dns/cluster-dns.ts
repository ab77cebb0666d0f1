/**
 * ClusterDns: the DNS server every agent runs on the cluster DNS address (10.43.0.10:53).
 *
 * Design notes
 * - dns2 over UDP and TCP (TCP for answers over 512 bytes: large headless services set TC and
 *   clients retry over TCP). On UDP the common one-question query skips dns2's slow general codec
 *   and goes through wire.ts (≈1,000 → well over 10,000 queries/s measured); anything unusual
 *   still goes through dns2.
 * - Answers come from the agent's cache through DnsSource, so DNS keeps working while the hub is
 *   unreachable and right after an offline reboot. The lookup index is rebuilt only when the
 *   source's revision changes (or invalidate() is called).
 * - Cluster names are answered authoritatively (AA set); the rest is forwarded (RA set) through
 *   the caching Forwarder. An ExternalName CNAME is chased: inside the zone from the index,
 *   outside through the forwarder, so stub resolvers that do not chase CNAMEs still get addresses.
 * - A handler never throws into dns2: any failure becomes SERVFAIL and a log line.
 */
import type { RemoteInfo } from "node:dgram";
import type { Server as NetServer } from "node:net";
import dns2 from "dns2";
import type { Logger } from "../lib/logger.js";
import { silentLogger } from "../lib/logger.js";
import { type Answer, answerQuestion, type DnsRecord, type RecordType } from "./answer.js";
import { buildIndex, type ClusterIndex, type DnsSource, type EndpointLiveness } from "./cluster-index.js";
import { Forwarder, type Upstream, type WireRecord } from "./forwarder.js";
import { normalizeName } from "./names.js";
import { encodeResponse, parseQuery, type WireResponse } from "./wire.js";

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
  private udp: InstanceType<typeof dns2.UDPServer> | undefined;
  private tcp: NetServer | undefined;
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
    const handler = (req: Dns2Request, send: (res: Dns2Response) => void) => {
      this.handle(req as unknown as WirePacket)
        .then((res) => send(res as unknown as Dns2Response))
        .catch((err: unknown) => this.log.warn({ err }, "DNS response could not be sent"));
    };
    const udp = new dns2.UDPServer({ type: "udp4" });
    // dns2 parses every packet with its general codec; the common one-question query is
    // decoded and answered by wire.ts first (see the design notes there), the rest falls through.
    const general = udp.listeners("message")[0] as (data: Buffer, rinfo: RemoteInfo) => void;
    udp.removeAllListeners("message");
    udp.on("message", (data: Buffer, rinfo: RemoteInfo) => {
      const q = parseQuery(data);
      if (!q) return general(data, rinfo);
      this.answer(q.name, q.type)
        .then((res) => {
          const out = encodeResponse(q, res);
          if (out) udp.send(out, rinfo.port, rinfo.address);
          else general(data, rinfo);
        })
        .catch((err: unknown) => this.log.warn({ err }, "DNS response could not be sent"));
    });
    udp.on("request", handler);
    this.udp = udp;
    await this.bind(udp, () => udp.listen(this.cfg.port, this.cfg.address), "UDP");
    if (this.cfg.tcp !== false) {
      const tcp = dns2.createTCPServer(handler);
      this.tcp = tcp;
      await this.bind(tcp, () => tcp.listen(this.cfg.port, this.cfg.address), "TCP");
    }
    for (const s of [this.udp, this.tcp])
      s?.on("error", (err: Error) => this.log.error({ err }, "DNS server error"));
    signal?.addEventListener("abort", () => void this.stop(), { once: true });
    this.log.info({ address: this.cfg.address, ports: this.ports() }, "cluster DNS listening");
  }

  private async bind(
    server: { once(ev: "error" | "listening", fn: (err: Error) => void): unknown },
    listen: () => unknown,
    proto: string,
  ): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err: Error) =>
        reject(
          new Error(
            `cluster DNS cannot listen on ${this.cfg.address}:${this.cfg.port}/${proto}: ${err.message}; ` +
              "check that the address exists on this node and the port is free",
            { cause: err },
          ),
        ),
      );
      server.once("listening", () => resolve());
      listen();
    });
  }

  /** Closes the sockets. Idempotent. */
  async stop(): Promise<void> {
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
    if (tcp) await new Promise<void>((r) => tcp.close(() => r()));
  }

  ports(): { udp?: number; tcp?: number } {
    const u = this.udp?.address();
    const t = this.tcp?.address();
    return {
      ...(u ? { udp: u.port } : {}),
      ...(t && typeof t === "object" ? { tcp: t.port } : {}),
    };
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

  /** Answers one request in dns2's packet shape (the TCP path and unusual UDP packets). */
  async handle(req: WirePacket): Promise<WirePacket> {
    const res = Packet.createResponseFromRequest(req as unknown as Dns2Request) as unknown as WirePacket;
    const q = req.questions[0];
    if (!q) {
      res.header.rcode = 1; // FORMERR
      return res;
    }
    const a = await this.answer(q.name, q.type);
    res.header.aa = a.aa ? 1 : 0;
    res.header.ra = a.ra ? 1 : 0;
    res.header.rcode = a.rcode;
    res.answers = a.answers;
    res.authorities = a.authorities;
    res.additionals = a.additionals;
    return res;
  }

  /** The response content for one question; never rejects (failures become SERVFAIL). */
  async answer(name: string, typeCode: number): Promise<WireResponse> {
    this.queries++;
    const out: WireResponse = {
      aa: false,
      ra: false,
      rcode: 0,
      answers: [],
      authorities: [],
      additionals: [],
    };
    try {
      const typeName = TYPE_NAMES.get(typeCode);
      const type: RecordType = (typeName as RecordType | undefined) ?? "OTHER";
      const opts = { zone: this.zone, ttl: this.ttl, reverseCIDRs: this.reverseCIDRs };
      const a: Answer = answerQuestion(this.currentIndex(), name, type, opts);
      if (a.kind === "local") {
        out.aa = true;
        out.rcode = RCODE[a.rcode];
        out.answers = a.answers.map(toWire);
        out.authorities = a.authority.map(toWire);
        out.additionals = a.additionals.map(toWire);
      } else if (a.kind === "cname") {
        out.aa = true;
        out.answers = [toWire(a.record)];
        if (type === "A" || type === "AAAA") out.answers.push(...(await this.chase(a.target, type)));
      } else if (!typeName) {
        out.rcode = RCODE.NOTIMP;
      } else {
        const f = await this.forwarder.resolve(normalizeName(name), typeName);
        out.ra = true;
        out.rcode = f.rcode;
        out.answers = f.answers;
        out.authorities = f.authorities;
      }
      return out;
    } catch (err) {
      this.log.warn({ err, name }, "DNS query failed");
      return { aa: false, ra: false, rcode: RCODE.SERVFAIL, answers: [], authorities: [], additionals: [] };
    }
  }

  private async chase(target: string, type: "A" | "AAAA"): Promise<WireRecord[]> {
    const opts = { zone: this.zone, ttl: this.ttl, reverseCIDRs: this.reverseCIDRs };
    const inner = answerQuestion(this.currentIndex(), target, type, opts);
    if (inner.kind === "local") return inner.answers.map(toWire);
    if (inner.kind === "forward") {
      const f = await this.forwarder.resolve(target, type).catch(() => undefined);
      return f?.answers ?? [];
    }
    return [];
  }
}
