/**
 * ListWriter: the body of a list reply, assembled in 64 KiB Buffers and sent as it fills.
 *
 * Design notes
 * - Items arrive as the store's strings (Backend.scan, one at a time) and are encoded straight
 *   into the current chunk with `"resourceVersion":"N",` spliced after the first
 *   `"metadata":{` (codec.ts says why the stored form lacks it). No spliced copy, no 64 KiB
 *   concatenation and no second encoding on write: a 10,000-item list used to make ≈25 MB of
 *   strings, all alive until the end, and with the hub's 1 MiB semi-spaces
 *   (src/lib/heap-tuning.ts) the scavenges copying them cost as much as the rest of the list.
 * - Each full chunk is written and the socket uncorked at once: node's chunked encoding corks
 *   the socket until the next tick. That is not enough on its own: a TLS socket takes the
 *   next write only after the previous one's completion callback, which runs on the event
 *   loop, so in a synchronous read of 10,000 rows only the first chunk left before the last
 *   row was read, and the rest was encrypted and sent afterwards, while the client waited.
 *   So once `PACE` bytes wait in the reply, stored()/json() return a promise and the scan
 *   pauses (Backend.scan): one event-loop turn when the socket keeps up (the queued chunks are
 *   encrypted and handed to the kernel in one writev), until 'drain' when `BACKLOG` bytes are
 *   queued (a slow client: the hub then holds at most that much of a list). The client
 *   decrypts on the other core while the hub reads on.
 * - A paged list's head carries its continue token, known only after its rows: `deferred`
 *   keeps the chunks until `start(head)`.
 */
import type { ServerResponse } from "node:http";

const CHUNK = 64 * 1024;
/** queued reply bytes past which the scan yields one event-loop turn (see the design notes) */
const PACE = 256 * 1024;
/** queued reply bytes past which the scan waits for 'drain' */
const BACKLOG = 4 * 1024 * 1024;
const META = '"metadata":{';
const RV = '"resourceVersion":"';

export class ListWriter {
  #chunk = Buffer.allocUnsafe(CHUNK);
  #pos = 0;
  #items = 0;
  #head: string | undefined;
  /** chunks kept until the head is known (paged lists) */
  #held: Buffer[] = [];

  constructor(private readonly res: ServerResponse) {}

  /** Sends the status line, headers and `head`, then whatever was held back. Idempotent. */
  start(head: string): void {
    if (this.#head !== undefined) return;
    this.#head = head;
    this.res.writeHead(200, { "Content-Type": "application/json" });
    this.res.write(head);
    for (const c of this.#held) this.res.write(c);
    this.#held = [];
    this.#sendNow();
  }

  /**
   * One stored item, with its resourceVersion spliced in. A promise when the reply has enough
   * queued: the caller waits for it before the next item.
   */
  stored(value: string, revision: number): Promise<void> | undefined {
    const rv = `${RV}${revision}"`;
    // room for the comma, the value in UTF-8 at worst and the resourceVersion member
    this.#reserve(3 * value.length + rv.length + 2);
    if (this.#items++ > 0) this.#chunk[this.#pos++] = 44; /* , */
    const m = value.indexOf(META);
    if (m < 0) {
      this.#pos += this.#chunk.write(value, this.#pos, "utf8");
      return this.#paced();
    }
    const at = m + META.length;
    this.#pos += this.#chunk.write(value.slice(0, at), this.#pos, "utf8");
    this.#pos += this.#chunk.write(rv, this.#pos, "latin1");
    if (value.charCodeAt(at) !== 125 /* } */) this.#chunk[this.#pos++] = 44;
    this.#pos += this.#chunk.write(value.slice(at), this.#pos, "utf8");
    return this.#paced();
  }

  /** One item already encoded as JSON (a Table row, a spliced string); paced as stored(). */
  json(s: string): Promise<void> | undefined {
    this.#reserve(3 * s.length + 1);
    if (this.#items++ > 0) this.#chunk[this.#pos++] = 44;
    this.#pos += this.#chunk.write(s, this.#pos, "utf8");
    return this.#paced();
  }

  /** Ends the reply with `tail` (the list's closing brackets). */
  end(tail: string): void {
    this.#reserve(3 * tail.length);
    this.#pos += this.#chunk.write(tail, this.#pos, "utf8");
    this.#emit();
    this.res.end();
  }

  /** Makes room for `n` more bytes: sends the chunk when it would overflow. */
  #reserve(n: number): void {
    if (this.#pos + n <= this.#chunk.length) return;
    this.#emit();
    if (n > CHUNK) this.#chunk = Buffer.allocUnsafe(n);
  }

  #emit(): void {
    if (this.#pos === 0) return;
    const full = this.#chunk.subarray(0, this.#pos);
    this.#chunk = Buffer.allocUnsafe(CHUNK);
    this.#pos = 0;
    if (this.#head === undefined) {
      this.#held.push(full);
      return;
    }
    this.res.write(full);
    this.#sendNow();
  }

  /** A pause for the producer when the reply has `PACE` bytes queued (design notes). */
  #paced(): Promise<void> | undefined {
    if (this.#head === undefined) return undefined;
    const res = this.res;
    const queued = res.writableLength;
    if (queued < PACE || res.destroyed) return undefined;
    if (queued < BACKLOG) return new Promise((resolve) => setImmediate(resolve));
    return new Promise((resolve) => {
      const done = () => {
        res.off("drain", done);
        res.off("close", done);
        resolve();
      };
      res.on("drain", done);
      res.on("close", done);
    });
  }

  #sendNow(): void {
    // see the design notes: without this, nothing leaves before the read is over
    this.res.socket?.uncork();
  }
}
