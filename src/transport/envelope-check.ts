/**
 * Hand-written validation of decoded envelopes (the edge between the wire and typed code).
 *
 * Design notes
 * - Hand checks rather than a JSON-schema engine: the message set is small, the checks read like
 *   the protocol, and errors name the exact field path (`changes[3].revision`), which is what an
 *   operator needs when an old agent talks to a new hub.
 * - Kubernetes objects inside messages are checked only for shape (an object with `metadata`):
 *   the hub validated them on write, and re-validating 1 MiB Secrets on a Pi would cost CPU for
 *   nothing. Status payloads are opaque JSON here; the hub's status intake validates them.
 * - Unknown fields are tolerated (a newer minor sender may add some); an unknown `type` is not,
 *   except the reserved `stream-*` family whose frames carry opaque data.
 */
import { isObject } from "../api/object.js";

export class EnvelopeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EnvelopeError";
  }
}

type Obj = Record<string, unknown>;

function fail(path: string, what: string): never {
  throw new EnvelopeError(`invalid message: ${path} ${what}`);
}

function str(o: Obj, field: string, path: string, opts: { optional?: boolean } = {}): void {
  const v = o[field];
  if (v === undefined && opts.optional) return;
  if (typeof v !== "string" || v.length === 0) fail(`${path}${field}`, "must be a non-empty string");
}

function count(o: Obj, field: string, path: string, opts: { optional?: boolean } = {}): void {
  const v = o[field];
  if (v === undefined && opts.optional) return;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    fail(`${path}${field}`, "must be a non-negative integer");
  }
}

function bool(o: Obj, field: string, path: string): void {
  if (typeof o[field] !== "boolean") fail(`${path}${field}`, "must be true or false");
}

function arr(o: Obj, field: string, path: string): unknown[] {
  const v = o[field];
  if (!Array.isArray(v)) fail(`${path}${field}`, "must be an array");
  return v;
}

function kubeObject(v: unknown, path: string): void {
  if (!isObject(v) || !isObject(v["metadata"])) fail(path, "must be an object with metadata");
}

function desiredObject(v: unknown, path: string): void {
  if (!isObject(v)) fail(path, "must be an object");
  str(v, "key", `${path}.`);
  count(v, "revision", `${path}.`);
  kubeObject(v["object"], `${path}.object`);
}

function change(v: unknown, path: string): void {
  if (!isObject(v)) fail(path, "must be an object");
  str(v, "key", `${path}.`);
  count(v, "revision", `${path}.`);
  if (v["op"] === "put") kubeObject(v["object"], `${path}.object`);
  else if (v["op"] !== "delete") fail(`${path}.op`, 'must be "put" or "delete"');
}

function statusUpdate(v: unknown, path: string): void {
  if (!isObject(v)) fail(path, "must be an object");
  str(v, "key", `${path}.`);
  count(v, "seq", `${path}.`);
  count(v, "observedRevision", `${path}.`, { optional: true });
  if (!("status" in v)) fail(`${path}.status`, "is required");
}

const BODY_CHECKS: Record<string, (o: Obj) => void> = {
  hello(o) {
    str(o, "node", "");
    count(o, "watermark", "");
    str(o, "agentVersion", "");
    str(o, "digest", "", { optional: true });
  },
  snapshot(o) {
    str(o, "replyTo", "", { optional: true });
    str(o, "snapshotId", "");
    count(o, "revision", "");
    count(o, "chunk", "");
    count(o, "chunks", "");
    if ((o["chunks"] as number) < 1 || (o["chunk"] as number) >= (o["chunks"] as number)) {
      fail("chunk", "must be below chunks (and chunks at least 1)");
    }
    for (const [i, x] of arr(o, "objects", "").entries()) desiredObject(x, `objects[${i}]`);
  },
  delta(o) {
    str(o, "replyTo", "", { optional: true });
    count(o, "from", "");
    count(o, "to", "");
    if ((o["to"] as number) < (o["from"] as number)) fail("to", "must not be below from");
    for (const [i, x] of arr(o, "changes", "").entries()) change(x, `changes[${i}]`);
  },
  ack(o) {
    count(o, "watermark", "");
  },
  status(o) {
    str(o, "epoch", "");
    for (const [i, x] of arr(o, "updates", "").entries()) statusUpdate(x, `updates[${i}]`);
  },
  "status-ack"(o) {
    str(o, "epoch", "");
    count(o, "upTo", "");
  },
  heartbeat(o) {
    count(o, "watermark", "");
    count(o, "pending", "");
  },
  presence(o) {
    bool(o, "online", "");
  },
};

/** Validates a parsed JSON value as an envelope of protocol `version`; returns it unchanged. */
export function checkBody(raw: unknown, version: number): unknown {
  if (!isObject(raw)) throw new EnvelopeError("invalid message: the envelope must be a JSON object");
  const v = raw["v"];
  if (v !== version) {
    throw new EnvelopeError(
      `unsupported protocol version ${JSON.stringify(v)} (this side speaks v${version}): ` +
        "upgrade the hub and edge-agent to releases that speak the same edge protocol",
    );
  }
  str(raw, "id", "");
  count(raw, "ts", "");
  const type = raw["type"];
  if (typeof type !== "string") fail("type", "must be a string");
  if (type.startsWith("stream-") && type.length > "stream-".length) {
    str(raw, "streamId", "");
    return raw;
  }
  const check = Object.hasOwn(BODY_CHECKS, type) ? BODY_CHECKS[type] : undefined;
  if (!check) {
    throw new EnvelopeError(
      `unknown message type ${JSON.stringify(type)}: the peer runs a newer protocol; upgrade this side`,
    );
  }
  check(raw);
  return raw;
}
