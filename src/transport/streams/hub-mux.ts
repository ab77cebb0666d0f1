/**
 * StreamMux: the hub's end of the stream protocol. `open(node, kind, params)` asks an agent for
 * a stream (logs, exec, attach, port-forward) and resolves with a MuxStream once it accepted.
 *
 * Design notes
 * - The hub is always the opener; stream ids are random UUIDs, so a node cannot guess or hijack
 *   another's stream, and frames from node A naming a stream of node B are dropped.
 * - An open that gets no answer within `openTimeoutMs` fails with a message that names the node
 *   (usually its agent is offline); a refusal carries the agent's error (container not found …)
 *   with the HTTP code the API should answer.
 * - When a node's last connection drops, every stream of that node is aborted: MQTT clean
 *   sessions drop in-flight frames, so the streams could not be resumed anyway.
 */
import { randomUUID } from "node:crypto";
import { type Logger, silentLogger } from "../../lib/logger.js";
import { type Envelope, envelope } from "../envelope.js";
import {
  parseFrame,
  RemoteStreamError,
  STREAM_TOPIC,
  type StreamFrame,
  type StreamKind,
  StreamProtocolError,
} from "./frames.js";
import { MuxStream } from "./mux-stream.js";

/** What the mux needs from the broker (MqttBroker fits). */
export interface HubStreamChannel {
  send(node: string, env: Envelope, stream: string): Promise<void>;
  onEnvelope(handler: (node: string, env: Envelope, stream: string) => void): () => void;
  onNodeDisconnected?(handler: (node: string) => void): () => void;
}

export interface StreamMuxOptions {
  channel: HubStreamChannel;
  logger?: Logger;
  /** receive window per stream in bytes (default 1 MiB: HUB_WINDOW) */
  window?: number;
  /** largest data frame payload (default 64 KiB) */
  chunkBytes?: number;
  /** how long an agent may take to accept an open (default 10 s) */
  openTimeoutMs?: number;
}

/** receive window of an agent (exec stdin, port-forward uploads): small, a device has little RAM */
export const DEFAULT_WINDOW = 256 * 1024;
/**
 * The hub's receive window per stream (logs, exec output, downloads). A sender can move one
 * window per credit round trip (agent → broker → hub → broker → agent), which on a loaded
 * link is tens of ms: 256 KiB capped a log near 3 MB/s under load (bench/pods); the hub has
 * the memory for 1 MiB per stream.
 */
export const HUB_WINDOW = 1024 * 1024;
/** 64 KiB per frame (≈87 KB of base64 in its envelope): half the per-frame costs of 32 KiB */
export const DEFAULT_CHUNK = 64 * 1024;

export class StreamOpenError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly reason: string,
  ) {
    super(message);
    this.name = "StreamOpenError";
  }
}

