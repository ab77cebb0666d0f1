/**
 * EdgeLink: the agent's end of the edge link, over mqtt.js (mqtts:// or wss://).
 *
 * Design notes
 * - One mqtt.js client per connection attempt, with mqtt.js' own reconnect disabled
 *   (reconnectPeriod 0). Reconnects are ours, decided by ReconnectPolicy (reconnect-policy.ts):
 *   a hub that cannot be reached at all (TCP connect unanswered) is probed again every 0.5–2 s
 *   (full jitter), a hub that answered and failed (refused, TLS error, CONNACK timeout or error,
 *   a dropped connection) gets full-jitter exponential backoff, 1 s doubling to 30 s, so a hub
 *   restart does not make a fleet reconnect in lock-step; refused credentials wait the maximum.
 * - Probing widens after a long outage (2 min of it: towards 5–15 s at 5 min), so a device
 *   offline for days does not dial every second for days; any answer from the hub resets it.
 * - The TCP connect is ours on both transports (link-connect.ts, dialer.ts), with its own short
 *   timeout (3.5 s), then TLS (and, for wss, the WebSocket upgrade) runs over that socket. That
 *   is what tells "unreachable" (the SYN went into a black hole) from "the hub is slow" (TCP
 *   connected, CONNACK late).
 * - One connection's lifetime (CONNACK, subscription, presence, messages, its end, the graceful
 *   close) is a LinkSession (link-session.ts); this class owns what spans connections: options,
 *   the reconnect schedule, handlers, the TLS ticket, and the status the agent sees.
 * - Half-open links: mqtt.js pings after `keepalive` seconds of silence and gives up after 1.5×,
 *   so a black-holed link is noticed within 2× keepalive. The broker uses the same keepalive to
 *   drop us and publish our last-will (`presence {online:false}`).
 * - CONNACK timeout 30 s (mqtt.js' default) once TCP connected, not less: in a reconnect storm
 *   the hub answers late because it works through thousands of handshakes; giving up at 10 s
 *   threw away the handshake the hub had already paid for and queued the agent again behind
 *   everyone else, so the storm fed itself (bench/sync: 544 "connack timeout"s for 500 agents
 *   on a loaded host). A dead link is noticed by the TCP connect timeout instead.
 * - TLS session resumption: the link keeps the session ticket of its last connection and
 *   offers it on the next attempt; the hub (broker.ts) then skips certificates and signatures,
 *   which makes a fleet's reconnect storm cheaper for it. A ticket the hub no longer accepts
 *   (its ticket key rotated, docs/sync-protocol.md) just means a full handshake.
 * - `send` is QoS 1 and rejects when the link is down; reliability (outbox, watermarks) lives in
 *   the sync engine, never in mqtt.js' in-memory queues.
 */
import type { Packet } from "mqtt";
import { type Logger, silentLogger } from "../lib/logger.js";
import {
  decodeEnvelope,
  type Envelope,
  type EnvelopeOf,
  type EnvelopeType,
  encodeEnvelope,
  MAX_PACKET_BYTES,
} from "./envelope.js";
import { type LinkEndpoint, openMqttClient } from "./link-connect.js";
import { LinkSession } from "./link-session.js";
import {
  classifyFailure,
  type FailureKind,
  ReconnectPolicy,
  type ReconnectPolicyOptions,
} from "./reconnect-policy.js";
import { assertNodeName, SYNC_STREAM, upTopic } from "./topics.js";

export interface EdgeLinkOptions extends LinkEndpoint {
  /** exponential backoff after failures where the hub answered (default 1 s doubling to 30 s) */
  backoff?: { baseMs?: number; maxMs?: number };
  /**
   * probe interval while the hub is unreachable (default full jitter in [500, 2000] ms), and how
   * it widens after a long outage (default from 2 min on, to [5, 15] s at 5 min)
   */
  probe?: { minMs?: number; maxMs?: number; widen?: ReconnectPolicyOptions["probeWiden"] };
  /** reset the backoff after a connection stayed up this long (default 10 s) */
  stableMs?: number;
  maxPacketBytes?: number;
  logger?: Logger;
  /** injectable for tests of the jitter */
  random?: () => number;
  /**
   * Debug hook: every MQTT packet this link sends or receives (PINGREQ/PINGRESP, PUBACKs and
   * PUBLISHes alike). bench/sync tallies what an idle link carries with it; unset in production.
   */
  onPacket?: (direction: "in" | "out", packet: Packet) => void;
}

