/**
 * TLS session-ticket key rotation against a real broker and a real EdgeLink: the key file is
 * replaced on disk (48 bytes, 0600) and in the running TLS server; tickets made under the old key
 * are refused (Node holds one key: full handshake), the next ones resume under the new key; a
 * key that came due while the hub was down is rotated after the start grace.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  loadOrCreateTicketKey,
  rotationDelay,
  TicketKeyRotation,
} from "../../../src/hub/edge/ticket-key-rotation.js";
import { Fixture, uniqueNode } from "../../helpers/transport-fixture.js";

let fx: Fixture;
let dir: string;
beforeEach(async () => {
  fx = await Fixture.create();
  dir = mkdtempSync(join(tmpdir(), "ek-ticket-"));
  fx.defer(() => rmSync(dir, { recursive: true, force: true }));
});
afterEach(async () => {
  await fx.cleanup();
});

describe("rotationDelay", () => {
  it("waits the rest of the interval, or the start grace when the key is overdue", () => {
    expect(rotationDelay(0, 1000, 50)).toBe(1000);
    expect(rotationDelay(400, 1000, 50)).toBe(600);
    expect(rotationDelay(1000, 1000, 50)).toBe(50);
    expect(rotationDelay(5000, 1000, 50)).toBe(50);
    expect(rotationDelay(-300, 1000, 50)).toBe(1000); // mtime in the future (clock stepped back)
  });
});

describe("TicketKeyRotation", () => {
  it("rotates the key on disk and in the broker: old tickets fall back to a full handshake, new ones resume", async () => {
    const file = join(dir, "tls", "mqtt-ticket.keys");
    const first = loadOrCreateTicketKey(file);
    const broker = await fx.broker({ tls: { ...fx.tlsOf(), ticketKeys: first } });
    const rotation = new TicketKeyRotation({
      file,
      apply: (k) => broker.setTicketKeys(k),
      intervalMs: 3600_000,
    });
    await rotation.start();
    fx.defer(() => rotation.stop());
    const proxy = await fx.proxy(broker.address().port);
    const link = await fx.link(uniqueNode(), proxy.port, { backoff: { baseMs: 20, maxMs: 100 } });
    const reconnect = async () => {
      proxy.setMode("cut");
      await vi.waitFor(() => expect(link.connected).toBe(false), { timeout: 10_000 });
      proxy.setMode("pass");
      await vi.waitFor(() => expect(link.connected).toBe(true), { timeout: 10_000 });
    };
    await vi.waitFor(() => expect(link.connected).toBe(true), { timeout: 10_000 });
    await reconnect();
    expect(broker.tlsHandshakes()).toEqual({ full: 1, resumed: 1 });

    const second = rotation.rotate();
    const onDisk = readFileSync(file);
    expect(onDisk.equals(second)).toBe(true);
    expect(onDisk.equals(first)).toBe(false);
    expect(onDisk.length).toBe(48);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    await reconnect(); // the ticket was made under the old key: one key only, so a full handshake
    expect(broker.tlsHandshakes()).toEqual({ full: 2, resumed: 1 });
    await reconnect(); // and its new ticket resumes
    expect(broker.tlsHandshakes()).toEqual({ full: 2, resumed: 2 });
  });

  it("rotates a key that came due while the hub was down, after the start grace", async () => {
    const file = join(dir, "tls", "mqtt-ticket.keys");
    const old = loadOrCreateTicketKey(file);
    const twoDaysAgo = (Date.now() - 2 * 86_400_000) / 1000;
    utimesSync(file, twoDaysAgo, twoDaysAgo);
    const applied: Buffer[] = [];
    const rotation = new TicketKeyRotation({ file, apply: (k) => applied.push(k), startGraceMs: 100 });
    await rotation.start();
    fx.defer(() => rotation.stop());
    expect(applied).toEqual([]); // not at once: the restart storm resumes under the old key first
    await vi.waitFor(() => expect(applied).toHaveLength(1), { timeout: 5_000 });
    expect(readFileSync(file).equals(old)).toBe(false);
    expect(readFileSync(file).equals(applied[0]!)).toBe(true);
  });

  it("replaces a malformed key file and refuses a bad key for the broker", async () => {
    const file = join(dir, "mqtt-ticket.keys");
    loadOrCreateTicketKey(file);
    const broker = await fx.broker();
    expect(() => broker.setTicketKeys(Buffer.alloc(16))).toThrow(/48 bytes \(got 16\)/);
    expect(loadOrCreateTicketKey(file)).toHaveLength(48);
  });
});