interface Pending {
  node: string;
  resolve: (s: MuxStream) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class StreamMux {
  private readonly log: Logger;
  private readonly streams = new Map<string, { node: string; stream: MuxStream }>();
  private readonly pending = new Map<string, Pending>();
  private readonly unsubs: Array<() => void> = [];
  private readonly window: number;
  private readonly chunkBytes: number;

  constructor(private readonly opts: StreamMuxOptions) {
    this.log = (opts.logger ?? silentLogger()).child({ component: "stream-mux" });
    this.window = opts.window ?? HUB_WINDOW;
    this.chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK;
  }

  async start(signal?: AbortSignal): Promise<void> {
    this.unsubs.push(this.opts.channel.onEnvelope((node, env, stream) => this.onEnvelope(node, env, stream)));
    const sub = this.opts.channel.onNodeDisconnected?.((node) => this.dropNode(node));
    if (sub) this.unsubs.push(sub);
    signal?.addEventListener("abort", () => this.stop(), { once: true });
  }

  /** Idempotent: aborts every stream and pending open. */
  stop(): void {
    for (const u of this.unsubs.splice(0)) u();
    for (const [id, p] of this.pending) this.failPending(id, p, new Error("the hub is shutting down"));
    for (const { stream } of [...this.streams.values()])
      stream.destroy(new Error("the hub is shutting down"));
  }

  /** Streams currently open (for diagnostics and tests). */
  get openStreams(): number {
    return this.streams.size;
  }

  /** Opens a stream to `node`; resolves once the agent accepted it. */
  open(node: string, kind: StreamKind, params: Record<string, unknown>): Promise<MuxStream> {
    const streamId = randomUUID();
    return new Promise<MuxStream>((resolve, reject) => {
      const ms = this.opts.openTimeoutMs ?? 10_000;
      const timer = setTimeout(() => {
        const p = this.pending.get(streamId);
        if (!p) return;
        this.failPending(
          streamId,
          p,
          new StreamOpenError(
            `node "${node}" did not answer a ${kind} request within ${ms / 1000} s: ` +
              "check that its edge agent is running and connected to the hub",
            503,
            "ServiceUnavailable",
          ),
        );
        this.sendFrame(node, { type: "stream-close", streamId }).catch(() => {});
      }, ms);
      this.pending.set(streamId, { node, resolve, reject, timer });
      this.sendFrame(node, { type: "stream-open", streamId, kind, params, window: this.window }).catch(
        (err: unknown) => {
          const p = this.pending.get(streamId);
          if (p)
            this.failPending(
              streamId,
              p,
              new StreamOpenError(
                `cannot reach node "${node}": ${(err as Error).message}`,
                503,
                "ServiceUnavailable",
              ),
            );
        },
      );
    });
  }

  private failPending(id: string, p: Pending, err: Error): void {
    clearTimeout(p.timer);
    this.pending.delete(id);
    p.reject(err);
  }

  private sendFrame(node: string, frame: StreamFrame): Promise<void> {
    return this.opts.channel.send(node, envelope(frame), STREAM_TOPIC);
  }

  private onEnvelope(node: string, env: Envelope, topic: string): void {
    if (topic !== STREAM_TOPIC || !env.type.startsWith("stream-")) return;
    let frame: StreamFrame;
    try {
      frame = parseFrame(env);
    } catch (err) {
      this.log.warn({ node, err: (err as Error).message }, "dropped stream frame");
      return;
    }
    const p = this.pending.get(frame.streamId);
    if (p) {
      if (p.node !== node) return;
      if (frame.type === "stream-accept") {
        clearTimeout(p.timer);
        this.pending.delete(frame.streamId);
        const stream = this.makeStream(node, frame.streamId, frame.window);
        p.resolve(stream);
      } else if (frame.type === "stream-close") {
        const e = frame.error ?? {
          code: 500,
          reason: "InternalError",
          message: "the agent refused the stream",
        };
        this.failPending(frame.streamId, p, new StreamOpenError(e.message, e.code, e.reason));
      } else {
        this.failPending(frame.streamId, p, new StreamProtocolError(`${frame.type} before stream-accept`));
      }
      return;
    }
    const entry = this.streams.get(frame.streamId);
    if (!entry || entry.node !== node) return;
    entry.stream.receive(frame);
  }

  private makeStream(node: string, id: string, peerWindow: number): MuxStream {
    const stream = new MuxStream(id, {
      window: this.window,
      peerWindow,
      chunkBytes: this.chunkBytes,
      send: (f) => this.sendFrame(node, f),
      onDone: (sid) => this.streams.delete(sid),
    });
    // a consumer that forgot an error listener must not crash the hub
    stream.on("error", (err) => {
      if (!(err instanceof RemoteStreamError))
        this.log.debug({ node, stream: id, err: err.message }, "stream error");
    });
    this.streams.set(id, { node, stream });
    return stream;
  }

  private dropNode(node: string): void {
    for (const [id, p] of this.pending) {
      if (p.node === node) {
        this.failPending(
          id,
          p,
          new StreamOpenError(`node "${node}" disconnected`, 503, "ServiceUnavailable"),
        );
      }
    }
    for (const { node: n, stream } of [...this.streams.values()]) {
      if (n === node) stream.destroy(new Error(`node "${node}" disconnected from the hub`));
    }
  }
}
