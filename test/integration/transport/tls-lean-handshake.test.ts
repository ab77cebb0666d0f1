/**
 * The MQTT port's full TLS handshake fits Node's 1 KB TLS write buffer (tls-lean-handshake.ts):
 * through a real broker on 127.0.0.1 and a logging TCP relay, the server's handshake flight
 * carries no CA certificate, a full handshake brings one session ticket (not OpenSSL's two),
 * a refused certificate none, and the one ticket resumes, also on a new broker with the same key.
 */
import { randomBytes } from "node:crypto";
import {
  type AddressInfo,
  createServer as createNetServer,
  connect as netConnect,
  type Server,
} from "node:net";
import { connect as tlsConnect } from "node:tls";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { KeyPairPem } from "../../../src/lib/pki.js";
import type { MqttBroker } from "../../../src/transport/broker.js";
import { Fixture, uniqueNode } from "../../helpers/transport-fixture.js";

let fx: Fixture;
beforeEach(async () => {
  fx = await Fixture.create();
});
afterEach(async () => {
  await fx.cleanup();
});

/** A TCP relay in front of `port` that records the size of every chunk the server sends. */
async function relay(port: number): Promise<{ port: number; fromServer: number[]; server: Server }> {
  const fromServer: number[] = [];
  const server = createNetServer((c) => {
    const up = netConnect(port, "127.0.0.1");
    c.pipe(up);
    up.on("data", (d: Buffer) => {
      fromServer.push(d.length);
      c.write(d);
    });
    up.on("error", () => c.destroy());
    c.on("error", () => up.destroy());
    up.on("close", () => c.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  fx.defer(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.address() as AddressInfo).port, fromServer, server };
}

interface Handshake {
  resumed: boolean;
  tickets: Buffer[];
  closedByServer: boolean;
}

/**
 * One TLS connection as an agent makes it; collects the tickets that arrive within the time
 * the server needs to send them (it sends them right after the handshake, before any MQTT).
 */
function handshake(port: number, creds: KeyPairPem, session?: Buffer): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const tickets: Buffer[] = [];
    let closedByServer = false;
    const s = tlsConnect({
      host: "127.0.0.1",
      port,
      servername: "localhost",
      ca: fx.pki.ca.certPem,
      cert: creds.certPem,
      key: creds.keyPem,
      ...(session ? { session } : {}),
    });
    s.on("session", (t: Buffer) => tickets.push(t));
    s.on("error", () => {});
    s.on("close", () => {
      closedByServer = true;
    });
    s.once("secureConnect", () => {
      const resumed = s.isSessionReused();
      // a full handshake's tickets follow it on the same connection (a resumed one gets none
      // from OpenSSL 3.0 here); the broker closes a refused one
      const settled = resumed
        ? Promise.resolve()
        : vi.waitFor(() => expect(tickets.length > 0 || closedByServer).toBe(true), { timeout: 5000 });
      settled
        .catch(() => undefined)
        .then(() => new Promise((r) => setTimeout(r, 100)))
        .then(() => {
          s.destroy();
          resolve({ resumed, tickets, closedByServer });
        }, reject);
    });
  });
}

async function brokerWithKey(key: Buffer, port = 0): Promise<MqttBroker> {
  return fx.broker({ port, tls: { ...fx.tlsOf(), ticketKeys: key } });
}

describe("lean TLS handshakes on the MQTT port", () => {
  it("sends a flight without the CA and one ticket per full handshake, and the ticket resumes", async () => {
    const broker = await brokerWithKey(randomBytes(48));
    const r = await relay(broker.address().port);
    const creds = await fx.pki.node(uniqueNode());

    const full = await handshake(r.port, creds);
    expect(full.resumed).toBe(false);
    expect(full.tickets).toHaveLength(1);
    // ServerHello … Finished in one burst: with the CA appended it was ≈1,260 bytes
    expect(r.fromServer[0]).toBeLessThanOrEqual(1024);
    expect(r.fromServer.every((n) => n <= 1024)).toBe(true);

    r.fromServer.length = 0;
    const again = await handshake(r.port, creds, full.tickets[0]);
    expect(again.resumed).toBe(true);
    expect(broker.tlsHandshakes()).toEqual({ full: 1, resumed: 1 });
  });

  it("resumes on a new broker that has the same ticket key (a hub restart)", async () => {
    const key = randomBytes(48);
    const first = await brokerWithKey(key);
    const creds = await fx.pki.node(uniqueNode());
    const full = await handshake(first.address().port, creds);
    expect(full.tickets).toHaveLength(1);
    const second = await brokerWithKey(key);
    const resumed = await handshake(second.address().port, creds, full.tickets[0]);
    expect(resumed.resumed).toBe(true);
    // a rotated key: the old ticket is refused and the client falls back to a full handshake
    second.setTicketKeys(randomBytes(48));
    const rotated = await handshake(second.address().port, creds, full.tickets[0]);
    expect(rotated.resumed).toBe(false);
    expect(rotated.tickets).toHaveLength(1);
  });

  it("gives no ticket to a certificate it refuses (another CA's, or the CA's server certificate)", async () => {
    const broker = await brokerWithKey(randomBytes(48));
    const rejected: string[] = [];
    broker.on("rejected", (r) => rejected.push(r));
    const node = uniqueNode();
    const forged = await fx.forgedNodeCert(node);
    const refused = await handshake(broker.address().port, forged);
    expect(refused.tickets).toHaveLength(0);
    expect(refused.closedByServer).toBe(true);
    // the hub's own serving certificate is signed by the CA but not for client authentication
    const serving = await handshake(broker.address().port, fx.pki.hub);
    expect(serving.tickets).toHaveLength(0);
    expect(serving.closedByServer).toBe(true);
    expect(rejected.filter((r) => r.includes("not signed by the cluster CA"))).toHaveLength(2);
  });
});
