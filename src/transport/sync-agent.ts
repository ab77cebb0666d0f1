/**
 * SyncAgent: the agent's end of the sync protocol. It keeps the local desired-state cache (a
 * DesiredSink) in step with the hub and drains the status outbox to it.
 *
 * Design notes (see docs/sync-protocol.md)
 * - On every connect the agent says `hello {watermark}`; until the hub's answer (a delta or a
 *   snapshot carrying `replyTo` = the hello's id) arrives, other deltas are ignored: they belong to
 *   an older session and the answer supersedes them.
 * - Deltas chain: one starting above our watermark means something was lost, so we say hello again
 *   instead of applying a set with a hole in it. Changes at or below the watermark were already
 *   applied (skipped, so nothing is applied twice), and per object the newest revision wins.
 * - A snapshot replaces the whole set once all its chunks are in; a broken chunk sequence is
 *   dropped and re-requested with a hello.
 * - The `heartbeat` envelope (watermark, outbox size: observability) goes about hourly by
 *   default (jittered, 75–100 % of `heartbeatMs`, so a fleet that reconnected together after a
 *   hub restart does not beat in lock-step): the hub takes liveness from the connection itself,
 *   and every message costs a cellular device ≈0.7 KB on the wire (bench/sync).
 * - `stats` counts how the hub answered (snapshots vs deltas, and which of the answers to a
 *   hello were snapshots): the cheap way for an operator or a test to see that a reconnect
 *   resumed instead of refetching everything.
 * - The outbox is drained one status message at a time, reports of one tick together: the next batch goes when the hub acked the
 *   previous (or after a timeout, harmless because the hub drops what it already applied).
 */
import { type Logger, silentLogger } from "../lib/logger.js";
import {
  type DesiredChange,
  type DesiredObject,
  type Envelope,
  type EnvelopeOf,
  type EnvelopeType,
  envelope,
} from "./envelope.js";
import type { StatusOutbox } from "./outbox.js";

/** The agent's local copy of its desired set (the agent cache implements it, in one transaction). */
export interface DesiredSink {
  /** revision of the last delta/snapshot fully applied (0 = empty) */
  watermark(): number;
  /** revision of the object held under `key`, undefined when absent */
  version(key: string): number | undefined;
  /** applies already-filtered changes and records the new watermark, atomically */
  apply(changes: DesiredChange[], watermark: number): void;
  /** replaces the whole set (absent keys are deleted) and records `revision`, atomically */
  replace(objects: DesiredObject[], revision: number): void;
  /** optional: SetDigest (hex) of the whole set, sent with every hello (see set-digest.ts) */
  digest?(): string;
}

/** The agent's side of the link (EdgeLink implements it). */
export interface AgentChannel {
  readonly connected: boolean;
  send(env: Envelope): Promise<void>;
  on<T extends EnvelopeType>(type: T, handler: (env: EnvelopeOf<T>) => void): () => void;
  onStatus(handler: (s: { type: "connected" | "disconnected" }) => void): () => void;
}

export interface SyncAgentOptions {
  node: string;
  agentVersion: string;
  channel: AgentChannel;
  sink: DesiredSink;
  outbox: StatusOutbox;
  logger?: Logger;
  heartbeatMs?: number;
  /** resend hello / status when the hub did not answer within this time (default 30 s) */
  replyTimeoutMs?: number;
}

/** Sync counters since the agent started (`edge-agent status`, tests). */
export interface SyncStats {
  hellos: number;
  /** complete snapshots applied */
  snapshots: number;
  /** deltas applied */
  deltas: number;
  /** hellos answered by a delta (resumed, incl. the digest shortcut) vs by a snapshot */
  resumed: number;
  refetched: number;
}

/** default interval of the heartbeat envelope */
export const HEARTBEAT_MS = 3_600_000;

interface Assembly {
  id: string;
  next: number;
  objects: DesiredObject[];
}

export class SyncAgent {
  private readonly log: Logger;
  private readonly offs: Array<() => void> = [];
  private pendingHello: string | undefined;
  private helloTimer: NodeJS.Timeout | undefined;
  private assembly: Assembly | undefined;
  private inflight: { upTo: number; timer: NodeJS.Timeout } | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private running = false;
  private drainQueued = false;
  private readonly counters: SyncStats = { hellos: 0, snapshots: 0, deltas: 0, resumed: 0, refetched: 0 };

  constructor(private readonly opts: SyncAgentOptions) {
    this.log = (opts.logger ?? silentLogger()).child({ component: "sync-agent", node: opts.node });
  }

  async start(signal?: AbortSignal): Promise<void> {
    if (this.running) return;
    this.running = true;
    const ch = this.opts.channel;
    this.offs.push(
      ch.onStatus((s) => (s.type === "connected" ? this.onConnected() : this.onDisconnected())),
      ch.on("delta", (e) => this.onDelta(e)),
      ch.on("snapshot", (e) => this.onSnapshot(e)),
      ch.on("status-ack", (e) => this.onStatusAck(e)),
    );
    signal?.addEventListener("abort", () => this.stop(), { once: true });
    if (ch.connected) this.onConnected();
  }

  stop(): void {
    this.running = false;
    for (const off of this.offs.splice(0)) off();
    this.onDisconnected();
  }

  get stats(): Readonly<SyncStats> {
    return { ...this.counters };
  }

