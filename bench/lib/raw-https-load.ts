/**
 * A cheap, fair HTTPS load generator: keep-alive TLS sockets writing pre-encoded HTTP/1.1
 * requests, one request in flight per connection (no pipelining: kubectl does not pipeline),
 * `concurrency` connections. The same client drives the bare echo baseline and the hub, so
 * their ratio compares servers, not clients.
 *
 * Design notes
 * - Why not node:https's request(): its ClientRequest/IncomingMessage machinery, header
 *   objects and the llhttp parser cost this process ≈0.2 ms of CPU per request, about what the
 *   echo server itself spends; on two cores the load generator then caps the echo rate and the
 *   "HTTP+TLS ceiling" measures the client. Here a request is one buffer written with one
 *   socket.write(), and a response is framed from its bytes: the status line, then
 *   Content-Length or chunked framing. No header object, no strings, except for failures,
 *   whose body is decoded to say what went wrong (as https-load.ts does).
 * - Requests are encoded by encodeRequests() before the clock (and the CPU reading) starts;
 *   long runs (a churn of 120,000 updates) pass a function that encodes each one as it goes.
 * - A connection the server closes while a request is in flight counts that request as an
 *   error (ECONNRESET) and is reopened, so a run always ends.
 * - The result has the shape of https-load.ts's LoadResult so the bench's JSON keeps its keys.
 */
import { connect, type TLSSocket } from "node:tls";
import { type LoadResult, loadResult, type Target } from "./https-load.js";

export interface RawRequest {
  method: string;
  path: string;
  body?: string;
}

const CRLF2 = Buffer.from("\r\n\r\n");

/** One request's bytes, headers as kubectl sends them on a JSON write. */
export function encodeRequest(t: Target, r: RawRequest): Buffer {
  const host = new URL(t.url).host;
  const body = r.body ?? "";
  const head =
    `${r.method} ${r.path} HTTP/1.1\r\nHost: ${host}\r\nAccept: application/json\r\n` +
    (t.token ? `Authorization: Bearer ${t.token}\r\n` : "") +
    (r.body !== undefined
      ? `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`
      : "") +
    "\r\n";
  return Buffer.from(head + body);
}

export function encodeRequests(t: Target, n: number, make: (i: number) => RawRequest): Buffer[] {
  return Array.from({ length: n }, (_, i) => encodeRequest(t, make(i)));
}

interface Framing {
  status: number;
  /** bytes of head (status line + headers + CRLFCRLF) */
  headLen: number;
  /** body length, or -1 for chunked */
  bodyLen: number;
}

/** status and framing from a complete response head, or undefined when the head is incomplete */
function parseHead(buf: Buffer): Framing | undefined {
  const end = buf.indexOf(CRLF2);
  if (end < 0) return undefined;
  // "HTTP/1.1 201 Created": three digits at offset 9
  const status = (buf[9]! - 48) * 100 + (buf[10]! - 48) * 10 + (buf[11]! - 48);
  const head = buf.toString("latin1", 0, end).toLowerCase();
  const cl = head.indexOf("\r\ncontent-length:");
  let bodyLen = 0;
  if (cl >= 0) bodyLen = Number.parseInt(head.slice(cl + 17, head.indexOf("\r\n", cl + 2) >>> 0), 10);
  else if (head.includes("\r\ntransfer-encoding: chunked")) bodyLen = -1;
  return { status, headLen: end + 4, bodyLen };
}

/** bytes a complete chunked body takes from `from`, or -1 while it is incomplete */
function chunkedLength(buf: Buffer, from: number): number {
  let at = from;
  for (;;) {
    const eol = buf.indexOf("\r\n", at);
    if (eol < 0) return -1;
    const size = Number.parseInt(buf.toString("latin1", at, eol), 16);
    const next = eol + 2 + size + 2;
    if (next > buf.length) return -1;
    if (size === 0) return next - from;
    at = next;
  }
}