export type LinkStatus =
  /** tlsResumed: the TLS handshake resumed the previous session (no certificates exchanged) */
  | { type: "connected"; tlsResumed: boolean }
  /** retryInMs is -1 after stop() (no retry) */
  | {
      type: "disconnected";
      error?: Error;
      retryInMs: number;
      authFailed: boolean;
      /** how the policy read the failure ("unreachable": probing; undefined after stop()) */
      failure?: FailureKind;
      /** how long the failed attempt took, ms (0 when a connection that was up ended) */
      attemptMs?: number;
    };

export class NotConnectedError extends Error {
  constructor(node: string, cause?: Error) {
    super(
      `edge link of node "${node}" is not connected; the message was not sent (retry after reconnect)`,
      cause ? { cause } : undefined,
    );
    this.name = "NotConnectedError";
  }
}

export { backoffDelay } from "./reconnect-policy.js";

type Handler = (env: Envelope) => void;

export class EdgeLink {
  private readonly log: Logger;
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly statusHandlers = new Set<(s: LinkStatus) => void>();
  private session: LinkSession | undefined;
  private isConnected = false;
  private readonly policy: ReconnectPolicy;
  /** aborts the TCP connect under way (stop) */
  private dialing: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  /** TLS session ticket of the last connection, offered on the next (see the design notes) */
  private tlsSession: Buffer | undefined;

  constructor(private readonly opts: EdgeLinkOptions) {
    this.log = (opts.logger ?? silentLogger()).child({ component: "edge-link", node: opts.node });
    this.policy = new ReconnectPolicy(
      {
        // 30 s cap: after a hub restart a fleet spread over 30 s reconnects at ~170/s for 5,000
        // nodes (the broker takes ~400/s), and the last node is back within 30 s of the hub
        // (bench/sync); a 60 s cap made the storm last longer than the hub was down
        ...(opts.backoff?.baseMs !== undefined ? { baseMs: opts.backoff.baseMs } : {}),
        ...(opts.backoff?.maxMs !== undefined ? { maxMs: opts.backoff.maxMs } : {}),
        ...(opts.probe?.minMs !== undefined ? { probeMinMs: opts.probe.minMs } : {}),
        ...(opts.probe?.maxMs !== undefined ? { probeMaxMs: opts.probe.maxMs } : {}),
        ...(opts.probe?.widen !== undefined ? { probeWiden: opts.probe.widen } : {}),
        ...(opts.stableMs !== undefined ? { stableMs: opts.stableMs } : {}),
        ...(opts.tcpConnectTimeoutMs !== undefined ? { dialMs: opts.tcpConnectTimeoutMs } : {}),
      },
      opts.random ?? Math.random,
    );
  }

  /** Validates the options and starts connecting in the background (the hub may be down). */
  async start(signal?: AbortSignal): Promise<void> {
    assertNodeName(this.opts.node);
    if (!/^(mqtts|wss):\/\//.test(this.opts.url)) {
      throw new Error(
        `edge link URL "${this.opts.url}" must start with mqtts:// or wss:// (TLS is required)`,
      );
    }
    if (!this.opts.cert !== !this.opts.key) throw new Error("edge link: give both cert and key, or neither");
    if (!this.opts.cert && this.opts.username === undefined) {
      throw new Error(
        "edge link needs credentials: a client certificate and key, or a username and password",
      );
    }
    this.stopped = false;
    signal?.addEventListener("abort", () => void this.stop(), { once: true });
    this.connectOnce();
  }

  /** Idempotent: says goodbye on the presence topic when connected, then closes. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.dialing?.abort(new Error("edge link stopped"));
    const session = this.session;
    this.session = undefined;
    await session?.close();
    this.setConnected(false);
  }

  get connected(): boolean {
    return this.isConnected;
  }

  /** Publishes one envelope with QoS 1; resolves on the broker's PUBACK. */
  send(env: Envelope, stream: string = SYNC_STREAM): Promise<void> {
    const session = this.session;
    if (!session || !this.isConnected) return Promise.reject(new NotConnectedError(this.opts.node));
    let payload: Buffer;
    try {
      payload = encodeEnvelope(env, this.opts.maxPacketBytes ?? MAX_PACKET_BYTES);
    } catch (err) {
      return Promise.reject(err);
    }
    return session
      .publish(upTopic(this.opts.node, stream), payload)
      .catch((err: Error) => Promise.reject(new NotConnectedError(this.opts.node, err)));
  }

