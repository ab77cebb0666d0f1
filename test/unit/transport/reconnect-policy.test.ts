/** ReconnectPolicy with a fake clock and a fake random source; classifyFailure's table. */
import { describe, expect, it } from "vitest";
import { classifyFailure, ReconnectPolicy } from "../../../src/transport/reconnect-policy.js";

const err = (code: unknown, message = "x") => Object.assign(new Error(message), { code });

function rig(random = () => 0.999) {
  const clock = { t: 1_000_000 };
  const policy = new ReconnectPolicy(
    { baseMs: 1000, maxMs: 30_000, probeMinMs: 500, probeMaxMs: 2000, stableMs: 10_000 },
    random,
    () => clock.t,
  );
  return { policy, clock };
}

describe("classifyFailure", () => {
  it("reads no answer at all as unreachable", () => {
    for (const code of ["ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENETDOWN", "EAI_AGAIN"]) {
      expect(classifyFailure(err(code))).toBe("unreachable");
    }
  });

  it("reads an answer that went wrong as answered", () => {
    for (const code of [
      "ECONNREFUSED",
      "ECONNRESET",
      "EPIPE",
      "ERR_TLS_CERT_ALTNAME_INVALID",
      3,
      undefined,
    ]) {
      expect(classifyFailure(err(code))).toBe("answered");
    }
    expect(classifyFailure(new Error("connack timeout"))).toBe("answered");
    expect(classifyFailure(new Error("Keepalive timeout"))).toBe("answered");
    expect(classifyFailure(undefined)).toBe("answered"); // a plain close of a live connection
  });

  it("reads CONNACK 4 and 5 as refused credentials", () => {
    expect(classifyFailure(err(4))).toBe("auth");
    expect(classifyFailure(err(5))).toBe("auth");
  });
});

describe("ReconnectPolicy", () => {
  it("backs off exponentially with full jitter after answered failures, capped", () => {
    const { policy } = rig();
    const d = Array.from({ length: 8 }, () => policy.next("answered"));
    expect(d).toEqual([999, 1998, 3996, 7992, 15984, 29970, 29970, 29970]);
    const low = rig(() => 0).policy;
    expect(low.next("answered")).toBe(0);
  });

  it("probes an unreachable hub within [probeMin, probeMax], whatever came before", () => {
    const { policy } = rig();
    for (let i = 0; i < 6; i++) policy.next("answered");
    expect(policy.failures).toBe(6);
    expect(policy.next("unreachable")).toBe(1998);
    expect(policy.next("unreachable")).toBe(1998);
    expect(rig(() => 0).policy.next("unreachable")).toBe(500);
    // probing leaves the backoff where it was: the next answered failure continues from there
    expect(policy.failures).toBe(6);
    expect(policy.next("answered")).toBe(29970);
  });

  it("waits the maximum after refused credentials", () => {
    const { policy } = rig(() => 0);
    expect(policy.next("auth")).toBe(30_000);
  });

  it("resets the backoff only after a connection stayed up stableMs", () => {
    const { policy, clock } = rig();
    policy.next("answered");
    policy.next("answered");
    policy.connected();
    clock.t += 9_999; // flapped right after CONNACK: keeps backing off
    expect(policy.next("answered")).toBe(3996);
    policy.connected();
    clock.t += 10_000;
    expect(policy.next("answered")).toBe(999);
  });

  it("refuses nonsensical bounds with a message saying what to fix", () => {
    expect(() => new ReconnectPolicy({ baseMs: 0 })).toThrow(/0 < baseMs <= maxMs/);
    expect(() => new ReconnectPolicy({ probeWiden: { wideMaxMs: 1000 } })).toThrow(
      /probing may only widen: .*wideMaxMs >= max\(wideMinMs, probeMaxMs\)/,
    );
    expect(() => new ReconnectPolicy({ probeWiden: { widenAfterMs: 10_000, wideAfterMs: 5_000 } })).toThrow(
      /widenAfterMs <= wideAfterMs/,
    );
  });
});

