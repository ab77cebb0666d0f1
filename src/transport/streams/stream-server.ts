/**
 * StreamServer: the agent's end of the stream protocol. It accepts `stream-open` frames from the
 * hub and hands each to the handler registered for its kind (logs, exec, attach, portforward).
 *
 * Design notes
 * - A handler validates its params and prepares its resources (finds the container, starts the
 *   exec) before calling `accept()`: the hub answers kubectl's HTTP request only after the accept,
 *   so errors like "container not found" become proper API errors rather than a 200 with garbage.
 *   A handler that throws before accepting refuses the stream with the error's code and message
 *   (StreamRequestError carries an HTTP code; anything else is a 500).
 * - After accepting, the handler owns the stream; an error then aborts it (stream-close with the
 *   error) and the hub-side consumer sees it as a RemoteStreamError.
 * - When the link drops, every stream is aborted: the hub has already given up on them.
 * - `maxStreams` bounds concurrent streams so a runaway client cannot exhaust a 1 GB device.
 */
import { type Logger, silentLogger } from "../../lib/logger.js";
import { type Envelope, envelope } from "../envelope.js";
import {
  parseFrame,
  STREAM_FRAME_TYPES,
  STREAM_TOPIC,
  type StreamErrorInfo,
  type StreamFrame,
  type StreamKind,
} from "./frames.js";
import { DEFAULT_CHUNK, DEFAULT_WINDOW } from "./hub-mux.js";
import { MuxStream } from "./mux-stream.js";

/** What the server needs from the agent's link (EdgeLink fits). */
export interface AgentStreamChannel {
  send(env: Envelope, stream: string): Promise<void>;
  on(type: StreamFrame["type"], handler: (env: Envelope) => void): () => void;
  onStatus?(handler: (s: { type: string }) => void): () => void;
}

export interface StreamRequest {
  kind: StreamKind;
  params: Record<string, unknown>;
  /** Accepts the stream; call once, after the request is known to be servable. */
  accept(): MuxStream;
  /** aborted when the server stops */
  signal: AbortSignal;
}

export type StreamHandler = (req: StreamRequest) => Promise<void>;

/** A refusal with the HTTP code the hub should answer kubectl with. */
export class StreamRequestError extends Error {
  constructor(
    message: string,
    readonly code: number = 400,
    readonly reason: string = "BadRequest",
  ) {
    super(message);
    this.name = "StreamRequestError";
  }
}

export interface StreamServerOptions {
  channel: AgentStreamChannel;
  handlers: Partial<Record<StreamKind, StreamHandler>>;
  logger?: Logger;
  window?: number;
  chunkBytes?: number;
  maxStreams?: number;
}

export function errorInfo(err: unknown): StreamErrorInfo {
  if (err instanceof StreamRequestError) return { code: err.code, reason: err.reason, message: err.message };
  return { code: 500, reason: "InternalError", message: err instanceof Error ? err.message : String(err) };
}

export class StreamServer {
  private readonly log: Logger;
  private readonly streams = new Map<string, MuxStream>();
  private readonly opening = new Set<string>();
  private readonly unsubs: Array<() => void> = [];
  private abort = new AbortController();

  constructor(private readonly opts: StreamServerOptions) {
    this.log = (opts.logger ?? silentLogger()).child({ component: "stream-server" });
  }

  async start(signal?: AbortSignal): Promise<void> {
    this.abort = new AbortController();
    for (const t of STREAM_FRAME_TYPES) {
      this.unsubs.push(this.opts.channel.on(t, (env) => this.onEnvelope(env)));
    }
    const sub = this.opts.channel.onStatus?.((s) => {
      if (s.type !== "connected") this.abortAll(new Error("the edge link went down"));
    });
    if (sub) this.unsubs.push(sub);
    signal?.addEventListener("abort", () => this.stop(), { once: true });
  }

  /** Idempotent: aborts every stream. */
  stop(): void {
    for (const u of this.unsubs.splice(0)) u();
    this.abort.abort();
    this.abortAll(new Error("the edge agent is shutting down"));
  }

  get openStreams(): number {
    return this.streams.size;
  }

  private abortAll(err: Error): void {
    for (const s of [...this.streams.values()]) s.destroy(err);
  }

  private send(frame: StreamFrame): Promise<void> {
    return this.opts.channel.send(envelope(frame), STREAM_TOPIC);
  }

  private onEnvelope(env: Envelope): void {
    let frame: StreamFrame;
    try {
      frame = parseFrame(env);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "dropped stream frame");
      return;
    }
    if (frame.type === "stream-open") {
      this.onOpen(frame);
      return;
    }
    if (frame.type === "stream-close" && this.opening.has(frame.streamId)) {
      // the hub gave up waiting; the handler's accept() will find the stream closed
      this.opening.delete(frame.streamId);
      return;
    }
    this.streams.get(frame.streamId)?.receive(frame);
  }

  private onOpen(frame: Extract<StreamFrame, { type: "stream-open" }>): void {
    const { streamId, kind } = frame;
    const refuse = (info: StreamErrorInfo) => {
      this.send({ type: "stream-close", streamId, error: info }).catch(() => {});
    };
    const handler = this.opts.handlers[kind];
    if (!handler) {
      refuse({
        code: 501,
        reason: "NotImplemented",
        message: `this edge agent does not serve ${kind} streams`,
      });
      return;
    }
    if (this.streams.size + this.opening.size >= (this.opts.maxStreams ?? 64)) {
      refuse({
        code: 429,
        reason: "TooManyRequests",
        message: "the node has too many open streams (logs/exec/port-forward): close some and retry",
      });
      return;
    }
    this.opening.add(streamId);
    let stream: MuxStream | undefined;
    const accept = (): MuxStream => {
      if (stream) return stream;
      const s = new MuxStream(streamId, {
        window: this.opts.window ?? DEFAULT_WINDOW,
        peerWindow: frame.window,
        chunkBytes: this.opts.chunkBytes ?? DEFAULT_CHUNK,
        send: (f) => this.send(f),
        onDone: (id) => this.streams.delete(id),
      });
      stream = s;
      s.on("error", (err) => this.log.debug({ stream: streamId, kind, err: err.message }, "stream error"));
      if (!this.opening.delete(streamId)) {
        // the hub already gave up: hand out a dead stream so the handler cleans up
        s.destroy(new Error("the hub closed the stream before it was accepted"));
        return s;
      }
      this.streams.set(streamId, s);
      this.send({ type: "stream-accept", streamId, window: this.opts.window ?? DEFAULT_WINDOW }).catch(
        (err: unknown) => s.destroy(err as Error),
      );
      return s;
    };
    handler({ kind, params: frame.params, accept, signal: this.abort.signal }).catch((err: unknown) => {
      this.opening.delete(streamId);
      if (!stream) {
        this.log.debug({ stream: streamId, kind, err: (err as Error).message }, "stream refused");
        refuse(errorInfo(err));
      } else if (!stream.destroyed) {
        stream.abort(err as Error, errorInfo(err));
      }
    });
  }
}
