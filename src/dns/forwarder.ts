/**
 * Forwarder: names outside the cluster domain go to the node's upstream resolvers, with a cache.
 *
 * Design notes
 * - Upstreams are tried in order (the first that answers wins), each with a short timeout, so a
 *   dead first resolver costs one timeout, not a failure.
 * - Cache by (name, type): positive answers for the smallest TTL among them (capped at
 *   maxTtlSeconds), NXDOMAIN/empty answers for negativeTtlSeconds. TTLs handed out from the cache
 *   count down, so clients never hold a record longer than the upstream said.
 * - Concurrent identical questions share one upstream request (a pod restarting in a crash loop
 *   must not multiply upstream traffic).
 * - The cache is bounded (oldest entries go first): agents run on 1 GB devices.
 */
import dns2 from "dns2";

export interface Upstream {
  address: string;
  port?: number;
}

/** An answer in dns2's decoded shape (name, type, class, ttl and type-specific fields). */
export interface WireRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  [field: string]: unknown;
}

export interface Forwarded {
  rcode: number;
  answers: WireRecord[];
  authorities: WireRecord[];
}

export type UpstreamQuery = (upstream: Upstream, name: string, type: string) => Promise<Forwarded>;

export interface ForwarderOptions {
  upstreams: readonly Upstream[];
  timeoutMs?: number;
  maxTtlSeconds?: number;
  negativeTtlSeconds?: number;
  maxEntries?: number;
  /** injectable for unit tests; default: dns2's UDP client */
  query?: UpstreamQuery;
  now?: () => number;
}

export class UpstreamError extends Error {
  constructor(name: string, upstreams: readonly Upstream[], cause: unknown) {
    const list = upstreams.map((u) => `${u.address}:${u.port ?? 53}`).join(", ") || "none configured";
    super(`no upstream resolver answered for ${name} (tried ${list}): check the node's resolvers`, { cause });
    this.name = "UpstreamError";
  }
}

function dns2Query(timeoutMs: number): UpstreamQuery {
  return async (u, name, type) => {
    const resolve = dns2.UDPClient({ dns: u.address, port: u.port ?? 53, timeout: timeoutMs } as {
      dns: string;
      port: number;
    });
    const res = (await resolve(name, type as keyof typeof dns2.Packet.TYPE)) as unknown as {
      header: { rcode: number };
      answers?: WireRecord[];
      authorities?: WireRecord[];
    };
    return { rcode: res.header.rcode, answers: res.answers ?? [], authorities: res.authorities ?? [] };
  };
}

interface Entry {
  expires: number;
  stored: number;
  value: Forwarded;
}

export class Forwarder {
  private readonly cache = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<Forwarded>>();
  private readonly query: UpstreamQuery;
  private readonly now: () => number;
  upstreamQueries = 0;

  constructor(private readonly opts: ForwarderOptions) {
    this.query = opts.query ?? dns2Query(opts.timeoutMs ?? 2000);
    this.now = opts.now ?? Date.now;
  }

  async resolve(name: string, type: string): Promise<Forwarded> {
    const key = `${name.toLowerCase()}|${type}`;
    const hit = this.cache.get(key);
    const now = this.now();
    if (hit && hit.expires > now) {
      const elapsed = Math.floor((now - hit.stored) / 1000);
      const age = (r: WireRecord) => ({ ...r, ttl: Math.max(0, r.ttl - elapsed) });
      return {
        ...hit.value,
        answers: hit.value.answers.map(age),
        authorities: hit.value.authorities.map(age),
      };
    }
    const running = this.inflight.get(key);
    if (running) return running;
    const p = this.ask(name, type).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    const value = await p;
    this.store(key, value);
    return value;
  }

  clear(): void {
    this.cache.clear();
  }

  private async ask(name: string, type: string): Promise<Forwarded> {
    let last: unknown;
    for (const u of this.opts.upstreams) {
      try {
        this.upstreamQueries++;
        return await this.query(u, name, type);
      } catch (err) {
        last = err;
      }
    }
    throw new UpstreamError(name, this.opts.upstreams, last);
  }

  private store(key: string, value: Forwarded): void {
    // SERVFAIL and friends are not cached: the next query should try again.
    if (value.rcode !== 0 && value.rcode !== 3) return;
    const ttl =
      value.rcode === 0 && value.answers.length > 0
        ? Math.min(this.opts.maxTtlSeconds ?? 300, ...value.answers.map((a) => a.ttl))
        : (this.opts.negativeTtlSeconds ?? 30);
    if (ttl <= 0) return;
    const max = this.opts.maxEntries ?? 10_000;
    if (this.cache.size >= max) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    const now = this.now();
    this.cache.set(key, { expires: now + ttl * 1000, stored: now, value });
  }
}