  /** Records the newest status of an object; it reaches the hub when the link allows. */
  reportStatus(key: string, status: unknown, observedRevision?: number): void {
    this.opts.outbox.put(key, status, observedRevision);
    // reports made in one tick (lease + node status, a pod's status + its event) share one
    // envelope: each message costs its own status-ack, PUBACKs, TLS records and TCP segments
    if (this.drainQueued) return;
    this.drainQueued = true;
    queueMicrotask(() => {
      this.drainQueued = false;
      this.drain();
    });
  }

  private onConnected(): void {
    this.sendHello();
    this.drain();
    this.scheduleHeartbeat();
  }

  private scheduleHeartbeat(): void {
    clearTimeout(this.heartbeat);
    const every = (this.opts.heartbeatMs ?? HEARTBEAT_MS) * (1 - 0.25 * Math.random());
    this.heartbeat = setTimeout(() => {
      const body = { watermark: this.opts.sink.watermark(), pending: this.opts.outbox.size() };
      this.send(envelope({ type: "heartbeat", ...body }));
      this.scheduleHeartbeat();
    }, every);
    this.heartbeat.unref();
  }

  private onDisconnected(): void {
    this.pendingHello = undefined;
    this.assembly = undefined;
    clearTimeout(this.helloTimer);
    clearTimeout(this.inflight?.timer);
    this.inflight = undefined;
    clearTimeout(this.heartbeat);
    this.heartbeat = undefined;
  }

  private send(env: Envelope): void {
    this.opts.channel.send(env).catch((err: Error) => this.log.debug({ err: err.message }, "send failed"));
  }

  private sendHello(): void {
    if (!this.running || !this.opts.channel.connected) return;
    const sink = this.opts.sink;
    const hello = envelope({
      type: "hello",
      node: this.opts.node,
      watermark: sink.watermark(),
      agentVersion: this.opts.agentVersion,
      ...(sink.digest ? { digest: sink.digest() } : {}),
    });
    this.pendingHello = hello.id;
    this.assembly = undefined;
    clearTimeout(this.helloTimer);
    this.helloTimer = setTimeout(() => this.sendHello(), this.opts.replyTimeoutMs ?? 30_000);
    this.counters.hellos++;
    this.send(hello);
  }

  /** While a hello is pending only its answer counts: anything else belongs to an older session. */
  private answers(replyTo: string | undefined): boolean {
    return this.pendingHello === undefined || replyTo === this.pendingHello;
  }

  private onDelta(env: EnvelopeOf<"delta">): void {
    if (!this.answers(env.replyTo)) return;
    const answer = this.pendingHello !== undefined;
    this.pendingHello = undefined;
    clearTimeout(this.helloTimer);
    this.assembly = undefined;
    const sink = this.opts.sink;
    const w = sink.watermark();
    if (env.from > w) {
      this.log.info({ from: env.from, watermark: w }, "gap in deltas; resyncing");
      this.sendHello();
      return;
    }
    // versions as they stand after the changes before this one in the same delta: a delta may
    // carry a key's put and its later delete, and judging the delete against the cache alone
    // (which does not hold the key yet) would drop it and keep a deleted object for good
    const seen = new Map<string, number | undefined>();
    const fresh = env.changes.filter((c) => {
      if (c.revision <= w) return false;
      const have = seen.has(c.key) ? seen.get(c.key) : sink.version(c.key);
      const ok =
        c.op === "put" ? have === undefined || c.revision > have : have !== undefined && c.revision >= have;
      if (ok) seen.set(c.key, c.op === "put" ? c.revision : undefined);
      return ok;
    });
    const watermark = Math.max(w, env.to);
    sink.apply(fresh, watermark);
    this.counters.deltas++;
    if (answer) this.counters.resumed++;
    this.send(envelope({ type: "ack", watermark }));
  }

  private onSnapshot(env: EnvelopeOf<"snapshot">): void {
    if (!this.answers(env.replyTo)) return;
    if (env.chunk === 0) this.assembly = { id: env.snapshotId, next: 0, objects: [] };
    const a = this.assembly;
    if (!a || a.id !== env.snapshotId || a.next !== env.chunk) {
      this.log.info({ snapshotId: env.snapshotId, chunk: env.chunk }, "broken snapshot; resyncing");
      this.sendHello();
      return;
    }
    a.objects.push(...env.objects);
    a.next++;
    if (a.next < env.chunks) return;
    this.assembly = undefined;
    const answer = this.pendingHello !== undefined;
    this.pendingHello = undefined;
    clearTimeout(this.helloTimer);
    this.opts.sink.replace(a.objects, env.revision);
    this.counters.snapshots++;
    if (answer) this.counters.refetched++;
    this.send(envelope({ type: "ack", watermark: env.revision }));
  }

  private drain(): void {
    if (!this.running || this.inflight || !this.opts.channel.connected) return;
    const outbox = this.opts.outbox;
    const updates = outbox.pending();
    const last = updates[updates.length - 1];
    if (!last) return;
    const timer = setTimeout(() => {
      this.inflight = undefined;
      this.drain();
    }, this.opts.replyTimeoutMs ?? 30_000);
    this.inflight = { upTo: last.seq, timer };
    this.send(envelope({ type: "status", epoch: outbox.epoch, updates }));
  }

  private onStatusAck(env: EnvelopeOf<"status-ack">): void {
    if (env.epoch !== this.opts.outbox.epoch) return;
    this.opts.outbox.ack(env.upTo);
    if (this.inflight && env.upTo >= this.inflight.upTo) {
      clearTimeout(this.inflight.timer);
      this.inflight = undefined;
      this.drain();
    }
  }
}
