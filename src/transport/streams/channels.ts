/**
 * Channel framing inside one stream, for exec and attach: stdin, stdout, stderr, the exit status
 * and terminal resizes share one ordered, flow-controlled byte stream.
 *
 * Design notes
 * - Each message is `[channel u8][length u32 BE][payload]`. Length-prefixed, not one frame per
 *   MQTT message, because a byte stream may split or merge writes; the decoder keeps partial
 *   messages across chunks. It is pure and unit-tested.
 * - Channel numbers follow Kubernetes' remotecommand v5 protocol so the hub's WebSocket bridge is
 *   a table lookup: 0 stdin, 1 stdout, 2 stderr, 3 status (JSON ExecStatus), 4 resize (JSON
 *   {Width, Height}), 255 close (its one-byte payload names the channel that ended: 0 = stdin).
 */

export const CH_STDIN = 0;
export const CH_STDOUT = 1;
export const CH_STDERR = 2;
export const CH_STATUS = 3;
export const CH_RESIZE = 4;
export const CH_CLOSE = 255;

/** what the agent reports on CH_STATUS when the process is over */
export type ExecStatus = { exitCode: number } | { error: string };

const HEADER = 5;
/** largest payload accepted in one channel message (a corrupt length must not allocate GBs) */
export const MAX_CHANNEL_MESSAGE = 4 * 1024 * 1024;

export function encodeChannel(channel: number, payload: Buffer | string): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
  const head = Buffer.allocUnsafe(HEADER);
  head.writeUInt8(channel, 0);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

export class ChannelFramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ChannelFramingError";
  }
}

/** Incremental decoder: feed chunks, get whole messages. */
export class ChannelDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): { channel: number; payload: Buffer }[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: { channel: number; payload: Buffer }[] = [];
    while (this.pending.length >= HEADER) {
      const size = this.pending.readUInt32BE(1);
      if (size > MAX_CHANNEL_MESSAGE) {
        throw new ChannelFramingError(`channel message of ${size} bytes exceeds ${MAX_CHANNEL_MESSAGE}`);
      }
      if (this.pending.length < HEADER + size) break;
      out.push({ channel: this.pending[0]!, payload: this.pending.subarray(HEADER, HEADER + size) });
      this.pending = this.pending.subarray(HEADER + size);
    }
    return out;
  }

  /** bytes of an incomplete message still held */
  get buffered(): number {
    return this.pending.length;
  }
}

export function parseExecStatus(payload: Buffer): ExecStatus {
  const v: unknown = JSON.parse(payload.toString("utf8"));
  if (typeof v === "object" && v !== null) {
    const o = v as Record<string, unknown>;
    if (typeof o["exitCode"] === "number") return { exitCode: o["exitCode"] };
    if (typeof o["error"] === "string") return { error: o["error"] };
  }
  throw new ChannelFramingError("status message must be {exitCode} or {error}");
}
