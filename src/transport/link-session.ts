/**
 * LinkSession: one connection of the edge link, from CONNECT on its way to the connection's end.
 *
 * Design notes
 * - The seam with EdgeLink (client.ts): EdgeLink decides when to connect and what a failure means
 *   (ReconnectPolicy); a session only reports what happened on its one mqtt.js client: `up`
 *   once, `down` exactly once with the error that ended it (undefined for a plain close), every
 *   received payload, and each TLS session ticket the hub sends (EdgeLink keeps the newest for
 *   the next attempt, so it outlives the session).
 * - `up` only after CONNACK and the granted subscription to our `down` topics: with clean
 *   sessions nothing is subscribed for us before, so the sync engine's hello can never race
 *   ahead of the subscription. Then the presence hello goes out.
 * - CONNACK refusals (return codes 1–5) become errors that say what to do; they keep the numeric
 *   `code`, which classifyFailure reads (4 and 5: credentials refused, wait the maximum).
 * - An error before `up` ends the attempt at once; after `up` it is remembered and reported with
 *   the close that follows (mqtt.js emits both).
 * - The TLS socket is the one link-connect.ts made for either transport (mqtts, wss), so ticket
 *   capture and `isSessionReused` work the same on both.
 * - close(): a presence goodbye (1 s at most) when up, then a graceful DISCONNECT; on a
 *   half-open link the peer never closes, so after 2 s the client is destroyed instead.
 */
import type { TLSSocket } from "node:tls";
import type { MqttClient, Packet } from "mqtt";
import { encodeEnvelope, envelope } from "./envelope.js";
import { downFilter, presenceTopic } from "./topics.js";

export interface LinkSessionEvents {
  /** CONNACK received, our topics subscribed, presence announced */
  up(tlsResumed: boolean): void;
  /** the attempt failed or the connection ended (once; also after close()) */
  down(err: Error | undefined): void;
  message(payload: Buffer): void;
  /** a TLS session ticket from the hub, to offer on the next attempt */
  ticket(session: Buffer): void;
  /** debug hook: every MQTT packet sent or received (see EdgeLinkOptions.onPacket) */
  packet?(direction: "in" | "out", packet: Packet): void;
}

const CONNACK_REFUSALS: Record<number, string> = {
  1: "the hub does not speak this MQTT protocol version",
  2: "the hub rejected the client id (it must equal the node name)",
  3: "the hub's broker is unavailable",
  4: "the hub refused this node's username or password: re-join the node (edge-agent join)",
  5: "the hub refused this node's credentials: check the node certificate or re-join the node",
};

const GOODBYE_WAIT_MS = 1000;
const DISCONNECT_WAIT_MS = 2000;

export class LinkSession {
  private isUp = false;
  private done = false;
  private closing = false;
  private lastError: Error | undefined;
  private readonly onTicket = (s: Buffer): void => this.events.ticket(s);

  constructor(
    private readonly client: MqttClient,
    private readonly tls: TLSSocket,
    private readonly node: string,
    private readonly events: LinkSessionEvents,
  ) {
    tls.on("session", this.onTicket);
    client.on("connect", () => this.onConnack());
    client.on("message", (_topic, payload) => events.message(payload));
    const onPacket = events.packet;
    if (onPacket) {
      client.on("packetsend", (p) => onPacket("out", p));
      client.on("packetreceive", (p) => onPacket("in", p));
    }
    client.on("error", (err: Error & { code?: unknown }) => {
      const refusal = typeof err.code === "number" ? CONNACK_REFUSALS[err.code] : undefined;
      this.lastError = refusal ? Object.assign(new Error(refusal, { cause: err }), { code: err.code }) : err;
      if (!this.isUp) this.finish(this.lastError);
    });
    client.on("close", () => this.finish(this.lastError));
  }

  get up(): boolean {
    return this.isUp && !this.done;
  }

  /** QoS 1 publish; resolves on the broker's PUBACK, rejects with mqtt.js' error. */
  publish(topic: string, payload: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.publish(topic, payload, { qos: 1 }, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Says goodbye when up, then disconnects; `down` follows. Idempotent. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const client = this.client;
    const wasUp = this.up;
    if (wasUp) {
      const bye = encodeEnvelope(envelope({ type: "presence", online: false }));
      await new Promise<void>((r) => {
        const t = setTimeout(r, GOODBYE_WAIT_MS);
        client.publish(presenceTopic(this.node), bye, { qos: 1 }, () => {
          clearTimeout(t);
          r();
        });
      });
    }
    let giveUp: NodeJS.Timeout | undefined;
    const closed = await Promise.race([
      new Promise<boolean>((r) => client.end(!wasUp, {}, () => r(true))),
      new Promise<boolean>((r) => {
        giveUp = setTimeout(() => r(false), DISCONNECT_WAIT_MS);
      }),
    ]);
    clearTimeout(giveUp);
    if (!closed) client.end(true);
    this.finish(this.lastError);
  }

  private onConnack(): void {
    this.client.subscribe(downFilter(this.node), { qos: 1 }, (err, granted) => {
      if (this.done) return;
      if (err || granted?.[0]?.qos === 128) {
        this.finish(
          new Error(`the hub refused node "${this.node}" a subscription to its own topics: check the ACL`),
        );
        return;
      }
      this.isUp = true;
      const hi = encodeEnvelope(envelope({ type: "presence", online: true }));
      this.client.publish(presenceTopic(this.node), hi, { qos: 1 }, () => {});
      this.events.up(this.tls.isSessionReused());
    });
  }

  private finish(err: Error | undefined): void {
    if (this.done) return;
    this.done = true;
    this.client.removeAllListeners();
    this.client.on("error", () => {});
    this.tls.off("session", this.onTicket);
    if (!this.closing) this.client.end(true);
    this.events.down(err);
  }
}
