/**
 * coalesceWrites: what one event-loop turn writes to a stream leaves as one write at the turn's
 * end. The agent's side of what PacketSizeGuard (packet-guard.ts) does for the hub.
 *
 * Design notes
 * - Why: mqtt.js writes every packet on its own (mqtt-packet corks the socket only until the
 *   next tick), and an agent writes several packets in one turn: the presence hello and the sync
 *   hello (and a pending status) right after SUBACK, a PUBACK and the `ack` envelope for every
 *   delta. Each write to a TLS socket is its own TLS record (encrypted alone, 22+ bytes of
 *   overhead) and its own send() on the agent, and its own read and decryption on the hub. In
 *   bench/sync's reconvergence the socket writes were the largest share of the agent's CPU after
 *   the TLS handshake itself.
 * - How: the first write of a turn corks the stream and a setImmediate uncorks it, after the
 *   turn's I/O callbacks, timers and ticks. Writable then hands everything to _writev in one
 *   call, and a TLSSocket encrypts a writev into one record and sends it with one syscall.
 *   mqtt-packet's own cork/uncork nests inside ours (Writable counts corks).
 * - Nothing else changes: write() still answers false past the high-water mark (mqtt.js then
 *   waits for drain), end() flushes what is corked (Writable uncorks on end), and destroy()
 *   drops it as it drops any unsent data. The delay is at most the rest of the current turn.
 * - It patches the one stream instance's write(): wrapping the socket in another Duplex would
 *   add a stream hop to every read and write, which is the cost this removes.
 */
import type { Writable } from "node:stream";

type AnyWrite = (...args: unknown[]) => boolean;

/** Makes the writes of each event-loop turn to `stream` leave together (see the design notes). */
export function coalesceWrites<S extends Writable>(stream: S): S {
  const write = stream.write as AnyWrite;
  let corked = false;
  const flush = (): void => {
    corked = false;
    stream.uncork();
  };
  const coalescing: AnyWrite = (...args) => {
    if (!corked && !stream.destroyed) {
      corked = true;
      stream.cork();
      setImmediate(flush);
    }
    return write.apply(stream, args);
  };
  stream.write = coalescing as S["write"];
  return stream;
}
