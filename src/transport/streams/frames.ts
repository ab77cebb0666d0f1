/**
 * Stream frames: the envelopes of the multiplexed byte-stream protocol that carries logs, exec,
 * attach and port-forward between the hub and an agent over the edge link.
 *
 * Design notes
 * - Frames ride the reserved `stream-*` envelope family on one topic per direction
 *   (`ek/v1/node/<node>/down/stream`, `.../up/stream`), so the sync engine never sees them and
 *   the per-node ACL needs no new rule (a node publishes below its own `up/` only).
 * - One stream = one ordered byte pipe each way, named by a random `streamId` chosen by the
 *   opener (the hub). Lifecycle: open → accept | close(error); data/window both ways; `end` is a
 *   half-close (no more bytes from the sender); `close` aborts, with an optional error.
 * - Flow control is credit-based, per stream and per direction: each side announces its receive
 *   window in open/accept, a sender never has more unacknowledged bytes in flight than the
 *   credit it was given, and the receiver returns credit (`window`) only as its consumer reads.
 *   So neither side ever buffers more than one window per stream, whatever the producer does.
 * - Data is base64 inside the JSON envelope (the edge link speaks JSON only): 33% overhead,
 *   measured acceptable (docs/streams.md). `seq` numbers data frames from 0: a gap (a frame lost
 *   across a reconnect) aborts the stream instead of silently corrupting it.
 * - Frames are validated here by hand; a malformed frame is dropped by the caller with a log line.
 */
import { isObject } from "../../api/object.js";
import type { Envelope } from "../envelope.js";
import { STREAM_FRAMES } from "../topics.js";

/** the topic level (`.../down/stream`, `.../up/stream`) every stream frame travels on */
export const STREAM_TOPIC = STREAM_FRAMES;

export type StreamKind = "logs" | "exec" | "attach" | "portforward";
export const STREAM_KINDS: readonly StreamKind[] = ["logs", "exec", "attach", "portforward"];

/** what a refused or aborted stream reports; `code` is the HTTP code the hub answers with */
export interface StreamErrorInfo {
  code: number;
  reason: string;
  message: string;
}

export type StreamFrame =
  | {
      type: "stream-open";
      streamId: string;
      kind: StreamKind;
      params: Record<string, unknown>;
      window: number;
    }
  | { type: "stream-accept"; streamId: string; window: number }
  | { type: "stream-data"; streamId: string; seq: number; data: string }
  | { type: "stream-window"; streamId: string; credits: number }
  | { type: "stream-end"; streamId: string }
  | { type: "stream-close"; streamId: string; error?: StreamErrorInfo };

export type StreamFrameType = StreamFrame["type"];
export const STREAM_FRAME_TYPES: readonly StreamFrameType[] = [
  "stream-open",
  "stream-accept",
  "stream-data",
  "stream-window",
  "stream-end",
  "stream-close",
];

export class StreamProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StreamProtocolError";
  }
}

/** An error the other end reported for a stream (open refused, handler failed, aborted). */
export class RemoteStreamError extends Error {
  constructor(readonly info: StreamErrorInfo) {
    super(info.message);
    this.name = "RemoteStreamError";
  }
}

function bad(what: string): never {
  throw new StreamProtocolError(`invalid stream frame: ${what}`);
}

function count(o: Record<string, unknown>, f: string): number {
  const v = o[f];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) bad(`${f} must be a non-negative integer`);
  return v;
}

function errorInfo(v: unknown): StreamErrorInfo {
  if (!isObject(v)) bad("error must be an object");
  const { code, reason, message } = v;
  if (typeof code !== "number" || typeof reason !== "string" || typeof message !== "string") {
    bad("error needs a numeric code and string reason and message");
  }
  return { code, reason, message };
}

/** Narrows a decoded `stream-*` envelope to a frame; throws StreamProtocolError when malformed. */
export function parseFrame(env: Envelope | Record<string, unknown>): StreamFrame {
  const o = env as Record<string, unknown>;
  const streamId = o["streamId"];
  if (typeof streamId !== "string" || streamId.length === 0 || streamId.length > 64) {
    bad("streamId must be a string of 1-64 characters");
  }
  switch (o["type"]) {
    case "stream-open": {
      const kind = o["kind"];
      if (typeof kind !== "string" || !STREAM_KINDS.includes(kind as StreamKind)) {
        bad(`kind ${JSON.stringify(kind)} is not one of ${STREAM_KINDS.join(", ")}`);
      }
      const params = o["params"];
      if (!isObject(params)) bad("params must be an object");
      return { type: "stream-open", streamId, kind: kind as StreamKind, params, window: count(o, "window") };
    }
    case "stream-accept":
      return { type: "stream-accept", streamId, window: count(o, "window") };
    case "stream-data": {
      const data = o["data"];
      if (typeof data !== "string") bad("data must be a base64 string");
      return { type: "stream-data", streamId, seq: count(o, "seq"), data };
    }
    case "stream-window":
      return { type: "stream-window", streamId, credits: count(o, "credits") };
    case "stream-end":
      return { type: "stream-end", streamId };
    case "stream-close":
      return o["error"] === undefined
        ? { type: "stream-close", streamId }
        : { type: "stream-close", streamId, error: errorInfo(o["error"]) };
    default:
      return bad(`unknown type ${JSON.stringify(o["type"])}: the peer runs a newer stream protocol`);
  }
}
