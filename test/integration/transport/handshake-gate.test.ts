/**
 * HandshakeGate on real loopback sockets: at most `max` sockets are handed on at once, the
 * rest wait paused (nothing read from them) and are handed on in arrival order as slots free;
 * and behind a real TLS server every client completes its handshake through a gate of one;
 * the MQTT port's listener (BrokerListener) holds a handshake back while its bound is taken.
 */

import { type AddressInfo, createServer, connect as netConnect, type Server, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { createServer as createTlsServer, type TLSSocket, connect as tlsConnect } from "node:tls";
import { afterEach, describe, expect, it, vi } from "vitest";
import { silentLogger } from "../../../src/lib/logger.js";
import { createCA, issueCert } from "../../../src/lib/pki.js";
import { BrokerListener } from "../../../src/transport/broker-tls.js";
import { HandshakeGate, type StartHandshake } from "../../../src/transport/handshake-gate.js";

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** a pauseOnConnect TCP server on 127.0.0.1 feeding a gate */
async function gated(max: number, start: StartHandshake): Promise<{ gate: HandshakeGate; port: number }> {
  const gate = new HandshakeGate(max, start);
  const accepted: Socket[] = [];
  const server: Server = createServer({ pauseOnConnect: true }, (s) => {
    accepted.push(s);
    s.on("error", () => {});
    gate.offer(s);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of accepted) s.destroy();
        server.close(() => r());
      }),
  );
  return { gate, port: (server.address() as AddressInfo).port };
}

async function client(port: number): Promise<Socket> {
  const c = netConnect(port, "127.0.0.1");
  c.on("error", () => {});
  cleanups.push(() => {
    c.destroy();
  });
  await new Promise<void>((r) => c.once("connect", r));
  return c;
}

/** a CA and a loopback server certificate it signed */
async function serverPki(name: string) {
  const ca = await createCA(name);
  const leaf = await issueCert(ca, { commonName: "127.0.0.1", ipAddresses: ["127.0.0.1"], usage: "server" });
  return { ca, leaf };
}

/** a started BrokerListener on 127.0.0.1 allowing `max` handshakes at once */
async function boundedListener(
  name: string,
  max: number,
  onConnection: (stream: Duplex) => void,
): Promise<{ listener: BrokerListener; ca: string }> {
  const { ca, leaf } = await serverPki(name);
  const listener = new BrokerListener({
    host: "127.0.0.1",
    port: 0,
    tls: { ca: ca.certPem, cert: leaf.certPem, key: leaf.keyPem },
    log: silentLogger(),
    onConnection,
    onRefused: () => {},
    maxHandshakes: max,
  });
  await listener.start();
  return { listener, ca: ca.certPem };
}