describe("ReconnectPolicy: probing after a long outage", () => {
  /** an unreachable hub probed every `stepMs` for `forMs`; returns [outage at the probe, delay] */
  function probeFor(policy: ReconnectPolicy, clock: { t: number }, forMs: number, stepMs = 1000) {
    const out: [number, number][] = [];
    for (let at = 0; at <= forMs; at += stepMs) {
      out.push([policy.unreachableForMs, policy.next("unreachable")]);
      clock.t += stepMs;
    }
    return out;
  }

  it("keeps the fast [0.5, 2] s window for the first 2 min of an outage", () => {
    const hi = rig(() => 0.999);
    const lo = rig(() => 0);
    const highs = probeFor(hi.policy, hi.clock, 119_000);
    const lows = probeFor(lo.policy, lo.clock, 119_000);
    expect(highs.at(-1)?.[0]).toBe(119_000);
    expect(new Set(highs.map(([, d]) => d))).toEqual(new Set([1998]));
    expect(new Set(lows.map(([, d]) => d))).toEqual(new Set([500]));
  });

  it("widens linearly from 2 min to [5, 15] s at 5 min, and stays there for days", () => {
    let r = 0.999;
    const { policy, clock } = rig(() => r);
    policy.next("unreachable"); // the outage starts here
    const at = (outageMs: number): [number, number] => {
      clock.t = 1_000_000 + outageMs;
      r = 0;
      const low = policy.next("unreachable");
      r = 0.999;
      return [low, policy.next("unreachable")];
    };
    expect(at(120_000)).toEqual([500, 1998]);
    // halfway (3.5 min): [0.5 + 4.5 / 2, 2 + 13 / 2] s
    expect(at(210_000)).toEqual([2750, 2750 + Math.floor(0.999 * 5750)]);
    expect(at(300_000)).toEqual([5000, 14990]);
    expect(at(3 * 24 * 3600_000)).toEqual([5000, 14990]);
    // the ceiling never shrinks while the outage lasts
    const ceilings = [120_000, 150_000, 180_000, 240_000, 299_000, 300_000, 600_000].map((ms) => at(ms)[1]);
    expect(ceilings).toEqual([...ceilings].sort((a, b) => a - b));
    expect(policy.failures).toBe(0); // probing never touched the backoff counter
  });

  it("starts over with the fast window once a connection comes up", () => {
    const { policy, clock } = rig(() => 0.999);
    probeFor(policy, clock, 400_000, 5000);
    expect(policy.next("unreachable")).toBe(14990);
    policy.connected();
    expect(policy.unreachableForMs).toBe(0);
    clock.t += 1000; // the link drops again right away and the hub is gone again
    expect(policy.next("answered")).toBe(999);
    const again = probeFor(policy, clock, 119_000);
    expect(Math.max(...again.map(([, d]) => d))).toBe(1998);
    clock.t += 30_000;
    expect(policy.next("unreachable")).toBeGreaterThan(1998); // 2.5 min into the new outage
  });

  it("starts over when the hub answers at all (TCP got through, then the attempt failed)", () => {
    for (const kind of ["answered", "auth"] as const) {
      const { policy, clock } = rig(() => 0.999);
      probeFor(policy, clock, 400_000, 5000);
      policy.next(kind);
      expect(policy.unreachableForMs).toBe(0);
      expect(policy.next("unreachable")).toBe(1998);
      clock.t += 119_000;
      expect(policy.next("unreachable")).toBe(1998);
    }
  });

  it("never narrows a fast window configured wider than the wide defaults", () => {
    const clock = { t: 0 };
    const policy = new ReconnectPolicy(
      { probeMinMs: 8000, probeMaxMs: 20_000 },
      () => 0.999,
      () => clock.t,
    );
    const d = probeFor(policy, clock, 3600_000, 60_000).map(([, x]) => x);
    expect(Math.min(...d)).toBe(Math.floor(8000 + 0.999 * 12_000));
    expect(Math.max(...d)).toBe(Math.floor(8000 + 0.999 * 12_000));
  });
});

describe("ReconnectPolicy probe dials", () => {
  it("dials with the full timeout until a connect time is known", () => {
    const { policy } = rig();
    expect(policy.dialTimeoutMs()).toBe(3500);
    policy.next("unreachable", 3500);
    expect(policy.dialTimeoutMs()).toBe(3500); // never connected: the link's round trip is unknown
    policy.tcpConnected(2);
    policy.connected();
    expect(policy.dialTimeoutMs()).toBe(1500); // known: short, also for the first dial after a drop
    policy.next("answered");
    expect(policy.dialTimeoutMs()).toBe(1500);
  });

  it("shortens dials to 4 × the fastest recent connect (the round trip), at least 1.5 s, at most the full timeout", () => {
    const { policy, clock } = rig();
    policy.tcpConnected(2);
    policy.connected();
    policy.next("unreachable", 3500);
    expect(policy.dialTimeoutMs()).toBe(1500); // a LAN: two SYNs (0 and 1 s), then the next probe
    policy.tcpConnected(2500); // a connect that queued behind a reconnect storm
    expect(policy.dialTimeoutMs()).toBe(1500); // the round trip is still 2 ms
    for (let i = 0; i < 8; i++) policy.tcpConnected(500); // a 500 ms round trip (the 2 ms one aged out)
    expect(policy.dialTimeoutMs()).toBe(2000);
    for (let i = 0; i < 8; i++) policy.tcpConnected(1200); // GPRS-like
    expect(policy.dialTimeoutMs()).toBe(3500);
    policy.tcpConnected(300);
    expect(policy.dialTimeoutMs()).toBe(1500);
    clock.t += 120_000; // the window widens: full dials again, for a link that became slower
    expect(policy.dialTimeoutMs()).toBe(3500);
  });

  it("runs the probe window from the start of the failed probe", () => {
    const hi = rig(() => 0.999);
    expect(hi.policy.next("unreachable", 1500)).toBe(498); // 1,998 − 1,500
    expect(hi.policy.next("unreachable", 3500)).toBe(0); // a full dial: the next one at once
    expect(hi.policy.next("unreachable")).toBe(1998); // no route: failed at once, the whole window
    const lo = rig(() => 0);
    expect(lo.policy.next("unreachable", 200)).toBe(300);
    expect(rig(() => 0.999).policy.next("answered", 5000)).toBe(999); // backoff is not shortened
  });

  it("refuses a dial timeout that is not positive", () => {
    expect(() => new ReconnectPolicy({ dialMs: 0 })).toThrow(/dialMs > 0/);
  });
});
