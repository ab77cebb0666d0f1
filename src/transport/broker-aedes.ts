/**
 * The aedes instance behind MqttBroker, created on the broker's first connection.
 *
 * Design notes
 * - aedes and what it pulls in (mqtt-packet, bl, readable-stream 4, qlobber, debug) cost an
 *   idle hub ≈2.5 MB of RSS, and a hub no node has connected to yet (a fresh install, or the
 *   minutes after a restart) has no use for them: broker.ts listens from start() and calls this
 *   on the first TLS or WebSocket connection (docs/hub-memory.md). The dynamic import keeps the
 *   package out of the hub's start-up; the type-only imports cost nothing at run time.
 * - Clean sessions only: a persistent session would make aedes queue QoS 1 messages for an
 *   offline node without bound (and lose them on restart anyway).
 * - mqtt-packet (aedes' encoder) pre-generates 65,536 two-byte Buffers for packet ids and
 *   lengths on its first write unless told not to: ≈11 MB that the hub's first connection,
 *   even a refused one, used to add. The agent's client already turns it off (writeCache:
 *   false); aedes has no option, so the module-wide switch is set before aedes writes anything.
 *   It only reaches aedes if both load the same mqtt-packet: the dev bundle therefore compiles
 *   aedes in beside it (BUNDLED_IN_DEV, scripts/lib/bundle-stubs.mjs; until 2026-11-26 it did
 *   not, and every dev-bundle hub carried the cache).
 *   The cost is one 2-byte allocation per number written.
 * - The hub's own in-process subscriptions (node uplinks and presence) are in place before the
 *   promise resolves, so no message of the first connection is missed.
 */
import type { Aedes, AedesPublishPacket, Client } from "aedes";
import type { Logger } from "../lib/logger.js";
import type { BrokerGuard } from "./broker-auth.js";
import { HUB_PRESENCE_FILTER, HUB_UP_FILTER } from "./topics.js";

export interface AedesWiring {
  guard: BrokerGuard;
  connectTimeoutMs: number;
  log: Logger;
  /** a client finished CONNECT (up) or went away (down) */
  onClient: (client: Client, up: boolean) => void;
  /** every message published on the hub's uplink and presence filters */
  deliver: (packet: AedesPublishPacket, cb: () => void) => void;
}

/** Imports aedes and creates the broker with the guard's hooks and the hub's subscriptions. */
export async function createAedes(w: AedesWiring): Promise<Aedes> {
  const [{ Aedes }, mqttPacket] = await Promise.all([import("aedes"), import("mqtt-packet")]);
  mqttPacket.default.writeToStream.cacheNumbers = false;
  const aedes = await Aedes.createBroker({
    connectTimeout: w.connectTimeoutMs,
    preConnect: (_client, packet, done) => {
      packet.clean = true;
      done(null, true);
    },
    authenticate: w.guard.authenticate,
    authorizePublish: w.guard.authorizePublish,
    authorizeSubscribe: w.guard.authorizeSubscribe,
  });
  aedes.on("clientReady", (c) => w.onClient(c, true));
  aedes.on("clientDisconnect", (c) => w.onClient(c, false));
  aedes.on("clientError", (c, err) => w.log.debug({ clientId: c.id, err: err.message }, "client error"));
  aedes.on("connectionError", (c, err) => w.log.debug({ clientId: c.id, err: err.message }, "conn error"));
  await new Promise<void>((resolve) => {
    aedes.subscribe(HUB_UP_FILTER, w.deliver, () => aedes.subscribe(HUB_PRESENCE_FILTER, w.deliver, resolve));
  });
  return aedes;
}