describe("HandshakeGate", () => {
  it("refuses a bound that is not a whole number ≥ 1", () => {
    expect(() => new HandshakeGate(0, () => {})).toThrow(/whole number ≥ 1/);
    expect(() => new HandshakeGate(1.5, () => {})).toThrow(/whole number ≥ 1/);
  });

  it("hands on at most max sockets; the rest wait unread and follow in arrival order", async () => {
    const started: { port: number; release: () => void; socket: Socket }[] = [];
    const { gate, port } = await gated(2, (socket, release) => {
      started.push({ port: socket.remotePort ?? 0, release, socket });
    });
    const clients: Socket[] = [];
    for (let i = 0; i < 5; i++) {
      const c = await client(port);
      c.write(`hello ${i}`);
      clients.push(c);
      // one at a time, so arrival order is the order of the clients
      await vi.waitFor(() => expect(gate.stats().admitted + gate.stats().waiting).toBe(i + 1));
    }
    expect(gate.stats()).toEqual({ inFlight: 2, waiting: 3, admitted: 2, skipped: 0 });
    expect(started.map((s) => s.port)).toEqual(clients.slice(0, 2).map((c) => c.localPort));

    // a released slot goes to the oldest waiting socket, which nothing has read from yet
    started[0]?.release();
    started[0]?.release(); // idempotent: one release, one slot
    expect(gate.stats()).toEqual({ inFlight: 2, waiting: 2, admitted: 3, skipped: 0 });
    expect(started[2]?.port).toBe(clients[2]?.localPort);
    expect(started[2]?.socket.bytesRead).toBe(0);

    // a socket that closes frees its slot too
    started[1]?.socket.destroy();
    await vi.waitFor(() => expect(gate.stats().admitted).toBe(4));
    expect(started[3]?.port).toBe(clients[3]?.localPort);
    expect(gate.stats()).toMatchObject({ inFlight: 2, waiting: 1 });
  });

  it("skips a waiting socket that was destroyed before its turn", async () => {
    const started: { release: () => void; socket: Socket }[] = [];
    const waiting: Socket[] = [];
    const gate = new HandshakeGate(1, (socket, release) => started.push({ socket, release }));
    const { port } = await gated(1, () => {});
    // three sockets of our own, offered directly: the second is destroyed while it waits
    for (let i = 0; i < 3; i++) {
      const c = await client(port);
      waiting.push(c);
      gate.offer(c);
    }
    waiting[1]?.destroy();
    started[0]?.release();
    expect(started.map((s) => s.socket)).toEqual([waiting[0], waiting[2]]);
    expect(gate.stats()).toEqual({ inFlight: 1, waiting: 0, admitted: 2, skipped: 1 });
  });

  it("lets every TLS client through a gate of one, one handshake at a time", async () => {
    const { ca, leaf } = await serverPki("gate-ca");
    const tls = createTlsServer({ cert: leaf.certPem, key: leaf.keyPem });
    const pending = new Map<string, () => void>();
    const key = (s: { remoteAddress?: string | undefined; remotePort?: number | undefined }) =>
      `${s.remoteAddress}:${s.remotePort}`;
    let inFlightMax = 0;
    let inFlight = 0;
    const { gate, port } = await gated(1, (socket, release) => {
      inFlight++;
      inFlightMax = Math.max(inFlightMax, inFlight);
      pending.set(key(socket), () => {
        inFlight--;
        release();
      });
      tls.emit("connection", socket);
    });
    const secured: number[] = [];
    tls.on("secureConnection", (s: TLSSocket) => {
      const done = pending.get(key(s));
      pending.delete(key(s));
      done?.();
      secured.push(s.remotePort ?? 0);
      s.end("ok");
    });
    const clients = Array.from(
      { length: 6 },
      () =>
        new Promise<number>((resolve, reject) => {
          const c = tlsConnect({
            host: "127.0.0.1",
            port,
            ca: ca.certPem,
            checkServerIdentity: () => undefined,
          });
          cleanups.push(() => {
            c.destroy();
          });
          c.on("error", reject);
          c.on("data", () => resolve(c.localPort ?? 0));
        }),
    );
    const ports = await Promise.all(clients);
    expect(secured.sort()).toEqual([...ports].sort());
    expect(inFlightMax).toBe(1);
    expect(gate.stats()).toMatchObject({ admitted: 6, waiting: 0 });
  });
});

describe("BrokerListener with a handshake bound", () => {
  it("starts a TLS handshake only when one in flight ends", async () => {
    const connected: Duplex[] = [];
    const { listener, ca } = await boundedListener("gate-broker-ca", 1, (stream) => connected.push(stream));
    cleanups.push(async () => {
      for (const s of connected) s.destroy();
      await listener.stop();
    });
    const { port } = listener.address();
    // a peer that connects and never says hello holds the only slot
    const silent = await client(port);
    await vi.waitFor(() => expect(listener.handshakeGate()).toMatchObject({ inFlight: 1, waiting: 0 }));
    let secure = false;
    const tls = tlsConnect({ host: "127.0.0.1", port, ca, checkServerIdentity: () => undefined }, () => {
      secure = true;
    });
    tls.on("error", () => {});
    cleanups.push(() => {
      tls.destroy();
    });
    await vi.waitFor(() => expect(listener.handshakeGate()).toMatchObject({ inFlight: 1, waiting: 1 }));
    expect(secure).toBe(false);
    silent.destroy();
    await vi.waitFor(() => expect(secure).toBe(true));
    await vi.waitFor(() => expect(connected).toHaveLength(1));
    expect(listener.handshakeGate()).toMatchObject({ admitted: 2, waiting: 0 });
  });

  it("closes the sockets still waiting when the listener stops, so stop() does not hang on them", async () => {
    const { listener } = await boundedListener("gate-stop-ca", 1, (stream) => stream.destroy());
    const { port } = listener.address();
    const silent = await client(port);
    const queued = await client(port);
    let queuedClosed = false;
    queued.once("close", () => {
      queuedClosed = true;
    });
    await vi.waitFor(() => expect(listener.handshakeGate()).toMatchObject({ inFlight: 1, waiting: 1 }));
    let stopped = false;
    const stopping = listener.stop().then(() => {
      stopped = true;
    });
    await vi.waitFor(() => expect(queuedClosed).toBe(true));
    // the one in its handshake is the listener's to wait for: it ends when its peer leaves
    expect(stopped).toBe(false);
    silent.destroy();
    await stopping;
    expect(stopped).toBe(true);
  });
});
