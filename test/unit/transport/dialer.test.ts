/** dialWithTimeout with fake dialers: the timeout error, cancellation, and the abort reaching the dial. */
import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { type Dialer, dialWithTimeout, TcpConnectTimeoutError } from "../../../src/transport/dialer.js";
import { classifyFailure } from "../../../src/transport/reconnect-policy.js";

const target = { host: "127.0.0.1", port: 1 };

/** a dial that never settles by itself (a SYN in a black hole); records the abort it saw */
function blackHole(): { dial: Dialer; aborted: () => boolean } {
  let aborted = false;
  const dial: Dialer = (_t, signal) =>
    new Promise<Socket>((_resolve, reject) => {
      signal.addEventListener("abort", () => {
        aborted = true;
        reject(signal.reason);
      });
    });
  return { dial, aborted: () => aborted };
}

describe("dialWithTimeout", () => {
  it("aborts an unanswered dial at the timeout with an error read as unreachable", async () => {
    const hole = blackHole();
    const e = await dialWithTimeout(hole.dial, target, 20).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TcpConnectTimeoutError);
    expect((e as Error).message).toMatch(/no answer from the hub at 127\.0\.0\.1:1 within 20 ms/);
    expect(classifyFailure(e as Error)).toBe("unreachable");
    expect(hole.aborted()).toBe(true);
  });

  it("passes the dial's own error through (refused is not a timeout)", async () => {
    const refused: Dialer = () =>
      Promise.reject(Object.assign(new Error("refused"), { code: "ECONNREFUSED" }));
    const e = await dialWithTimeout(refused, target, 1000).catch((x: unknown) => x);
    expect((e as { code?: string }).code).toBe("ECONNREFUSED");
    expect(classifyFailure(e as Error)).toBe("answered");
  });

  it("cancels with the caller's reason when the link stops", async () => {
    const hole = blackHole();
    const cancel = new AbortController();
    const p = dialWithTimeout(hole.dial, target, 60_000, cancel.signal).catch((x: unknown) => x);
    cancel.abort(new Error("edge link stopped"));
    expect(((await p) as Error).message).toBe("edge link stopped");
    expect(hole.aborted()).toBe(true);
  });
});
