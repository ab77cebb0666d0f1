/**
 * The embedded broker with real TLS on 127.0.0.1: authentication, ACLs, WebSocket upgrade,
 * large messages and packet limits. Every test uses its own broker on a random port.
 */
import { connect, connectAsync, ErrorWithSubackPacket, type IClientOptions, type MqttClient } from "mqtt";
import mqttPacket from "mqtt-packet";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Denial } from "../../../src/transport/broker-auth.js";
import { decodeEnvelope, type Envelope, envelope } from "../../../src/transport/envelope.js";
import { downTopic, upTopic } from "../../../src/transport/topics.js";
import { Fixture, uniqueNode } from "../../helpers/transport-fixture.js";

let fx: Fixture;
beforeEach(async () => {
  fx = await Fixture.create();
});
afterEach(async () => {
  await fx.cleanup();
});

function stateful<T>(): { items: T[]; push: (x: T) => void } {
  const items: T[] = [];
  return { items, push: (x) => items.push(x) };
}

async function rawClient(node: string, port: number, extra: IClientOptions = {}): Promise<MqttClient> {
  const kp = await fx.pki.node(node);
  const c = await connectAsync(`mqtts://127.0.0.1:${port}`, {
    clientId: node,
    ...extra,
    protocolVersion: 4,
    reconnectPeriod: 0,
    ca: fx.pki.ca.certPem,
    cert: kp.certPem,
    key: kp.keyPem,
  });
  fx.defer(() => c.endAsync(true));
  return c;
}

