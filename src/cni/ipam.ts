/**
 * HostLocalIpam: pod addresses from this node's podCIDR, leased in a SQLite file.
 *
 * Design notes
 * - Semantics of the CNI host-local plugin: the range is the podCIDR without `.0` (flannel.1),
 *   `.1` (cni0 gateway) and the broadcast address; allocation continues round-robin after the
 *   last address handed out, so a just-released address is not immediately given to the next
 *   pod (stale ARP/conntrack entries elsewhere still point at the old pod), but every released
 *   address is reused once the range wraps.
 * - Durable and duplicate-free across restarts: the lease table has the address as primary key
 *   and the container id as a unique key; allocation runs in an IMMEDIATE transaction, so even two
 *   processes sharing the file cannot hand out one address twice.
 * - allocate() is idempotent per container (a retried CNI ADD gets the same address); release()
 *   of an unknown id is a no-op. reconcile(live) frees what a crash leaked: leases whose
 *   container no longer exists.
 * - If the node's podCIDR changes, leases outside the new subnet are dropped on open: those
 *   addresses can no longer be routed to this node anyway.
 * - The small better-sqlite3 surface used here is typed locally (rows are narrowed as they are
 *   read); the connection comes from lib/sqlite's openDatabase, which also works inside the
 *   single executable.
 */
import type { Logger } from "../lib/logger.js";
import { silentLogger } from "../lib/logger.js";
import { openDatabase } from "../lib/sqlite.js";
import { addressAt, gatewayAddress, type Ipv4Subnet, ipToNumber, numberToIp, parseSubnet } from "./subnet.js";

interface SqlStatement {
  run(...params: Array<string | number | null>): { changes: number };
  get(...params: Array<string | number | null>): unknown;
  all(...params: Array<string | number | null>): unknown[];
}
interface SqlDatabase {
  prepare(sql: string): SqlStatement;
  exec(sql: string): unknown;
  pragma(source: string): unknown;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): { (...args: A): R; immediate(...args: A): R };
  close(): unknown;
}

export interface Lease {
  containerId: string;
  ip: string;
  prefixLength: number;
  gateway: string;
}

export class IpamExhaustedError extends Error {
  constructor(subnet: string, count: number) {
    super(
      `no free pod address in ${subnet}: all ${count} addresses are leased; remove pods, or reconcile ` +
        "the IPAM with the running containers to free leases leaked by a crash",
    );
    this.name = "IpamExhaustedError";
  }
}

function leaseRow(v: unknown): { ip: number; container_id: string } {
  if (typeof v === "object" && v !== null && "ip" in v && "container_id" in v) {
    const { ip, container_id } = v;
    if (typeof ip === "number" && typeof container_id === "string") return { ip, container_id };
  }
  throw new Error("IPAM database holds a malformed lease row: delete the file to start over");
}

export class HostLocalIpam {
  readonly subnet: Ipv4Subnet;
  private readonly db: SqlDatabase;
  private readonly log: Logger;
  private readonly first: number;
  private readonly last: number;

