/**
 * Versioned JSON envelopes: the only thing that travels over the edge link.
 *
 * Design notes
 * - Every message is `{v, type, id, ts, ...body}`. `v` is the protocol version: a peer that
 *   receives a version it does not speak rejects the message with an error that says to upgrade,
 *   instead of guessing. `id` lets a reply name its request (`replyTo`), `ts` is the sender's clock
 *   (for diagnostics only, never for ordering: ordering comes from revisions and sequences).
 * - Decoding validates by hand (see envelope-check.ts) and throws EnvelopeError naming the
 *   offending field, so a malformed or hostile message is dropped and logged, never crashes a peer.
 * - JSON, not protobuf: messages are small except Secrets/ConfigMaps (up to 1 MiB), and a readable
 *   wire makes field debugging with `mosquitto_sub` possible. MAX_PACKET_BYTES leaves room for a
 *   1 MiB object plus JSON escaping and the envelope around it; the broker enforces the same bound.
 */
import { randomUUID } from "node:crypto";
import type { KubeObject } from "../api/object.js";
import { checkBody, EnvelopeError } from "./envelope-check.js";

export { EnvelopeError };

export const PROTOCOL_VERSION = 1;

/** Largest MQTT packet either side accepts (a 1 MiB object, escaped, plus envelope). */
export const MAX_PACKET_BYTES = 4 * 1024 * 1024;

/** One object of a node's desired set; `revision` is its resourceVersion. */
export interface DesiredObject {
  key: string;
  revision: number;
  object: KubeObject;
}

/** A change to a node's desired set; a delete's revision is the revision of the delete. */
export type DesiredChange =
  | { op: "put"; key: string; revision: number; object: KubeObject }
  | { op: "delete"; key: string; revision: number };

/**
 * One status report for one object. `seq` orders reports of one outbox epoch (newer = larger):
 * the hub drops a report whose seq is not above the last it applied for that key.
 */
export interface StatusUpdate {
  key: string;
  seq: number;
  /** resourceVersion of the desired object the status was computed from, if any */
  observedRevision?: number;
  status: unknown;
}

export interface HelloBody {
  type: "hello";
  node: string;
  /** revision of the last delta/snapshot the agent applied (0 = nothing yet) */
  watermark: number;
  agentVersion: string;
  /** SetDigest of the agent's whole set (hex), when its sink keeps one: lets the hub answer an
   * unchanged set with an empty delta when its history no longer reaches `watermark` */
  digest?: string;
}
export interface SnapshotBody {
  type: "snapshot";
  replyTo?: string;
  snapshotId: string;
  revision: number;
  /** 0-based chunk index; the set is complete when chunks 0..chunks-1 have arrived */
  chunk: number;
  chunks: number;
  objects: DesiredObject[];
}
export interface DeltaBody {
  type: "delta";
  replyTo?: string;
  /** the watermark this delta starts from: changes with revision in (from, to] */
  from: number;
  to: number;
  changes: DesiredChange[];
}
export interface AckBody {
  type: "ack";
  watermark: number;
}
export interface StatusBody {
  type: "status";
  /** identity of the agent's outbox; seq numbers compare only within one epoch */
  epoch: string;
  updates: StatusUpdate[];
}
export interface StatusAckBody {
  type: "status-ack";
  epoch: string;
  /** every update with seq <= upTo has been applied (or dropped as stale) by the hub */
  upTo: number;
}
export interface HeartbeatBody {
  type: "heartbeat";
  watermark: number;
  /** status updates waiting in the agent's outbox */
  pending: number;
}
export interface PresenceBody {
  type: "presence";
  online: boolean;
}
/** Reserved for logs/exec/port-forward streams; only the frame is validated here. */
export interface StreamBody {
  type: `stream-${string}`;
  streamId: string;
  data?: unknown;
}

export type EnvelopeBody =
  | HelloBody
  | SnapshotBody
  | DeltaBody
  | AckBody
  | StatusBody
  | StatusAckBody
  | HeartbeatBody
  | PresenceBody
  | StreamBody;

export interface EnvelopeHeader {
  v: typeof PROTOCOL_VERSION;
  id: string;
  ts: number;
}

export type Envelope = EnvelopeHeader & EnvelopeBody;
export type EnvelopeType = EnvelopeBody["type"];
export type FixedEnvelopeType = Exclude<EnvelopeType, StreamBody["type"]>;
export type EnvelopeOf<T extends EnvelopeType> = EnvelopeHeader & Extract<EnvelopeBody, { type: T }>;

/** Wraps a body into an envelope with a fresh id and the sender's time. */
export function envelope<B extends EnvelopeBody>(body: B, now: number = Date.now()): EnvelopeHeader & B {
  return { v: PROTOCOL_VERSION, id: randomUUID(), ts: now, ...body };
}

/** Serializes an envelope, refusing one that would exceed the packet limit. */
export function encodeEnvelope(env: Envelope, maxBytes: number = MAX_PACKET_BYTES): Buffer {
  const buf = Buffer.from(JSON.stringify(env), "utf8");
  if (buf.length > maxBytes) {
    throw new EnvelopeError(
      `${env.type} message is ${buf.length} bytes, over the ${maxBytes}-byte limit: ` +
        "split it (snapshots and deltas are chunked by the sync engine) or shrink the object",
    );
  }
  return buf;
}

/** Parses and validates one envelope; throws EnvelopeError saying what is wrong. */
export function decodeEnvelope(payload: Buffer | string): Envelope {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof payload === "string" ? payload : payload.toString("utf8"));
  } catch (err) {
    throw new EnvelopeError("message is not valid JSON: the sender is not an edgekube peer", { cause: err });
  }
  return checkBody(raw, PROTOCOL_VERSION) as Envelope;
}

export function isEnvelopeOf<T extends EnvelopeType>(env: Envelope, type: T): env is EnvelopeOf<T> {
  return env.type === type;
}