function chunkedBody(buf: Buffer): string {
  let out = "";
  let at = 0;
  for (;;) {
    const eol = buf.indexOf("\r\n", at);
    const size = Number.parseInt(buf.toString("latin1", at, eol), 16);
    if (!(size > 0)) return out;
    out += buf.toString("utf8", eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

export async function runRawLoad(
  target: Target,
  requests: Buffer[] | { n: number; make: (i: number) => Buffer },
  concurrency: number,
  /** also collect every latency (ms) here, to merge several runs' percentiles */
  latencies?: number[],
): Promise<LoadResult> {
  const total = Array.isArray(requests) ? requests.length : requests.n;
  const get = Array.isArray(requests) ? (i: number) => requests[i]! : requests.make;
  const url = new URL(target.url);
  const lat: number[] = [];
  let next = 0;
  let errors = 0;
  const failures: Record<string, number> = {};
  const fail = (what: string) => {
    errors++;
    failures[what] = (failures[what] ?? 0) + 1;
  };

  const open = (): Promise<TLSSocket> =>
    new Promise((resolve, reject) => {
      const s = connect({ host: url.hostname, port: Number(url.port), ca: target.ca }, () => {
        s.off("error", reject);
        s.setNoDelay(true);
        resolve(s);
      });
      s.once("error", reject);
    });

  type Outcome = { status: number; body?: string } | { error: string };

  /**
   * One connection: its listeners stay attached for its life and frame whatever arrives into
   * the response of the one request in flight, then send the next request from there.
   */
  const connection = (): Promise<void> =>
    new Promise((allDone) => {
      let sock: TLSSocket;
      let buf: Buffer | undefined;
      let framing: Framing | undefined;
      let i = -1;
      let t0 = 0;
      const send = () => {
        if (next >= total) {
          sock.end();
          allDone();
          return;
        }
        i = next++;
        buf = undefined;
        framing = undefined;
        t0 = performance.now();
        sock.write(get(i));
      };
      const settle = (o: Outcome) => {
        lat.push(performance.now() - t0);
        const req = i;
        i = -1;
        if ("error" in o) {
          fail(o.error);
          sock.destroy();
          void reopen();
          return;
        }
        if (o.status >= 300) {
          let msg = (o.body ?? "").slice(0, 160);
          try {
            msg = (JSON.parse(o.body ?? "") as { message?: string }).message ?? msg;
          } catch {
            // not a Status object
          }
          const method = get(req).toString("latin1", 0, 8).split(" ")[0] ?? "?";
          fail(`${o.status} ${method}: ${msg.replace(/\d+/g, "N")}`);
        }
        send();
      };
      const onData = (c: Buffer) => {
        if (i < 0) return;
        buf = buf ? Buffer.concat([buf, c]) : c;
        framing ??= parseHead(buf);
        if (!framing) return;
        const { status, headLen, bodyLen } = framing;
        const len = bodyLen >= 0 ? bodyLen : chunkedLength(buf, headLen);
        if (len < 0 || buf.length < headLen + len) return;
        if (status < 300) return settle({ status });
        const raw = buf.subarray(headLen, headLen + len);
        settle({ status, body: bodyLen >= 0 ? raw.toString("utf8") : chunkedBody(raw) });
      };
      const reopen = async () => {
        try {
          sock = await open();
        } catch (e) {
          // the server is gone: every request left fails the same way
          const code = (e as NodeJS.ErrnoException).code ?? String(e);
          while (next < total) {
            next++;
            fail(code);
          }
          allDone();
          return;
        }
        const s = sock;
        s.on("data", onData);
        // a socket error is followed by its close, which fails the request in flight
        s.on("error", () => {});
        s.on("close", () => {
          if (s === sock && i >= 0) settle({ error: "ECONNRESET" });
        });
        send();
      };
      void reopen();
    });

  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, total)) }, connection));
  const seconds = (performance.now() - t0) / 1000;
  return loadResult(total, seconds, lat, errors, failures, latencies);
}
