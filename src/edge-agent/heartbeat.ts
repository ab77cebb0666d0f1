/**
 * NodeHeartbeat: reports the node's status (`node/<node>`) and Lease (`lease/<node>`) when the
 * status changed, and otherwise once an hour — kubelet's split between cheap liveness and rare
 * full status updates (KEP-589), carried over the edge link where every byte counts.
 *
 * Why so rarely (bench/sync, budget ≤ 50 KB per node per idle hour over cellular; see
 * docs/sync-protocol.md "Idle budget"): while the link is up the hub renews the Lease and
 * refreshes the status heartbeat time itself, because the MQTT connection is the liveness
 * signal (keepalive notices a dead link within 1.5× its interval and the last-will reports it).
 * A periodic lease report while connected would only repeat what the connection says (≈1.3 KB
 * on the wire each: envelope, status-ack, PUBACKs, TLS records, TCP headers). So the lease rides
 * along with each status report: at start, on change, hourly. KubeEdge's edged reports status
 * every 10 s and kubelet renews its lease every 10 s: ≈800 KB per node-hour on this link.
 *
 * Design notes
 * - The status is recomputed every `checkMs` (default 5 min; local work, no bytes unless it
 *   changed); a change (and `updateFacts`) goes out at once.
 * - Reports go into the status outbox, never straight onto the wire: while the hub is away each
 *   key holds one row (newest wins), so an offline week costs two rows, and the freshest lease
 *   and status reach the hub right after the link returns.
 * - The hourly refresh is jittered (next one after 75–100 % of `statusMs`): a fleet that boots
 *   together after a power cut would otherwise report in lock-step, hour after hour.
 * - The heartbeat keeps running while offline. It never decides anything about pods: the hub's
 *   node-lifecycle controller judges staleness, the agent just keeps reporting the truth.
 * - Ready=True means "the agent runs and reports"; its transition time is the agent's start, so
 *   repeated reports do not look like flapping.
 */
import type { Logger } from "../lib/logger.js";
import type { NodeFacts } from "./node-facts.js";
import { leaseReport, nodeStatus, statusFingerprint } from "./node-status.js";

/** default interval of the (local, silent) check for a changed status */
export const STATUS_CHECK_MS = 300_000;
/** default interval after which an unchanged status (and the lease) is reported again */
export const STATUS_REFRESH_MS = 3_600_000;
/** the refresh comes after STATUS_REFRESH_MS × (1 − JITTER × random) */
const REFRESH_JITTER = 0.25;

export type StatusReporter = (key: string, status: unknown) => void;

export interface HeartbeatOptions {
  node: string;
  nodeIP: string;
  facts: NodeFacts;
  report: StatusReporter;
  logger: Logger;
  /** how often the status is recomputed and compared (default 5 min) */
  checkMs?: number;
  /** an unchanged status (with the lease) is reported again after this long (default 1 h) */
  statusMs?: number;
  now?: () => Date;
  /** [0, 1) source for the refresh jitter (tests pin it) */
  random?: () => number;
}

export class NodeHeartbeat {
  private timer: NodeJS.Timeout | undefined;
  private lastFingerprint = "";
  /** when an unchanged status is reported again (ms since epoch) */
  private refreshAt = 0;
  private readySince: Date;
  private facts: NodeFacts;

  constructor(private readonly opts: HeartbeatOptions) {
    this.facts = opts.facts;
    this.readySince = this.now();
  }

  /** Reports at once, then checks every `checkMs`; stops with the signal. */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.timer) return;
    this.readySince = this.now();
    this.beat();
    this.timer = setInterval(() => this.beat(), this.opts.checkMs ?? STATUS_CHECK_MS);
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
      const status = nodeStatus(this.facts, {
        nodeIP: this.opts.nodeIP,
        hostname: this.facts.hostname,
        readySince: this.readySince,
        now,
      });
      const fp = statusFingerprint(status);
      if (fp === this.lastFingerprint && now.getTime() < this.refreshAt) return;
      this.opts.report(`lease/${node}`, leaseReport(node, now));
      this.opts.report(`node/${node}`, status);
      this.lastFingerprint = fp;
      const jitter = 1 - REFRESH_JITTER * (this.opts.random ?? Math.random)();
      this.refreshAt = now.getTime() + (this.opts.statusMs ?? STATUS_REFRESH_MS) * jitter;
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