describe("MqttBroker", () => {
  it("authenticates a node by client certificate and carries envelopes both ways", async () => {
    const broker = await fx.broker();
    const node = uniqueNode();
    const atHub = stateful<[string, Envelope]>();
    broker.onEnvelope((n, env, stream) => stream === "sync" && atHub.push([n, env]));
    const connectedNodes = stateful<string>();
    broker.on("node-connected", connectedNodes.push);
    const link = await fx.link(node, broker.address().port);
    const atNode = stateful<Envelope>();
    link.on("ack", atNode.push);
    await vi.waitFor(() => expect(link.connected).toBe(true), { timeout: 10_000 });
    expect(connectedNodes.items).toEqual([node]);

    await link.send(envelope({ type: "ack", watermark: 7 }));
    await vi.waitFor(() => expect(atHub.items).toHaveLength(1));
    expect(atHub.items[0]?.[0]).toBe(node);
    expect(atHub.items[0]?.[1]).toMatchObject({ v: 1, type: "ack", watermark: 7 });

    await broker.send(node, envelope({ type: "ack", watermark: 9 }));
    await vi.waitFor(() => expect(atNode.items.map((e) => e.type === "ack" && e.watermark)).toEqual([9]));
  });

  it("refuses a client certificate signed by another CA", async () => {
    const broker = await fx.broker();
    const rejected = stateful<string>();
    broker.on("rejected", rejected.push);
    const node = uniqueNode();
    const forged = await fx.forgedNodeCert(node);
    const link = await fx.link(node, broker.address().port, { cert: forged.certPem, key: forged.keyPem });
    const statuses = stateful<string>();
    link.onStatus((s) => statuses.push(s.type));
    await vi.waitFor(() =>
      expect(rejected.items.some((r) => r.includes("not signed by the cluster CA"))).toBe(true),
    );
    await vi.waitFor(() => expect(statuses.items).toContain("disconnected"));
    expect(statuses.items).not.toContain("connected");
    expect(broker.connectedNodes()).toEqual([]);
  });

  it("authenticates by password through the injected callback and refuses a wrong one", async () => {
    const node = uniqueNode();
    const broker = await fx.broker({
      authenticate: (username, password) =>
        username === node && password?.toString() === "s3cret" ? { node } : null,
    });
    const bad = await fx.link(node, broker.address().port, { username: node, password: "wrong" });
    const badStatus = stateful<{ authFailed: boolean; msg: string }>();
    bad.onStatus((s) => {
      if (s.type === "disconnected")
        badStatus.push({ authFailed: s.authFailed, msg: s.error?.message ?? "" });
    });
    await vi.waitFor(() => expect(badStatus.items.length).toBeGreaterThan(0));
    expect(badStatus.items[0]).toEqual({
      authFailed: true,
      msg: expect.stringMatching(/username or password/),
    });
    expect(bad.connected).toBe(false);
    await bad.stop();

    const good = await fx.link(node, broker.address().port, { username: node, password: "s3cret" });
    await vi.waitFor(() => expect(good.connected).toBe(true), { timeout: 10_000 });
    expect(broker.connectedNodes()).toEqual([node]);
  });

  it("confines a node to its own topics: no publishing as, nor subscribing to, another node", async () => {
    const broker = await fx.broker();
    const denied = stateful<Denial>();
    broker.on("denied", denied.push);
    const a = uniqueNode("a");
    const b = uniqueNode("b");
    const atHub = stateful<string>();
    broker.onEnvelope((n) => atHub.push(n));
    const clientA = await rawClient(a, broker.address().port);
    const clientB = await rawClient(b, broker.address().port);
    const atB = stateful<string>();
    clientB.on("message", (topic) => atB.push(topic));
    await clientB.subscribeAsync(downTopic(b, "sync"), { qos: 1 });

    // A may not subscribe to B's downstream, directly or by wildcard
    const refused = await clientA
      .subscribeAsync([downTopic(b, "sync"), "ek/v1/node/+/down/+", "#"], { qos: 1 })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(refused).toBeInstanceOf(ErrorWithSubackPacket);
    expect((refused as ErrorWithSubackPacket).packet.granted).toEqual([128, 128, 128]);
    const atA = stateful<string>();
    clientA.on("message", (topic) => atA.push(topic));

    // A may not publish as B, nor into B's downstream: the broker drops A's connection
    const closed = new Promise<void>((r) => clientA.once("close", () => r()));
    clientA.publish(downTopic(b, "sync"), JSON.stringify(envelope({ type: "ack", watermark: 1 })), {
      qos: 0,
    });
    clientA.publish(upTopic(b, "sync"), JSON.stringify(envelope({ type: "ack", watermark: 1 })), { qos: 0 });
    await closed;
    expect(denied.items[0]).toEqual({ node: a, action: "subscribe", topic: downTopic(b, "sync") });
    expect(denied.items.some((d) => d.action === "publish" && d.node === a)).toBe(true);

    // a marker sent after the attempts reaches B; nothing of A's did, and A saw nothing of B's
    await broker.send(b, envelope({ type: "ack", watermark: 2 }));
    await vi.waitFor(() => expect(atB.items).toEqual([downTopic(b, "sync")]));
    expect(atA.items).toEqual([]);
    expect(atHub.items).not.toContain(b);
  });

  it("refuses a client id other than the certificate's node name (no session takeover)", async () => {
    const broker = await fx.broker();
    const rejected = stateful<string>();
    broker.on("rejected", rejected.push);
    const victim = uniqueNode("victim");
    const err = await rawClient(uniqueNode("thief"), broker.address().port, { clientId: victim }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as { code?: number } | undefined)?.code).toBe(2);
    expect(rejected.items.some((r) => r.includes(`client id "${victim}" must equal`))).toBe(true);
  });

  it("forces clean sessions, so nothing is queued for an offline node", async () => {
    const broker = await fx.broker();
    const node = uniqueNode();
    const first = await rawClient(node, broker.address().port, { clean: false });
    await first.subscribeAsync(downTopic(node, "sync"), { qos: 1 });
    await first.endAsync();
    await broker.send(node, envelope({ type: "ack", watermark: 1 }));
    const got = stateful<unknown>();
    const kp = await fx.pki.node(node);
    const second = connect(`mqtts://127.0.0.1:${broker.address().port}`, {
      clientId: node,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 0,
      ca: fx.pki.ca.certPem,
      cert: kp.certPem,
      key: kp.keyPem,
    });
    fx.defer(() => second.endAsync(true));
    second.on("message", (_t, payload) => got.push(decodeEnvelope(payload)));
    const sessionPresent = await new Promise<boolean>((r) =>
      second.once("connect", (p) => r(p.sessionPresent)),
    );
    expect(sessionPresent).toBe(false);
    // a marker proves delivery works; the message sent while offline must not precede it
    await second.subscribeAsync(downTopic(node, "sync"), { qos: 1 });
    await broker.send(node, envelope({ type: "ack", watermark: 2 }));
    await vi.waitFor(() => expect(got.items).toHaveLength(1));
    expect(got.items[0]).toMatchObject({ type: "ack", watermark: 2 });
  });

  it("serves MQTT over secure WebSocket through an HTTPS server's upgrade", async () => {
    const broker = await fx.broker();
    const port = await fx.wssServer(broker);

    const node = uniqueNode();
    const atHub = stateful<number>();
    broker.onEnvelope((n, env) => n === node && env.type === "ack" && atHub.push(env.watermark));
    const link = await fx.link(node, port, { url: `wss://127.0.0.1:${port}/mqtt` });
    await vi.waitFor(() => expect(link.connected).toBe(true), { timeout: 10_000 });
    await link.send(envelope({ type: "ack", watermark: 42 }));
    await vi.waitFor(() => expect(atHub.items).toEqual([42]));
    // a 1 MiB message fits the WebSocket frame limit too
    const big = "z".repeat(1024 * 1024);
    const bigAtHub = stateful<unknown>();
    broker.onEnvelope((_n, env) => env.type === "status" && bigAtHub.push(env.updates[0]?.status));
    await link.send(envelope({ type: "status", epoch: "e", updates: [{ key: "s", seq: 1, status: big }] }));
    await vi.waitFor(() => expect(bigAtHub.items).toEqual([big]), { timeout: 10_000 });
  });

  it("carries a 1 MiB object intact in both directions", async () => {
    const broker = await fx.broker();
    const node = uniqueNode();
    const link = await fx.link(node, broker.address().port);
    await vi.waitFor(() => expect(link.connected).toBe(true), { timeout: 10_000 });
    const data = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff;
    const secret = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "big", namespace: "default", resourceVersion: "5" },
      data: { blob: data.toString("base64").slice(0, 1024 * 1024) },
    };
    const down: Envelope[] = [];
    link.on("delta", (e) => down.push(e));
    await broker.send(
      node,
      envelope({
        type: "delta",
        from: 0,
        to: 5,
        changes: [{ op: "put", key: "s", revision: 5, object: secret }],
      }),
    );
    await vi.waitFor(() => expect(down).toHaveLength(1), { timeout: 10_000 });
    const got = down[0];
    expect(got?.type === "delta" && got.changes[0]?.op === "put" && got.changes[0].object).toEqual(secret);

    const up: unknown[] = [];
    broker.onEnvelope((_n, env) => env.type === "status" && up.push(env.updates[0]?.status));
    await link.send(
      envelope({ type: "status", epoch: "e", updates: [{ key: "s", seq: 1, status: secret }] }),
    );
    await vi.waitFor(() => expect(up).toHaveLength(1), { timeout: 10_000 });
    expect(up[0]).toEqual(secret);
  });

  it("cuts a connection whose packet exceeds the size limit before buffering it", async () => {
    const broker = await fx.broker({ maxPacketBytes: 64 * 1024 });
    const rejected = stateful<string>();
    broker.on("rejected", rejected.push);
    const node = uniqueNode();
    const c = await rawClient(node, broker.address().port);
    const closed = new Promise<void>((r) => c.once("close", () => r()));
    c.publish(upTopic(node, "sync"), Buffer.alloc(100 * 1024, 0x41), { qos: 0 });
    await closed;
    expect(rejected.items.some((r) => /exceeds the 65536-byte limit/.test(r))).toBe(true);
  });

  it("drops a send before any node ever connected, as aedes drops a message nobody subscribed to", async () => {
    const broker = await fx.broker();
    const node = uniqueNode();
    // aedes loads on the first connection: until then send() resolves without delivering
    await broker.send(node, envelope({ type: "ack", watermark: 1 }));
    const c = await rawClient(node, broker.address().port);
    const got = stateful<Envelope>();
    c.on("message", (_t, payload) => got.push(decodeEnvelope(payload)));
    await c.subscribeAsync(downTopic(node, "sync"), { qos: 1 });
    await broker.send(node, envelope({ type: "ack", watermark: 2 }));
    await vi.waitFor(() => expect(got.items).toHaveLength(1));
    expect(got.items[0]).toMatchObject({ type: "ack", watermark: 2 });
  });

  it("stops cleanly while its first connection is still loading the broker", async () => {
    const broker = await fx.broker();
    const node = uniqueNode();
    const kp = await fx.pki.node(node);
    const c = connect(`mqtts://127.0.0.1:${broker.address().port}`, {
      clientId: node,
      protocolVersion: 4,
      reconnectPeriod: 0,
      ca: fx.pki.ca.certPem,
      cert: kp.certPem,
      key: kp.keyPem,
    });
    fx.defer(() => c.endAsync(true));
    const closed = new Promise<void>((r) => c.once("close", () => r()));
    c.once("error", () => undefined);
    // stop as soon as the TLS connection is accepted, before CONNACK
    await vi.waitFor(() => expect(broker.tlsHandshakes().full).toBe(1));
    await broker.stop();
    await closed;
    expect(c.connected).toBe(false);
    expect(() => broker.address()).toThrow(/not listening/);
    await expect(broker.send(node, envelope({ type: "ack", watermark: 1 }))).rejects.toThrow(/not running/);
  });

  it("writes packets without mqtt-packet's 65,536-Buffer number cache (≈11 MB per hub)", async () => {
    const broker = await fx.broker();
    const node = uniqueNode();
    const c = await rawClient(node, broker.address().port);
    await c.subscribeAsync(downTopic(node, "sync"), { qos: 1 });
    const got = new Promise((r) => c.once("message", r));
    await broker.send(node, envelope({ type: "ack", watermark: 1 }));
    await got;
    expect(mqttPacket.writeToStream.cacheNumbers).toBe(false);
  });
});
