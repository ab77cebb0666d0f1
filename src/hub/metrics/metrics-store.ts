/**
 * MetricsStore: the latest usage report of every node, in memory, for metrics.k8s.io.
 *
 * Design notes
 * - Usage is a sample, not state: nothing is persisted (no SD-card writes), a hub restart
 *   starts empty and fills within one report period.
 * - A node's report replaces its previous one wholesale, so pods that stopped disappear.
 *   Reports older than `maxAgeMs` are not served (a node that went away shows no usage rather
 *   than stale numbers), and the pod→node index is rebuilt on each report.
 */
import type { Logger } from "../../lib/logger.js";
import type { Envelope } from "../../transport/envelope.js";
import {
  METRICS_FRAME,
  type MetricsReport,
  type PodUsage,
  parseMetricsReport,
  STREAM_TOPIC,
} from "../../transport/streams/index.js";

/** Where reports come from (MqttBroker fits). */
export interface MetricsSource {
  onEnvelope(handler: (node: string, env: Envelope, stream: string) => void): () => void;
}

export class MetricsStore {
  private readonly reports = new Map<string, { at: number; report: MetricsReport }>();
  private unsub: (() => void) | undefined;

  constructor(
    private readonly opts: { source?: MetricsSource; logger: Logger; now?: () => number; maxAgeMs?: number },
  ) {}

  async start(signal?: AbortSignal): Promise<void> {
    this.unsub = this.opts.source?.onEnvelope((node, env, stream) => {
      if (stream !== STREAM_TOPIC || env.type !== METRICS_FRAME) return;
      try {
        this.put(node, parseMetricsReport((env as { data?: unknown }).data));
      } catch (err) {
        this.opts.logger.warn({ node, err: (err as Error).message }, "dropped metrics report");
      }
    });
    signal?.addEventListener("abort", () => this.stop(), { once: true });
  }

  stop(): void {
    this.unsub?.();
    this.unsub = undefined;
  }

  /** Records a node's report (also the entry point for in-process agents and tests). */
  put(node: string, report: MetricsReport): void {
    this.reports.set(node, { at: this.now(), report });
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  private fresh(): [string, MetricsReport][] {
    const limit = this.now() - (this.opts.maxAgeMs ?? 5 * 60_000);
    return [...this.reports.entries()].filter(([, r]) => r.at >= limit).map(([n, r]) => [n, r.report]);
  }

  nodes(): { node: string; usage: MetricsReport["node"] }[] {
    return this.fresh().map(([node, r]) => ({ node, usage: r.node }));
  }

  pods(namespace?: string): PodUsage[] {
    return this.fresh()
      .flatMap(([, r]) => r.pods)
      .filter((p) => namespace === undefined || p.namespace === namespace);
  }
}
