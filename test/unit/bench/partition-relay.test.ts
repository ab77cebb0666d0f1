/**
 * The relay's model of TCP retransmission timing after a partition heals (pure arithmetic), and
 * its dialer's model of a SYN into a DROP partition (loopback sockets).
 */
import { type AddressInfo, createServer, type Socket } from "node:net";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { nextRetransmitMs, PartitionRelay } from "../../../bench/lib/partition-relay.js";

describe("nextRetransmitMs", () => {
  it("waits for the retransmission that follows the heal: RTO × (2^k − 1) after the first loss", () => {
    // retransmissions at 0.2, 0.6, 1.4, 3.0, 6.2, 12.6, 25.4, 51.0, 102.2 s
    expect(nextRetransmitMs(0, 5_000)).toBeCloseTo(1_200);
    expect(nextRetransmitMs(0, 20_000)).toBeCloseTo(5_400);
    expect(nextRetransmitMs(0, 60_000)).toBeCloseTo(42_200);
  });

  it("is the first retransmission when the heal comes before it", () => {
    expect(nextRetransmitMs(1_000, 1_100)).toBeCloseTo(100);
  });
});

describe("PartitionRelay.dialer", () => {
  async function target(): Promise<{ port: number; accepted: () => number; close: () => Promise<void> }> {
    let accepted = 0;
    const sockets = new Set<Socket>();
    const server = createServer((s) => {
      accepted++;
      sockets.add(s);
    });
    await new Promise<void>((r) => server.listen({ host: "127.0.0.1", port: 0 }, () => r()));
    const port = (server.address() as AddressInfo).port;
    return {
      port,
      accepted: () => accepted,
      close: () => {
        for (const s of sockets) s.destroy();
        return new Promise<void>((r) => server.close(() => r()));
      },
    };
  }

  it("leaves a dial into a partition pending until the caller aborts it; nothing connects", async () => {
    const t = await target();
    onTestFinished(() => t.close());
    const relay = new PartitionRelay({ host: "127.0.0.1", port: t.port });
    onTestFinished(() => relay.stop());
    relay.partition();
    const ac = new AbortController();
    const dialed = relay
      .dialer()({ host: "127.0.0.1", port: t.port }, ac.signal)
      .catch((e: unknown) => e);
    const settled = await Promise.race([
      dialed.then(() => true),
      new Promise((r) => setTimeout(() => r(false), 100)),
    ]);
    expect(settled).toBe(false); // neither completed nor failed: a SYN in a black hole
    ac.abort(new Error("connect timeout"));
    expect(((await dialed) as Error).message).toBe("connect timeout");
    relay.heal();
    await new Promise((r) => setTimeout(r, 1200)); // past the first SYN retransmission
    expect(t.accepted()).toBe(0);
  });

  it("completes a dial still pending at the heal, at the next SYN retransmission", async () => {
    const t = await target();
    onTestFinished(() => t.close());
    const relay = new PartitionRelay({ host: "127.0.0.1", port: t.port });
    onTestFinished(() => relay.stop());
    relay.partition();
    const sock = relay.dialer()({ host: "127.0.0.1", port: t.port }, new AbortController().signal);
    relay.heal();
    const s = await sock;
    onTestFinished(() => void s.destroy());
    await vi.waitFor(() => expect(t.accepted()).toBe(1));
  });

  it("dials at once while the network is whole", async () => {
    const t = await target();
    onTestFinished(() => t.close());
    const relay = new PartitionRelay({ host: "127.0.0.1", port: t.port });
    onTestFinished(() => relay.stop());
    const s = await relay.dialer()({ host: "127.0.0.1", port: t.port }, new AbortController().signal);
    onTestFinished(() => void s.destroy());
    await vi.waitFor(() => expect(t.accepted()).toBe(1));
  });
});
