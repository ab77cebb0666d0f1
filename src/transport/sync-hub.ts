/**
 * SyncHub: the hub's end of the sync protocol. It keeps every connected node's desired set in step
 * and takes in the status the nodes report.
 *
 * Design notes (see docs/sync-protocol.md for the sequence diagram)
 * - Reliability is ours, not MQTT's. A node's session starts with its `hello {watermark}`; the hub
 *   answers with a delta from that watermark, or a snapshot when the source compacted past it (or
 *   the watermark is from the future, e.g. a hub restored from backup). After that it pushes deltas
 *   as the node's objects change. A message lost with a dropped link is recovered by the next hello.
 * - Change notifications only mark a session dirty; one pump per node then asks the source for
 *   "changes since what I last sent". Bursts coalesce into one delta, and there is never more than
 *   one send sequence per node in flight, so deltas leave in order.
 * - Sessions are replaced, never patched: a new hello (reconnect) or a disconnect discards the old
 *   session, and any send still running for it stops at its next step.
 * - Status intake is idempotent: per node and per object key the hub remembers the last applied
 *   outbox sequence (within the agent's outbox epoch) and drops anything not newer, then acks
 *   `upTo` so the agent can delete what was delivered. Status messages of one node are processed
 *   one at a time so an async sink cannot reorder them.
 */
import { randomUUID } from "node:crypto";
import { type Logger, silentLogger } from "../lib/logger.js";
import {
  type DesiredChange,
  type DesiredObject,
  type Envelope,
  type EnvelopeOf,
  envelope,
  type StatusUpdate,
} from "./envelope.js";
import { CHUNK_BUDGET_BYTES, chunkObjects, splitDelta } from "./sync-chunk.js";

/** Where a node's desired set comes from (the hub's store-backed node sync implements it). */
export interface DesiredSource {
  /** The node's complete desired set, consistent at `revision`. */
  snapshot(node: string): { revision: number; objects: DesiredObject[] };
  /**
   * Changes to the node's set with revision in (watermark, revision], objects leaving the set as
   * deletes; "compacted" when the history below `watermark` is gone.
   */
  changesSince(node: string, watermark: number): { revision: number; changes: DesiredChange[] } | "compacted";
  /** Calls `onChange` whenever the node's set may have changed; returns the unsubscribe function. */
  subscribe(node: string, onChange: () => void): () => void;
  /** optional: SetDigest (hex) of the node's current set and the revision it is consistent at */
  digest?(node: string): { revision: number; digest: string };
}

/** Where reported status goes (the hub's status writer implements it). Throwing means "retry". */
export interface StatusSink {
  apply(node: string, update: StatusUpdate): void | Promise<void>;
}

/** The hub's side of the link (MqttBroker implements it). */
export interface HubChannel {
  send(node: string, env: Envelope): Promise<void>;
  onEnvelope(handler: (node: string, env: Envelope, stream: string) => void): () => void;
  /** called when a node's last connection closed */
  onNodeDisconnected(handler: (node: string) => void): () => void;
}

export interface SyncHubOptions {
  channel: HubChannel;
  source: DesiredSource;
  status: StatusSink;
  logger?: Logger;
  chunkBytes?: number;
  onHeartbeat?: (node: string, hb: { watermark: number; pending: number }) => void;
}

interface Session {
  node: string;
  /** revision the node has been sent up to (its watermark once it applied everything) */
  sent: number;
  /** last watermark the node acknowledged */
  acked: number;
  /** id of the hello the next message answers */
  replyTo: string | undefined;
  /** the agent's SetDigest from its hello (used once, for the first answer) */
  digest: string | undefined;
  dirty: boolean;
  busy: boolean;
  unsubscribe: () => void;
}

export class SyncHub {
  private readonly log: Logger;
  private readonly sessions = new Map<string, Session>();
  private readonly statusSeen = new Map<string, { epoch: string; seqs: Map<string, number> }>();
  private readonly statusQueue = new Map<string, Promise<void>>();
  private offs: Array<() => void> = [];

  constructor(private readonly opts: SyncHubOptions) {
    this.log = (opts.logger ?? silentLogger()).child({ component: "sync-hub" });
  }

  async start(signal?: AbortSignal): Promise<void> {
    if (this.offs.length > 0) return;
    this.offs.push(
      this.opts.channel.onEnvelope((node, env, stream) => {
        if (stream === "sync") this.receive(node, env);
      }),
      this.opts.channel.onNodeDisconnected((node) => this.nodeDisconnected(node)),
    );
    signal?.addEventListener("abort", () => this.stop(), { once: true });
  }

  stop(): void {
    for (const off of this.offs.splice(0)) off();
    for (const node of [...this.sessions.keys()]) this.nodeDisconnected(node);
  }

  /** The node's last connection is gone (wired from the channel in start()): stop pushing to it. */
  nodeDisconnected(node: string): void {
    const s = this.sessions.get(node);
    if (!s) return;
    s.unsubscribe();
    this.sessions.delete(node);
  }

  /** Observability: what a connected node was sent and has acknowledged. */
  nodeState(node: string): { sent: number; acked: number } | undefined {
    const s = this.sessions.get(node);
    return s ? { sent: s.sent, acked: s.acked } : undefined;
  }

