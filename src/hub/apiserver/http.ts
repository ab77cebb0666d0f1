/**
 * Small HTTP helpers shared by the handlers: JSON replies, Status errors, bounded body reads.
 * Errors never carry stack traces to the client: anything that is not an ApiError becomes a
 * 500 "Internal error occurred" and is logged with its stack on the hub.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError, isApiError } from "../../api/errors.js";
import { loadDecoderFor } from "./codec.js";

/** upstream's limit on request bodies */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export function sendJson(
  res: ServerResponse,
  code: number,
  body: unknown,
  contentType = "application/json",
): void {
  sendRaw(res, code, JSON.stringify(body), contentType);
}

export function sendRaw(
  res: ServerResponse,
  code: number,
  body: string,
  contentType = "application/json",
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(code, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

export function sendError(res: ServerResponse, err: unknown): ApiError {
  const e = isApiError(err) ? err : ApiError.internal("the server could not complete the request");
  sendJson(res, e.code, e.toStatus());
  return e;
}

export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? "0");
    if (declared > limit) {
      req.resume();
      reject(
        ApiError.tooLarge(`the request body of ${declared} bytes is larger than the ${limit} byte limit`),
      );
      return;
    }
    // A small body has usually arrived with the headers: the parser pushed it and the end
    // before the handler got here. Take it in one read() instead of switching the stream to
    // flowing mode with three listeners (≈4.5 µs per create in the profile).
    if (req.complete && req.readableFlowing === null && !req.readableEnded) {
      const buffered = req.readableLength;
      const body = buffered > 0 ? (req.read() as Buffer | null) : null;
      if (body !== null && body.length > limit) {
        reject(ApiError.tooLarge(`the request body is larger than the ${limit} byte limit`));
        return;
      }
      // read() drained an ended stream: 'end' follows, and the socket is free for the next request
      if (body === null) req.resume();
      loadDecoderFor(req.headers["content-type"]).then(() => resolve(body ?? Buffer.alloc(0)), reject);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        reject(ApiError.tooLarge(`the request body is larger than the ${limit} byte limit`));
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      // YAML and protobuf bodies' parsers load on demand (codec.ts); JSON needs nothing
      if (!failed)
        loadDecoderFor(req.headers["content-type"]).then(
          // a small body arrives in one chunk: no copy then
          () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)),
          reject,
        );
    });
    req.on("error", (e) => {
      if (!failed) reject(ApiError.badRequest(`error reading the request body: ${e.message}`));
    });
  });
}

/** Query helpers with upstream's parse errors. */
export class Query {
  constructor(readonly params: URLSearchParams) {}

  str(name: string): string | undefined {
    const v = this.params.get(name);
    return v === null ? undefined : v;
  }

  bool(name: string): boolean {
    const v = this.params.get(name);
    return v === "true" || v === "1";
  }

  int(name: string): number | undefined {
    const v = this.params.get(name);
    if (v === null || v === "") return undefined;
    const n = Number(v);
    if (!Number.isInteger(n))
      throw ApiError.badRequest(`invalid value for ${name}: "${v}" is not an integer`);
    return n;
  }

  all(name: string): string[] {
    return this.params.getAll(name);
  }
}
