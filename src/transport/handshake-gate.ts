/**
 * HandshakeGate: a bound on the TLS handshakes the MQTT listener runs at once. Accepted TCP
 * sockets past the bound wait, paused (not read), in arrival order, and start their handshake
 * when one in flight finishes (succeeds, fails, or its socket closes).
 *
 * Design notes
 * - Why: the hub runs every handshake on its one event loop. 5,000 fresh agents connecting at
 *   once (a new fleet, the first connect after the joins) all start handshakes together; each
 *   advances a little per loop turn, so most finish only after the agents' CONNACK timeout and
 *   are abandoned and retried (bench/hub-memory N = 5,000: 834–923 CONNACK timeouts). Each
 *   abandoned full handshake cost the hub its CPU and left malloc memory behind (the main
 *   arena's holes, docs/hub-memory.md). With a bound, handshakes complete in order at the rate
 *   the loop manages; a socket that waited too long and was closed by its agent while queued is
 *   skipped without any TLS work.
 * - Paused sockets: the TCP server runs with pauseOnConnect, so a queued socket's bytes (its
 *   ClientHello) stay in the kernel's buffer; the kernel's accept queue and the agents'
 *   connect timeouts still bound how long anything waits.
 * - A handshake slot is released exactly once: when the TLS socket is secure, when the TLS
 *   server reports a client error for it, or when the TCP socket closes (whichever first).
 *   The TLS server's handshakeTimeout bounds a stalled peer's hold on a slot.
 * - The gate knows nothing about TLS: start(socket) hands the socket to the TLS server and
 *   the listener calls the release function when the handshake ends (broker-tls.ts).
 */
import type { Socket } from "node:net";

/** what the gate calls to begin a socket's handshake; it calls release() once it ended */
export type StartHandshake = (socket: Socket, release: () => void) => void;

export class HandshakeGate {
  private inFlight = 0;
  private readonly queue: Socket[] = [];
  private head = 0;
  private admittedTotal = 0;
  private skippedTotal = 0;
  private closed = false;

  constructor(
    private readonly max: number,
    private readonly start: StartHandshake,
  ) {
    if (!Number.isInteger(max) || max < 1)
      throw new Error(`the TLS handshake bound must be a whole number ≥ 1 (got ${max})`);
  }

  /** A freshly accepted TCP socket (paused): starts its handshake now or queues it. */
  offer(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    if (this.inFlight < this.max) {
      this.admit(socket);
      return;
    }
    this.queue.push(socket);
  }

  /** handshakes running, sockets waiting, started and skipped (closed while waiting) so far */
  stats(): { inFlight: number; waiting: number; admitted: number; skipped: number } {
    return {
      inFlight: this.inFlight,
      waiting: this.queue.length - this.head,
      admitted: this.admittedTotal,
      skipped: this.skippedTotal,
    };
  }

  /**
   * Destroys the sockets still waiting and every later offer: a paused socket never reads its
   * peer's FIN, so without this a listener's close() would wait for them forever.
   */
  close(): void {
    this.closed = true;
    for (let i = this.head; i < this.queue.length; i++) this.queue[i]?.destroy();
    this.queue.length = 0;
    this.head = 0;
  }

  private admit(socket: Socket): void {
    this.inFlight++;
    this.admittedTotal++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.inFlight--;
      this.next();
    };
    socket.once("close", release);
    this.start(socket, release);
  }

  private next(): void {
    while (this.inFlight < this.max && this.head < this.queue.length) {
      const socket = this.queue[this.head++];
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      if (!socket) continue;
      // closed by the peer (or reset) while it waited: nothing to do for it
      if (socket.destroyed || !socket.readable) {
        this.skippedTotal++;
        socket.destroy();
        continue;
      }
      this.admit(socket);
    }
  }
}
