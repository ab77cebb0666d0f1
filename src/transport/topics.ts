/**
 * The MQTT topic scheme of the edge link, and the per-node ACL rules derived from it.
 *
 * Design notes
 * - Every topic starts with a protocol prefix (`ek/v1`) so a future v2 can run beside v1 on the
 *   same broker during a rolling upgrade, and so an external (shared) broker can host other traffic.
 * - Direction is part of the topic, not the payload: `down` is hub→node, `up` is node→hub. The ACL
 *   then needs no payload inspection: a node may publish only below its own `up` (and its presence
 *   topic) and subscribe only below its own `down`.
 *     ek/v1/node/<node>/down/<stream>   hub → node   (desired state, acks, stream-* data)
 *     ek/v1/node/<node>/up/<stream>     node → hub   (hello, acks, status, heartbeats)
 *     ek/v1/node/<node>/presence        node → hub   (online message and last-will)
 *   Logs/exec/port-forward frames use the stream level `stream` (STREAM_FRAMES), both ways; the
 *   ACL above already confines them to the node's own topics.
 * - Node names are Kubernetes DNS-1123 subdomains; they never contain MQTT's `+`, `#` or `/`, but a
 *   topic built from an unchecked name could widen an ACL, so every builder validates its input.
 */

export const TOPIC_PREFIX = "ek/v1/node";

/** The stream that carries the sync protocol (hello, delta, snapshot, ack, status, heartbeat). */
export const SYNC_STREAM = "sync";

/** The stream that carries multiplexed logs/exec/attach/port-forward frames (src/transport/streams). */
export const STREAM_FRAMES = "stream";

export type Direction = "up" | "down";

export class TopicError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TopicError";
  }
}

// DNS-1123 subdomain (what Kubernetes allows for Node names), at most 253 characters.
const NODE_NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// One topic level: lower-case words joined by dashes (e.g. "sync", "stream-3f2a").
const STREAM_RE = /^[a-z0-9][-a-z0-9]{0,62}$/;

/** Why `name` cannot be used as a node name in a topic, or undefined when it can. */
export function nodeNameProblem(name: string): string | undefined {
  if (name.length === 0) return "node name is empty";
  if (name.length > 253) return `node name is ${name.length} characters long (at most 253 allowed)`;
  if (/[+#/]/.test(name)) return `node name "${name}" contains an MQTT wildcard or separator (+ # /)`;
  if (!NODE_NAME_RE.test(name)) {
    return `node name "${name}" is not a DNS-1123 subdomain (lower-case letters, digits, '-' and '.')`;
  }
  return undefined;
}

export function assertNodeName(name: string): void {
  const problem = nodeNameProblem(name);
  if (problem) throw new TopicError(`${problem}: use the node's Kubernetes name`);
}

export function assertStream(stream: string): void {
  if (!STREAM_RE.test(stream)) {
    throw new TopicError(
      `stream name "${stream}" is invalid: use 1-63 lower-case letters, digits and '-', starting alphanumeric`,
    );
  }
}

/** hub → node topic for one stream */
export function downTopic(node: string, stream: string = SYNC_STREAM): string {
  assertNodeName(node);
  assertStream(stream);
  return `${TOPIC_PREFIX}/${node}/down/${stream}`;
}

/** node → hub topic for one stream */
export function upTopic(node: string, stream: string = SYNC_STREAM): string {
  assertNodeName(node);
  assertStream(stream);
  return `${TOPIC_PREFIX}/${node}/up/${stream}`;
}

/** node → hub presence topic (carries the online message and the last-will) */
export function presenceTopic(node: string): string {
  assertNodeName(node);
  return `${TOPIC_PREFIX}/${node}/presence`;
}

/** The filter a node subscribes to: every stream below its own `down`. */
export function downFilter(node: string): string {
  assertNodeName(node);
  return `${TOPIC_PREFIX}/${node}/down/+`;
}

/** Filters the hub subscribes to in-process: every node's `up` streams and presence. */
export const HUB_UP_FILTER = `${TOPIC_PREFIX}/+/up/+`;
export const HUB_PRESENCE_FILTER = `${TOPIC_PREFIX}/+/presence`;

export type ParsedTopic =
  | { kind: "stream"; node: string; direction: Direction; stream: string }
  | { kind: "presence"; node: string };

/** Parses a concrete (wildcard-free) topic of this scheme; undefined for anything else. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  if (!topic.startsWith(`${TOPIC_PREFIX}/`)) return undefined;
  const rest = topic.slice(TOPIC_PREFIX.length + 1).split("/");
  const node = rest[0];
  if (node === undefined || nodeNameProblem(node) !== undefined) return undefined;
  if (rest.length === 2 && rest[1] === "presence") return { kind: "presence", node };
  if (rest.length !== 3) return undefined;
  const direction = rest[1];
  const stream = rest[2];
  if ((direction !== "up" && direction !== "down") || stream === undefined || !STREAM_RE.test(stream)) {
    return undefined;
  }
  return { kind: "stream", node, direction, stream };
}

/** ACL: may `node` publish to `topic`? Only its own `up/<stream>` and its own presence topic. */
export function mayPublish(node: string, topic: string): boolean {
  const parsed = parseTopic(topic);
  if (!parsed || parsed.node !== node) return false;
  return parsed.kind === "presence" || parsed.direction === "up";
}

/**
 * ACL: may `node` subscribe to `filter`? Only its own `down/<stream>` or `down/+` / `down/#`.
 * A wildcard in the node level (or anywhere before `down`) would match other nodes' topics.
 */
export function maySubscribe(node: string, filter: string): boolean {
  const own = `${TOPIC_PREFIX}/${node}/down/`;
  if (nodeNameProblem(node) !== undefined || !filter.startsWith(own)) return false;
  const tail = filter.slice(own.length);
  return tail === "+" || tail === "#" || STREAM_RE.test(tail);
}
