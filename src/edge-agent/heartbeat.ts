/**
 * NodeHeartbeat: reports the node's Lease (`lease/<node>`) every 5 min and the Node status
 * (`node/<node>`) when it changed or at least every hour — kubelet's split between cheap lease
 * renewals and rare full status updates (KEP-589), carried over the edge link.
 *
 * Why so rarely (bench/sync, ≤ 50 KB per node per idle hour over cellular): while the link is
 * up the hub renews the Lease and refreshes the status heartbeat time itself, because the MQTT
 * connection is the liveness signal (keepalive notices a dead link within 1.5× its interval and
 * the last-will reports it). Kubelet's 10 s lease / 60 s status cadence cost ≈800 KB per node
 * per hour on the wire; the keepalive alone costs ≈25 KB. These reports carry what only the
 * node knows (a status change goes out at once via updateFacts) and keep the outbox holding
 * the freshest lease for the moment an offline device reconnects.
 *
 * Design notes
 * - Reports go into the status outbox, never straight onto the wire: while the hub is away each
 *   key holds one row (newest wins), so an offline week costs two rows, and the freshest lease
 *   and status reach the hub right after the link returns.
 * - The heartbeat keeps running while offline. It never decides anything about pods: the hub's
 *   node-lifecycle controller judges staleness, the agent just keeps reporting the truth.
 * - Ready=True means "the agent runs and reports"; its transition time is the agent's start, so
 *   repeated reports do not look like flapping.
 */
import type { Logger } from "../lib/logger.js";
import type { NodeFacts } from "./node-facts.js";
import { leaseReport, nodeStatus, statusFingerprint } from "./node-status.js";

/** default interval of lease reports (and of the check for a changed status) */
export const LEASE_REPORT_MS = 300_000;
/** default interval after which an unchanged status is reported again */
export const STATUS_REFRESH_MS = 3_600_000;

export type StatusReporter = (key: string, status: unknown) => void;

export interface HeartbeatOptions {
  node: string;
  nodeIP: string;
  facts: NodeFacts;
  report: StatusReporter;
  logger: Logger;
  leaseMs?: number;
  statusMs?: number;
  now?: () => Date;
}

export class NodeHeartbeat {
  private timer: NodeJS.Timeout | undefined;
  private lastFingerprint = "";
  private lastStatusAt = 0;
  private readySince: Date;
  private facts: NodeFacts;

  constructor(private readonly opts: HeartbeatOptions) {
    this.facts = opts.facts;
    this.readySince = this.now();
  }

  /** Reports at once, then on the lease interval; stops with the signal. */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.timer) return;
    this.readySince = this.now();
    this.beat();
    this.timer = setInterval(() => this.beat(), this.opts.leaseMs ?? LEASE_REPORT_MS);
    this.timer.unref();
    signal?.addEventListener("abort", () => this.stop(), { once: true });
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** New facts (e.g. docker came up): the next beat reports the status if it differs. */
  updateFacts(facts: NodeFacts): void {
    this.facts = facts;
    this.beat();
  }

  private beat(): void {
    const now = this.now();
    const node = this.opts.node;
    try {
      this.opts.report(`lease/${node}`, leaseReport(node, now));
      const status = nodeStatus(this.facts, {
        nodeIP: this.opts.nodeIP,
        hostname: this.facts.hostname,
        readySince: this.readySince,
        now,
      });
      const fp = statusFingerprint(status);
      if (
        fp !== this.lastFingerprint ||
        now.getTime() - this.lastStatusAt >= (this.opts.statusMs ?? STATUS_REFRESH_MS)
      ) {
        this.opts.report(`node/${node}`, status);
        this.lastFingerprint = fp;
        this.lastStatusAt = now.getTime();
      }
    } catch (err) {
      // a full disk must not kill the agent: the pods keep running, the next beat retries
      this.opts.logger.error(
        { err: (err as Error).message },
        "cannot queue the node heartbeat; check free space in the data dir",
      );
    }
  }

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }
}