  /** Handles every received envelope of one type; returns the unsubscribe function. */
  on<T extends EnvelopeType>(type: T, handler: (env: EnvelopeOf<T>) => void): () => void {
    let set = this.handlers.get(type);
    if (!set) {
      set = new Set();
      this.handlers.set(type, set);
    }
    const h = handler as Handler;
    set.add(h);
    return () => set.delete(h);
  }

  /** Connection state changes; returns the unsubscribe function. */
  onStatus(handler: (s: LinkStatus) => void): () => void {
    this.statusHandlers.add(handler);
    return () => this.statusHandlers.delete(handler);
  }

  private connectOnce(): void {
    if (this.stopped) return;
    const ac = new AbortController();
    this.dialing = ac;
    const started = performance.now();
    openMqttClient(
      {
        ...this.opts,
        // short while an outage is young (reconnect-policy.ts: probe dials)
        tcpConnectTimeoutMs: this.policy.dialTimeoutMs(),
        ...(this.tlsSession ? { session: this.tlsSession } : {}),
      },
      ac.signal,
    ).then(
      ({ client, tls, tcpMs }) => {
        if (this.dialing === ac) this.dialing = undefined;
        this.policy.tcpConnected(tcpMs);
        if (this.stopped) {
          client.end(true);
          return;
        }
        const onPacket = this.opts.onPacket;
        const session: LinkSession = new LinkSession(client, tls, this.opts.node, {
          up: (tlsResumed) => this.setConnected(true, undefined, tlsResumed),
          down: (err) => {
            if (this.session === session) this.session = undefined;
            this.setConnected(false, err);
          },
          message: (payload) => this.dispatch(payload),
          ticket: (s) => {
            this.tlsSession = s;
          },
          ...(onPacket ? { packet: onPacket } : {}),
        });
        this.session = session;
      },
      (err: Error) => {
        if (this.dialing === ac) this.dialing = undefined;
        if (!this.stopped) this.setConnected(false, err, false, performance.now() - started);
      },
    );
  }

  private dispatch(payload: Buffer): void {
    let env: Envelope;
    try {
      env = decodeEnvelope(payload);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "dropped message from hub");
      return;
    }
    for (const h of this.handlers.get(env.type) ?? []) h(env);
  }

  /** `attemptMs`: how long a failed attempt took (0 when a connection that was up ended) */
  private setConnected(up: boolean, error?: Error, tlsResumed = false, attemptMs = 0): void {
    if (up) {
      this.isConnected = true;
      this.policy.connected();
      this.log.info({ tlsResumed }, "edge link connected");
      this.emitStatus({ type: "connected", tlsResumed });
      return;
    }
    const was = this.isConnected;
    this.isConnected = false;
    if (this.stopped) {
      if (was) this.emitStatus({ type: "disconnected", retryInMs: -1, authFailed: false });
      return;
    }
    const failure = classifyFailure(error as (Error & { code?: unknown }) | undefined);
    const retryInMs = this.policy.next(failure, attemptMs);
    const unreachableForMs = Math.round(this.policy.unreachableForMs);
    attemptMs = Math.round(attemptMs);
    this.log.info(
      {
        err: error?.message,
        failure,
        retryInMs,
        ...(attemptMs > 0 ? { attemptMs } : {}),
        ...(unreachableForMs > 0 ? { unreachableForMs } : {}),
      },
      "edge link down; reconnecting",
    );
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connectOnce(), retryInMs);
    this.emitStatus({
      type: "disconnected",
      ...(error ? { error } : {}),
      retryInMs,
      authFailed: failure === "auth",
      failure,
      attemptMs,
    });
  }

  private emitStatus(s: LinkStatus): void {
    for (const h of this.statusHandlers) h(s);
  }
}
