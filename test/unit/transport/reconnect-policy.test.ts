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
  });
});
