/**
 * MetricsReporter: samples usage on a timer and sends it to the hub (`stream-metrics`).
 *
 * Design notes
 * - Default period 15 s, metrics-server's resolution; `kubectl top` shows at most that old data.
 * - Reports are fire-and-forget: while the link is down a report fails and is dropped; the next
 *   tick sends fresh numbers. A slow collection never overlaps the next (one in flight).
 */
import type Docker from "dockerode";
import { type Logger, silentLogger } from "../../lib/logger.js";
import { envelope } from "../../transport/envelope.js";
import {
  type AgentStreamChannel,
  METRICS_FRAME,
  METRICS_STREAM_ID,
  type MetricsReport,
  STREAM_TOPIC,
} from "../../transport/streams/index.js";
import type { ContainerRuntime } from "../runtime/index.js";
import { collectPodMetrics, NodeSampler } from "./metrics-collector.js";

export interface MetricsReporterOptions {
  channel: Pick<AgentStreamChannel, "send">;
  runtime: ContainerRuntime;
  docker: Docker;
  intervalMs?: number;
  logger?: Logger;
}

export class MetricsReporter {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private readonly node = new NodeSampler();
  private readonly log: Logger;

  constructor(private readonly opts: MetricsReporterOptions) {
    this.log = (opts.logger ?? silentLogger()).child({ component: "metrics-reporter" });
  }

  async start(signal?: AbortSignal): Promise<void> {
    await this.node.sample(); // prime the CPU baseline
    this.timer = setInterval(() => void this.reportOnce(), this.opts.intervalMs ?? 15_000);
    signal?.addEventListener("abort", () => this.stop(), { once: true });
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Collects and sends one report; resolves false when it could not be sent. */
  async reportOnce(): Promise<boolean> {
    if (this.busy) return false;
    this.busy = true;
    try {
      const report = await this.collect();
      await this.opts.channel.send(
        envelope({ type: METRICS_FRAME, streamId: METRICS_STREAM_ID, data: report }),
        STREAM_TOPIC,
      );
      return true;
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, "metrics report not sent");
      return false;
    } finally {
      this.busy = false;
    }
  }

  async collect(): Promise<MetricsReport> {
    const [node, pods] = await Promise.all([
      this.node.sample(),
      collectPodMetrics(this.opts.runtime, this.opts.docker),
    ]);
    return {
      node: {
        timestamp: new Date().toISOString(),
        windowSeconds: Math.max(1, Math.round(node.windowSeconds)),
        usage: { cpuNanoCores: node.cpuNanoCores, memoryBytes: node.memoryBytes },
      },
      pods,
    };
  }
}
