/**
 * EdgeLink's overlapped probing dials against a real broker through a real TCP proxy: after a
 * link dies of a keepalive timeout (the proxy black-holes it), the next attempt starts several
 * TCP connects without waiting for the earlier ones (whose SYNs this test's dialer swallows, as
 * a dead uplink would); once the network returns, a later dial connects while the earlier ones
 * still wait, those are aborted, and the link is up again.
 */
import type { Socket } from "node:net";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type Dialer, netDialer } from "../../../src/transport/dialer.js";
import { startTcpProxy } from "../../helpers/tcp-proxy.js";
import { Fixture, uniqueNode } from "../../helpers/transport-fixture.js";

let fx: Fixture;
beforeEach(async () => {
  fx = await Fixture.create();
});
afterEach(async () => {
  await fx.cleanup();
});

interface DialRecord {
  startedAt: number;
  outcome: "pending" | "connected" | "aborted";
}

/** node:net dials, except that while `dead` a dial's SYN is lost: it waits until aborted */
function switchableDialer(): { dial: Dialer; dials: DialRecord[]; setDead(d: boolean): void } {
  let dead = false;
  const dials: DialRecord[] = [];
  const dial: Dialer = (target, signal) => {
    const rec: DialRecord = { startedAt: Date.now(), outcome: "pending" };
    dials.push(rec);
    if (!dead) {
      return netDialer(target, signal).then((s) => {
        rec.outcome = "connected";
        return s;
      });
    }
    return new Promise<Socket>((_resolve, reject) => {
      signal.addEventListener(
        "abort",
        () => {
          rec.outcome = "aborted";
          reject(signal.reason);
        },
        { once: true },
      );
    });
  };
  return {
    dial,
    dials,
    setDead: (d) => {
      dead = d;
    },
  };
}

describe("EdgeLink overlapped probing dials", () => {
  it("overlaps dials after a keepalive death, and a later dial wins once the network returns", async () => {
    const broker = await fx.broker();
    const proxy = await startTcpProxy({ host: "127.0.0.1", port: broker.address().port });
    fx.defer(() => proxy.close());
    const node = uniqueNode();
    const sw = switchableDialer();
    const link = await fx.link(node, proxy.port, {
      keepaliveSeconds: 1,
      backoff: { baseMs: 50, maxMs: 50 },
      dial: sw.dial,
    });
    await vi.waitFor(() => expect(link.connected).toBe(true), { timeout: 10_000 });
    const before = sw.dials.length;
    const failures: string[] = [];
    link.onStatus((st) => {
      if (st.type === "disconnected" && st.failure) failures.push(st.failure);
    });

    // the uplink dies: the live link by keepalive, new connects by lost SYNs
    sw.setDead(true);
    proxy.setMode("blackhole");
    await vi.waitFor(() => expect(link.connected).toBe(false), { timeout: 5_000 });
    // several connects waiting at once (one at a time would never exceed 1), already in the
    // first attempt after the keepalive death: no "unreachable" failure came first
    await vi.waitFor(
      () =>
        expect(sw.dials.slice(before).filter((d) => d.outcome === "pending").length).toBeGreaterThanOrEqual(
          3,
        ),
      { timeout: 5_000, interval: 50 },
    );
    expect(failures).toEqual(["answered"]);

    // the network returns: the next dial connects while earlier ones still wait
    sw.setDead(false);
    proxy.setMode("pass");
    await vi.waitFor(() => expect(link.connected).toBe(true), { timeout: 10_000 });
    const after = sw.dials.slice(before);
    const winners = after.filter((d) => d.outcome === "connected");
    expect(winners.length).toBe(1);
    // every dial that was waiting when the winner connected was aborted, none left pending
    expect(after.filter((d) => d.outcome === "pending")).toEqual([]);
    const winner = winners[0];
    if (!winner) throw new Error("no winning dial");
    const earlier = after.filter((d) => d.startedAt < winner.startedAt);
    expect(earlier.some((d) => d.outcome === "aborted")).toBe(true);
  });
});
