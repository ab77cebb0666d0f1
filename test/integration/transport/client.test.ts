/**
 * EdgeLink against a real broker through a real TCP proxy: last-will on an abrupt drop, half-open
 * detection by keepalive, exponential backoff while the hub is unreachable, and TLS session
 * resumption (also across a broker restart that keeps its ticket keys, and over wss://).
 */
import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Envelope } from "../../../src/transport/envelope.js";
import { Fixture, uniqueNode } from "../../helpers/transport-fixture.js";

let fx: Fixture;
beforeEach(async () => {
  fx = await Fixture.create();
});
afterEach(async () => {
  await fx.cleanup();
});

describe("EdgeLink", () => {
  it("publishes its last-will when the socket dies without DISCONNECT", async () => {
    const broker = await fx.broker();
    const proxy = await fx.proxy(broker.address().port);
    const node = uniqueNode();
    const presence: boolean[] = [];
    broker.onEnvelope((n, env: Envelope, stream) => {
      if (n === node && stream === "presence" && env.type === "presence") presence.push(env.online);
    });
    const link = await fx.link(node, proxy.port);
    await vi.waitFor(() => expect(presence).toEqual([true]), { timeout: 10_000 });

    proxy.setMode("cut");
    await vi.waitFor(() => expect(presence).toEqual([true, false]), { timeout: 10_000 });
    expect(link.connected).toBe(false);
  });

  it("notices a black-holed (half-open) link within twice the keepalive", async () => {
    const broker = await fx.broker();
    const proxy = await fx.proxy(broker.address().port);
    const node = uniqueNode();
    const keepaliveSeconds = 2;
    const link = await fx.link(node, proxy.port, {
      keepaliveSeconds,
      backoff: { baseMs: 5000, maxMs: 5000 },
    });
    await vi.waitFor(() => expect(link.connected).toBe(true), { timeout: 10_000 });
    let downAt = 0;
    link.onStatus((s) => {
      if (s.type === "disconnected" && downAt === 0) downAt = Date.now();
    });

    const cutAt = Date.now();
    proxy.setMode("blackhole");
    await vi.waitFor(() => expect(downAt).toBeGreaterThan(0), { timeout: 2 * keepaliveSeconds * 1000 + 500 });
    expect(downAt - cutAt).toBeLessThanOrEqual(2 * keepaliveSeconds * 1000);
  });

  it("stops promptly even when the link is black-holed (no wait for a DISCONNECT that cannot arrive)", async () => {
    const broker = await fx.broker();
    const proxy = await fx.proxy(broker.address().port);
    const node = uniqueNode();
    const link = await fx.link(node, proxy.port, { keepaliveSeconds: 60 });
    await vi.waitFor(() => expect(link.connected).toBe(true), { timeout: 10_000 });
    proxy.setMode("blackhole");
    const statuses: number[] = [];
    link.onStatus((s) => s.type === "disconnected" && statuses.push(s.retryInMs));
    await link.stop(); // bounded by the test timeout if it hung
    expect(link.connected).toBe(false);
    expect(statuses).toEqual([-1]);
  });

  it("backs off exponentially (capped) while the hub refuses connections, then reconnects", async () => {
    const broker = await fx.broker();
    const proxy = await fx.proxy(broker.address().port);
    proxy.setMode("cut");
    const node = uniqueNode();
    const retries: number[] = [];
    const link = await fx.link(node, proxy.port, {
      backoff: { baseMs: 20, maxMs: 160 },
      random: () => 0.999,
    });
    link.onStatus((s) => s.type === "disconnected" && retries.push(s.retryInMs));
    await vi.waitFor(() => expect(retries.length).toBeGreaterThanOrEqual(6), { timeout: 10_000 });
    // full jitter with random()≈1 shows the ceiling: base·2^n capped at max
    expect(retries.slice(0, 6)).toEqual([19, 39, 79, 159, 159, 159]);

    proxy.setMode("pass");
    await vi.waitFor(() => expect(link.connected).toBe(true), { timeout: 10_000 });
    expect(broker.connectedNodes()).toEqual([node]);
  });
});

describe("EdgeLink TLS session resumption", () => {
  it("resumes its TLS session on reconnect, also across a broker restart with the same ticket keys", async () => {
    const ticketKeys = randomBytes(48);
    const first = await fx.broker({ tls: { ...fx.tlsOf(), ticketKeys } });
    const port = first.address().port;
    const proxy = await fx.proxy(port);
    const node = uniqueNode();
    const link = await fx.link(node, proxy.port);
    await vi.waitFor(() => expect(link.connected).toBe(true), { timeout: 10_000 });
    expect(first.tlsHandshakes()).toEqual({ full: 1, resumed: 0 });

    proxy.setMode("cut");
    await vi.waitFor(() => expect(link.connected).toBe(false), { timeout: 10_000 });
    proxy.setMode("pass");
    await vi.waitFor(() => expect(link.connected).toBe(true), { timeout: 10_000 });
    expect(first.tlsHandshakes()).toEqual({ full: 1, resumed: 1 });

    // a hub restart: a new broker process state, same ticket keys, same port behind the proxy
    await first.stop();
    await vi.waitFor(() => expect(link.connected).toBe(false), { timeout: 10_000 });
    const second = await fx.broker({ port, tls: { ...fx.tlsOf(), ticketKeys } });
    await vi.waitFor(() => expect(link.connected).toBe(true), { timeout: 10_000 });
    expect(second.tlsHandshakes()).toEqual({ full: 0, resumed: 1 });
    expect(second.connectedNodes()).toEqual([node]);
  });

  it("falls back to a full handshake when the hub's ticket keys changed", async () => {
    const first = await fx.broker({ tls: { ...fx.tlsOf(), ticketKeys: randomBytes(48) } });
    const port = first.address().port;
    const proxy = await fx.proxy(port);
    const link = await fx.link(uniqueNode(), proxy.port);
    await vi.waitFor(() => expect(link.connected).toBe(true), { timeout: 10_000 });
    await first.stop();
    await vi.waitFor(() => expect(link.connected).toBe(false), { timeout: 10_000 });
    const second = await fx.broker({ port, tls: { ...fx.tlsOf(), ticketKeys: randomBytes(48) } });
    await vi.waitFor(() => expect(link.connected).toBe(true), { timeout: 10_000 });
    expect(second.tlsHandshakes()).toEqual({ full: 1, resumed: 0 });
  });

  it("resumes its TLS session over wss:// too (the link owns the TLS socket under the WebSocket)", async () => {
    const broker = await fx.broker();
    const proxy = await fx.proxy(await fx.wssServer(broker));
    const node = uniqueNode();
    const resumed: boolean[] = [];
    const link = await fx.link(node, proxy.port, { url: `wss://127.0.0.1:${proxy.port}/mqtt` });
    link.onStatus((s) => s.type === "connected" && resumed.push(s.tlsResumed));
    await vi.waitFor(() => expect(resumed).toEqual([false]), { timeout: 10_000 });

    proxy.setMode("cut");
    await vi.waitFor(() => expect(link.connected).toBe(false), { timeout: 10_000 });
    proxy.setMode("pass");
    await vi.waitFor(() => expect(resumed).toEqual([false, true]), { timeout: 10_000 });
    expect(broker.connectedNodes()).toEqual([node]);
  });
});