  private receive(node: string, env: Envelope): void {
    switch (env.type) {
      case "hello":
        this.hello(node, env);
        return;
      case "ack": {
        const s = this.sessions.get(node);
        if (s) s.acked = Math.max(s.acked, env.watermark);
        return;
      }
      case "status": {
        const prev = this.statusQueue.get(node) ?? Promise.resolve();
        const next = prev.then(() => this.intake(node, env));
        this.statusQueue.set(node, next);
        void next.finally(() => this.statusQueue.get(node) === next && this.statusQueue.delete(node));
        return;
      }
      case "heartbeat":
        this.opts.onHeartbeat?.(node, { watermark: env.watermark, pending: env.pending });
        return;
      default:
        this.log.debug({ node, type: env.type }, "ignored message type from node");
    }
  }

  private hello(node: string, env: EnvelopeOf<"hello">): void {
    if (env.node !== node) {
      this.log.warn({ node, claimed: env.node }, "hello names another node; ignored");
      return;
    }
    this.nodeDisconnected(node);
    const session: Session = {
      node,
      sent: env.watermark,
      acked: env.watermark,
      replyTo: env.id,
      digest: env.digest,
      dirty: false,
      busy: false,
      unsubscribe: () => {},
    };
    this.sessions.set(node, session);
    session.unsubscribe = this.opts.source.subscribe(node, () => this.kick(session));
    this.log.info({ node, watermark: env.watermark }, "node session started");
    this.kick(session);
  }

  private kick(session: Session): void {
    session.dirty = true;
    if (!session.busy) void this.pump(session);
  }

  private current(session: Session): boolean {
    return this.sessions.get(session.node) === session;
  }

  private async pump(session: Session): Promise<void> {
    session.busy = true;
    try {
      while (session.dirty && this.current(session)) {
        session.dirty = false;
        await this.flush(session);
      }
    } catch (err) {
      // the node is likely gone; its next hello starts over from its watermark
      this.log.info({ node: session.node, err: (err as Error).message }, "push to node failed");
    } finally {
      session.busy = false;
    }
  }

  private async flush(s: Session): Promise<void> {
    const res = this.opts.source.changesSince(s.node, s.sent);
    const agentDigest = s.digest;
    s.digest = undefined;
    if (res === "compacted" || res.revision < s.sent) {
      // history gone (e.g. a hub restart): if the agent's set already equals ours, an empty
      // delta up to our revision is the whole answer; only a differing set needs a snapshot
      const mine = agentDigest !== undefined ? this.opts.source.digest?.(s.node) : undefined;
      if (mine && mine.digest === agentDigest && mine.revision >= s.sent) {
        const replyTo = s.replyTo;
        s.replyTo = undefined;
        await this.opts.channel.send(
          s.node,
          envelope({
            type: "delta",
            ...(replyTo ? { replyTo } : {}),
            from: s.sent,
            to: mine.revision,
            changes: [],
          }),
        );
        s.sent = mine.revision;
        return;
      }
      await this.sendSnapshot(s);
      return;
    }
    if (res.changes.length === 0 && s.replyTo === undefined) return;
    const replyTo = s.replyTo;
    s.replyTo = undefined;
    for (const piece of splitDelta(
      s.sent,
      res.revision,
      res.changes,
      this.opts.chunkBytes ?? CHUNK_BUDGET_BYTES,
    )) {
      if (!this.current(s)) return;
      await this.opts.channel.send(
        s.node,
        envelope({ type: "delta", ...(replyTo ? { replyTo } : {}), ...piece }),
      );
      s.sent = piece.to;
    }
  }

  private async sendSnapshot(s: Session): Promise<void> {
    const snap = this.opts.source.snapshot(s.node);
    const chunks = chunkObjects(snap.objects, this.opts.chunkBytes ?? CHUNK_BUDGET_BYTES);
    const snapshotId = randomUUID();
    const replyTo = s.replyTo;
    s.replyTo = undefined;
    this.log.info({ node: s.node, revision: snap.revision, chunks: chunks.length }, "sending snapshot");
    for (const [chunk, objects] of chunks.entries()) {
      if (!this.current(s)) return;
      const body = {
        type: "snapshot" as const,
        snapshotId,
        revision: snap.revision,
        chunk,
        chunks: chunks.length,
      };
      await this.opts.channel.send(s.node, envelope({ ...body, ...(replyTo ? { replyTo } : {}), objects }));
    }
    s.sent = snap.revision;
  }

  private async intake(node: string, env: EnvelopeOf<"status">): Promise<void> {
    let seen = this.statusSeen.get(node);
    if (!seen || seen.epoch !== env.epoch) {
      seen = { epoch: env.epoch, seqs: new Map() };
      this.statusSeen.set(node, seen);
    }
    let upTo = 0;
    try {
      for (const u of env.updates) {
        if (u.seq > (seen.seqs.get(u.key) ?? 0)) {
          await this.opts.status.apply(node, u);
          seen.seqs.set(u.key, u.seq);
        } else {
          this.log.debug({ node, key: u.key, seq: u.seq }, "dropped stale status");
        }
        upTo = Math.max(upTo, u.seq);
      }
    } catch (err) {
      this.log.warn({ node, err: (err as Error).message }, "status sink failed; the node will resend");
    }
    if (upTo === 0) return;
    await this.opts.channel
      .send(node, envelope({ type: "status-ack", epoch: env.epoch, upTo }))
      .catch((err: Error) => this.log.debug({ node, err: err.message }, "status-ack not delivered"));
  }
}
