// The subset of spdy-transport 3 (no bundled types) the hub's port-forward bridge uses.
declare module "spdy-transport" {
  import type { EventEmitter } from "node:events";
  import type { Duplex } from "node:stream";

  export interface SpdyStream extends Duplex {
    id: number;
    headers: Record<string, string | undefined>;
    respond(status: number, headers: Record<string, string>, callback?: (err?: Error) => void): void;
    abort(code?: string, callback?: () => void): void;
  }

  export interface SpdyConnection extends EventEmitter {
    start(version: number): void;
    end(callback?: () => void): void;
    destroyStreams(err?: Error): void;
    on(event: "stream", listener: (stream: SpdyStream) => void): this;
    on(event: "error", listener: (err: Error) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }

  const spdy: { connection: typeof connection };
  export default spdy;

  export const connection: {
    create(
      socket: Duplex,
      options: { protocol: "spdy" | "http2"; isServer: boolean; windowSize?: number; maxStreams?: number },
    ): SpdyConnection;
  };
}
