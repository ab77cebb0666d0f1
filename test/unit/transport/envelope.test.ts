import { describe, expect, it } from "vitest";
import {
  decodeEnvelope,
  type EnvelopeBody,
  EnvelopeError,
  encodeEnvelope,
  envelope,
} from "../../../src/transport/envelope.js";

const head = { v: 1, id: "m1", ts: 1 };

describe("envelopes", () => {
  it("round-trips every message type", () => {
    const bodies: EnvelopeBody[] = [
      { type: "hello", node: "n", watermark: 0, agentVersion: "1" },
      {
        type: "snapshot",
        snapshotId: "s",
        revision: 3,
        chunk: 0,
        chunks: 1,
        objects: [{ key: "k", revision: 2, object: { metadata: {} } }],
      },
      { type: "delta", replyTo: "h", from: 1, to: 4, changes: [{ op: "delete", key: "k", revision: 4 }] },
      { type: "ack", watermark: 4 },
      {
        type: "status",
        epoch: "e",
        updates: [{ key: "k", seq: 1, status: { phase: "Running" }, observedRevision: 2 }],
      },
      { type: "status-ack", epoch: "e", upTo: 1 },
      { type: "heartbeat", watermark: 4, pending: 0 },
      { type: "presence", online: false },
      { type: "stream-data", streamId: "x", data: "aGk=" },
    ];
    for (const b of bodies) {
      const env = envelope(b, 42);
      expect(decodeEnvelope(encodeEnvelope(env))).toEqual(env);
    }
  });

  it.each([
    ["not json", "{", /not valid JSON/],
    ["an array", "[]", /must be a JSON object/],
    [
      "another version",
      JSON.stringify({ ...head, v: 2, type: "ack", watermark: 1 }),
      /unsupported protocol version 2.*upgrade/,
    ],
    [
      "no version",
      JSON.stringify({ id: "m", ts: 1, type: "ack", watermark: 1 }),
      /unsupported protocol version/,
    ],
    ["unknown type", JSON.stringify({ ...head, type: "teleport" }), /unknown message type "teleport"/],
    [
      "negative watermark",
      JSON.stringify({ ...head, type: "ack", watermark: -1 }),
      /watermark must be a non-negative integer/,
    ],
    [
      "fractional revision",
      JSON.stringify({
        ...head,
        type: "delta",
        from: 0,
        to: 1,
        changes: [{ op: "put", key: "k", revision: 1.5, object: { metadata: {} } }],
      }),
      /changes\[0\]\.revision/,
    ],
    [
      "put without object",
      JSON.stringify({
        ...head,
        type: "delta",
        from: 0,
        to: 1,
        changes: [{ op: "put", key: "k", revision: 1 }],
      }),
      /changes\[0\]\.object must be an object with metadata/,
    ],
    [
      "bad op",
      JSON.stringify({
        ...head,
        type: "delta",
        from: 0,
        to: 1,
        changes: [{ op: "patch", key: "k", revision: 1 }],
      }),
      /changes\[0\]\.op/,
    ],
    [
      "to below from",
      JSON.stringify({ ...head, type: "delta", from: 5, to: 1, changes: [] }),
      /to must not be below from/,
    ],
    [
      "chunk out of range",
      JSON.stringify({
        ...head,
        type: "snapshot",
        snapshotId: "s",
        revision: 1,
        chunk: 1,
        chunks: 1,
        objects: [],
      }),
      /chunk must be below chunks/,
    ],
    [
      "status without status",
      JSON.stringify({ ...head, type: "status", epoch: "e", updates: [{ key: "k", seq: 1 }] }),
      /updates\[0\]\.status is required/,
    ],
    ["stream without id", JSON.stringify({ ...head, type: "stream-data" }), /streamId/],
    ["inherited type name", JSON.stringify({ ...head, type: "constructor" }), /unknown message type/],
  ])("rejects %s with a clear error", (_what, raw, message) => {
    expect(() => decodeEnvelope(raw)).toThrow(EnvelopeError);
    expect(() => decodeEnvelope(raw)).toThrow(message);
  });

  it("refuses to encode a message over the packet limit", () => {
    const env = envelope({ type: "stream-data", streamId: "s", data: "x".repeat(2000) });
    expect(() => encodeEnvelope(env, 1000)).toThrow(/over the 1000-byte limit/);
  });
});
