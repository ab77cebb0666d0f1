/**
 * Shared set-up for edge-link integration tests: a cluster CA with a hub serving certificate for
 * 127.0.0.1, node client certificates, a real aedes broker on a random loopback port, and links.
 * Everything a test starts is registered with the fixture and stopped by `cleanup()`.
 */
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { createCA, issueCert, type KeyPairPem } from "../../src/lib/pki.js";
import { MqttBroker, type MqttBrokerOptions } from "../../src/transport/broker.js";
import { EdgeLink, type EdgeLinkOptions } from "../../src/transport/client.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";

export interface Pki {
  ca: KeyPairPem;
  hub: KeyPairPem;
  node(name: string): Promise<KeyPairPem>;
}

export async function makePki(): Promise<Pki> {
  const ca = await createCA("edgekube-test-ca");
  const hub = await issueCert(ca, {
    commonName: "edge-hub",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
    usage: "server",
  });
  return {
    ca,
    hub,
    node: (name) =>
      issueCert(ca, { commonName: `system:node:${name}`, organizations: ["system:nodes"], usage: "client" }),
  };
}

let seq = 0;
/** A node name unique to this test process (so parallel test files never collide). */
export function uniqueNode(prefix = "n"): string {
  seq++;
  return `${prefix}-${process.pid}-${seq}-${Math.floor(Math.random() * 1e6)}`;
}

export class Fixture {
  private readonly stops: Array<() => Promise<void> | void> = [];

  constructor(readonly pki: Pki) {}

  static async create(): Promise<Fixture> {
    return new Fixture(await makePki());
  }

  defer(stop: () => Promise<void> | void): void {
    this.stops.push(stop);
  }

  /** the broker's TLS material (to extend, e.g. with ticket keys) */
  tlsOf(): MqttBrokerOptions["tls"] {
    return { ca: this.pki.ca.certPem, cert: this.pki.hub.certPem, key: this.pki.hub.keyPem };
  }

  async broker(extra: Partial<MqttBrokerOptions> = {}): Promise<MqttBroker> {
    const broker = new MqttBroker({
      host: "127.0.0.1",
      port: 0,
      tls: { ca: this.pki.ca.certPem, cert: this.pki.hub.certPem, key: this.pki.hub.keyPem },
      ...extra,
    });
    await broker.start();
    this.defer(() => broker.stop());
    return broker;
  }

  /** An EdgeLink with a fresh node certificate (unless credentials are given in `extra`). */
  async link(node: string, port: number, extra: Partial<EdgeLinkOptions> = {}): Promise<EdgeLink> {
    const creds = extra.cert || extra.username !== undefined ? {} : await this.pki.node(node).then(toCreds);
    const link = new EdgeLink({
      url: `mqtts://127.0.0.1:${port}`,
      node,
      ca: this.pki.ca.certPem,
      keepaliveSeconds: 5,
      backoff: { baseMs: 50, maxMs: 500 },
      ...creds,
      ...extra,
    });
    await link.start();
    this.defer(() => link.stop());
    return link;
  }

  /** A user-space TCP proxy on loopback to `port` (cut, black-hole or pass the link at will). */
  async proxy(port: number): Promise<TcpProxy> {
    const proxy = await startTcpProxy({ host: "127.0.0.1", port });
    this.defer(() => proxy.close());
    return proxy;
  }

  /**
   * An HTTPS server on a random loopback port (the hub's serving certificate, client
   * certificates requested) that hands `/mqtt` upgrades to `broker`, as the hub's API server
   * does; resolves with its port.
   */
  async wssServer(broker: MqttBroker): Promise<number> {
    const https = createHttpsServer({
      ca: this.pki.ca.certPem,
      cert: this.pki.hub.certPem,
      key: this.pki.hub.keyPem,
      requestCert: true,
      rejectUnauthorized: false,
    });
    https.on("upgrade", (req, socket, head) => {
      if (req.url === "/mqtt") broker.handleWebSocket(req, socket, head);
      else socket.destroy();
    });
    await new Promise<void>((r) => https.listen(0, "127.0.0.1", r));
    this.defer(() => new Promise<void>((r) => https.close(() => r())));
    return (https.address() as AddressInfo).port;
  }

  /** A client certificate for `node` signed by another CA than the cluster's. */
  async forgedNodeCert(node: string): Promise<KeyPairPem> {
    const otherCa = await createCA("someone-else");
    return issueCert(otherCa, {
      commonName: `system:node:${node}`,
      organizations: ["system:nodes"],
      usage: "client",
    });
  }

  async cleanup(): Promise<void> {
    for (const stop of this.stops.reverse()) await stop();
    this.stops.length = 0;
  }
}

function toCreds(kp: KeyPairPem): { cert: string; key: string } {
  return { cert: kp.certPem, key: kp.keyPem };
}
