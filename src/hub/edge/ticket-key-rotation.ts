/**
 * TicketKeyRotation: replaces the MQTT port's TLS session-ticket key (DATA/tls/mqtt-ticket.keys)
 * every `intervalMs` (default 24 h), on disk and in the running broker.
 *
 * Design notes
 * - Why rotate: whoever holds the ticket key can decrypt every ticket made under it, and a
 *   ticket carries the session's secrets and the client certificate it was made for: with the
 *   key one can forge a resumption as any node, and decrypt recorded TLS 1.2 sessions (TLS 1.3
 *   resumption mixes in a fresh ECDHE, psk_dhe_ke). Rotation bounds that exposure to one
 *   interval (plus the start grace below).
 * - Node holds ONE ticket key per TLS server (`ticketKeys` / `server.setTicketKeys`: 48 bytes,
 *   16 name + 16 HMAC + 16 AES; OpenSSL's multi-key callback is not exposed). So the previous key
 *   cannot be kept for decryption: after a rotation every ticket made before it is refused
 *   and that agent's next connect is a full handshake (it gets a new ticket then). Nothing
 *   reconnects because of a rotation; the cost falls on the next mass reconnect (hub restart,
 *   heal of a partition) of agents that stayed connected across the rotation: a full-handshake
 *   storm (≈40 % more handshake CPU than a resumed one, broker.ts). A shorter interval buys a
 *   smaller exposure window and makes that more likely; 24 h keeps the window at a day while a
 *   fleet that reconnected en masse (and so holds fresh tickets) resumes on a restart within the
 *   rest of the day. Operators who want less can pass a shorter interval.
 * - The key's age is its file's mtime, so the schedule survives hub restarts (a hub restarted
 *   daily still rotates). A rotation that came due while the hub was down waits `startGraceMs`
 *   (10 min) after the start: the reconnect storm that follows a restart is exactly when
 *   resumption pays, and the agents hold tickets made under the old key.
 * - The new key is written atomically (0600) before it is applied, so a crash in between
 *   leaves the broker on the old key until the next start, never a key that is not on disk.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { writeFileAtomic } from "../../lib/fsutil.js";
import { type Logger, silentLogger } from "../../lib/logger.js";

export const TICKET_KEY_BYTES = 48;
export const TICKET_KEY_ROTATION_MS = 24 * 3600_000;
export const TICKET_KEY_START_GRACE_MS = 10 * 60_000;

export interface TicketKeyRotationOptions {
  /** DATA/tls/mqtt-ticket.keys */
  file: string;
  /** hands the new key to the running TLS server (MqttBroker.setTicketKeys) */
  apply: (key: Buffer) => void;
  intervalMs?: number;
  startGraceMs?: number;
  /** wall clock, compared with the file's mtime */
  now?: () => number;
  logger?: Logger;
}

/**
 * Delay until the next rotation of a key `ageMs` old: the rest of the interval, or the start
 * grace when it is already due at start (see the design notes).
 */
export function rotationDelay(ageMs: number, intervalMs: number, startGraceMs: number): number {
  const rest = intervalMs - Math.max(0, ageMs);
  return rest > 0 ? rest : startGraceMs;
}

/** Reads the key file, or makes a new key when it is missing or malformed. */
export function loadOrCreateTicketKey(file: string): Buffer {
  const key = existsSync(file) ? readFileSync(file) : undefined;
  if (key?.length === TICKET_KEY_BYTES) return key;
  const fresh = randomBytes(TICKET_KEY_BYTES);
  writeFileAtomic(file, fresh, 0o600);
  return fresh;
}

export class TicketKeyRotation {
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(private readonly opts: TicketKeyRotationOptions) {
    this.intervalMs = opts.intervalMs ?? TICKET_KEY_ROTATION_MS;
    this.now = opts.now ?? Date.now;
    this.log = (opts.logger ?? silentLogger()).child({ component: "ticket-key-rotation" });
    if (!(this.intervalMs > 0)) {
      throw new Error(`ticket key rotation interval must be > 0 ms (got ${this.intervalMs})`);
    }
  }

  /** Schedules the rotations; the broker already runs with the key on disk. */
  async start(signal?: AbortSignal): Promise<void> {
    loadOrCreateTicketKey(this.opts.file);
    const age = this.now() - statSync(this.opts.file).mtimeMs;
    this.schedule(rotationDelay(age, this.intervalMs, this.opts.startGraceMs ?? TICKET_KEY_START_GRACE_MS));
    signal?.addEventListener("abort", () => this.stop(), { once: true });
  }

  /** Idempotent. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Makes, stores and applies a new key now; returns it. */
  rotate(): Buffer {
    const key = randomBytes(TICKET_KEY_BYTES);
    writeFileAtomic(this.opts.file, key, 0o600);
    this.opts.apply(key);
    this.log.info({ nextInMs: this.intervalMs }, "rotated the MQTT TLS session-ticket key");
    return key;
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      try {
        this.rotate();
      } catch (err) {
        // a full disk must not stop the hub: keep the current key, try again later
        this.log.error(
          { err: (err as Error).message, file: this.opts.file },
          "could not rotate the MQTT TLS session-ticket key (free disk space or fix the permissions); retrying in 10 min",
        );
        this.schedule(TICKET_KEY_START_GRACE_MS);
        return;
      }
      this.schedule(this.intervalMs);
    }, ms);
    this.timer.unref();
  }
}
