/**
 * A user-space TCP proxy on 127.0.0.1 for link-failure tests.
 *
 * Modes
 * - "pass":      forward bytes both ways (optionally delayed by `latencyMs` per chunk).
 * - "blackhole": keep every socket open but forward nothing, and accept new connections that then
 *                hear nothing: what a dead NAT mapping or a pulled cable looks like to both ends
 *                (a half-open link; only keepalives can notice it).
 * - "cut":       destroy every open connection (RST) and refuse new ones at once.
 *
 * Every socket is tracked by the proxy instance and destroyed by close(); nothing is global.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

export type ProxyMode = "pass" | "blackhole" | "cut";

export interface TcpProxy {
  readonly port: number;
  readonly mode: ProxyMode;
  setMode(mode: ProxyMode): void;
  setLatency(ms: number): void;
  /** connections accepted so far (for assertions that clients did reconnect) */
  readonly accepted: number;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: ProxyMode = "pass";
  let latencyMs = 0;
  let accepted = 0;
  const pairs = new Set<Pair>();

  const forward = (from: Socket, to: Socket): void => {
    from.on("data", (chunk: Buffer) => {
      if (mode !== "pass") return; // black-holed bytes are dropped, not buffered
      if (latencyMs > 0) setTimeout(() => to.destroyed || to.write(chunk), latencyMs);
      else to.write(chunk);
    });
  };

  const server: Server = createServer((client) => {
    accepted++;
    if (mode === "cut") {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection({ host: target.host, port: target.port });
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    forward(client, upstream);
    forward(upstream, client);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0 }, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("proxy has no TCP address");

  return {
    port: address.port,
    get mode() {
      return mode;
    },
    get accepted() {
      return accepted;
    },
    setMode(next: ProxyMode) {
      mode = next;
      if (next === "cut") {
        for (const p of pairs) {
          p.client.resetAndDestroy();
          p.upstream.destroy();
        }
        pairs.clear();
      }
    },
    setLatency(ms: number) {
      latencyMs = ms;
    },
    close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