  constructor(opts: { dbPath: string; podCIDR: string; logger?: Logger }) {
    this.subnet = parseSubnet(opts.podCIDR);
    if (this.subnet.size < 4) {
      throw new Error(`podCIDR ${this.subnet.cidr} is too small for pods: use a /24 (at most /30)`);
    }
    this.first = this.subnet.network + 2;
    this.last = this.subnet.network + this.subnet.size - 2;
    this.log = (opts.logger ?? silentLogger()).child({ component: "cni-ipam" });
    this.db = openDatabase(opts.dbPath, { timeout: 5000 });
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS ipam_lease (
        ip INTEGER PRIMARY KEY,
        container_id TEXT NOT NULL UNIQUE,
        allocated_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS ipam_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `);
    this.adoptSubnet();
  }

  private adoptSubnet(): void {
    const stored = this.db.prepare("SELECT value FROM ipam_state WHERE key = 'subnet'").get();
    const storedCidr =
      typeof stored === "object" && stored !== null && "value" in stored ? stored.value : undefined;
    if (storedCidr === this.subnet.cidr) return;
    this.db
      .transaction(() => {
        const dropped = this.db
          .prepare("DELETE FROM ipam_lease WHERE ip < ? OR ip > ?")
          .run(this.first, this.last).changes;
        if (dropped > 0)
          this.log.warn({ dropped, from: storedCidr, to: this.subnet.cidr }, "podCIDR changed");
        this.db
          .prepare("INSERT OR REPLACE INTO ipam_state (key, value) VALUES ('subnet', ?)")
          .run(this.subnet.cidr);
        this.db.prepare("DELETE FROM ipam_state WHERE key = 'last'").run();
      })
      .immediate();
  }

  private toLease(row: { ip: number; container_id: string }): Lease {
    return {
      containerId: row.container_id,
      ip: numberToIp(row.ip),
      prefixLength: this.subnet.prefixLength,
      gateway: gatewayAddress(this.subnet),
    };
  }

  /** The container's address: its existing lease, or the next free one after the last handed out. */
  allocate(containerId: string): Lease {
    if (containerId === "") throw new Error("IPAM allocate needs a container id");
    return this.db
      .transaction((): Lease => {
        const existing = this.db
          .prepare("SELECT ip, container_id FROM ipam_lease WHERE container_id = ?")
          .get(containerId);
        if (existing !== undefined) return this.toLease(leaseRow(existing));
        const used = new Set(
          this.db
            .prepare("SELECT ip, container_id FROM ipam_lease")
            .all()
            .map((r) => leaseRow(r).ip),
        );
        const lastRow = this.db.prepare("SELECT value FROM ipam_state WHERE key = 'last'").get();
        const lastText =
          typeof lastRow === "object" && lastRow !== null && "value" in lastRow ? lastRow.value : undefined;
        const lastIp = typeof lastText === "string" ? ipToNumber(lastText) : this.last;
        const count = this.last - this.first + 1;
        for (let i = 1; i <= count; i++) {
          const candidate = this.first + ((lastIp - this.first + i + count) % count);
          if (used.has(candidate)) continue;
          this.db
            .prepare("INSERT INTO ipam_lease (ip, container_id, allocated_at) VALUES (?, ?, ?)")
            .run(candidate, containerId, Date.now());
          this.db
            .prepare("INSERT OR REPLACE INTO ipam_state (key, value) VALUES ('last', ?)")
            .run(numberToIp(candidate));
          return this.toLease({ ip: candidate, container_id: containerId });
        }
        throw new IpamExhaustedError(this.subnet.cidr, count);
      })
      .immediate();
  }

  /** Frees the container's address; false when it held none (release is idempotent). */
  release(containerId: string): boolean {
    return this.db.prepare("DELETE FROM ipam_lease WHERE container_id = ?").run(containerId).changes > 0;
  }

  /** The lease of one container, if any. */
  get(containerId: string): Lease | undefined {
    const row = this.db
      .prepare("SELECT ip, container_id FROM ipam_lease WHERE container_id = ?")
      .get(containerId);
    return row === undefined ? undefined : this.toLease(leaseRow(row));
  }

  leases(): Lease[] {
    return this.db
      .prepare("SELECT ip, container_id FROM ipam_lease ORDER BY ip")
      .all()
      .map((r) => this.toLease(leaseRow(r)));
  }

  /** Releases every lease whose container is not in `liveContainerIds`; returns the released ids. */
  reconcile(liveContainerIds: Iterable<string>): string[] {
    const live = new Set(liveContainerIds);
    return this.db
      .transaction((): string[] => {
        const leaked = this.leases().filter((l) => !live.has(l.containerId));
        const del = this.db.prepare("DELETE FROM ipam_lease WHERE container_id = ?");
        for (const l of leaked) del.run(l.containerId);
        if (leaked.length > 0) this.log.info({ released: leaked.length }, "released leaked pod addresses");
        return leaked.map((l) => l.containerId);
      })
      .immediate();
  }

  /** `.2`, the first address pods get (for callers that print the range). */
  firstAddress(): string {
    return addressAt(this.subnet, 2);
  }

  close(): void {
    this.db.close();
  }
}
