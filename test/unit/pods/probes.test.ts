import { describe, expect, it } from "vitest";
import type { Clock, ProbeResult } from "../../../src/edge-agent/pods/index.js";
import { ContainerProbes, type ProbeKind } from "../../../src/edge-agent/pods/probe-worker.js";

/** A fake clock whose timers fire only when the test advances time. */
class FakeClock implements Clock {
  t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private next = 1;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== h);
  }
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const due = this.timers[0];
      if (!due || due.at > end) break;
      this.timers.shift();
      this.t = due.at;
      due.fn();
      for (let i = 0; i < 5; i++) await Promise.resolve();
    }
    this.t = end;
  }
}

function setup(spec: ConstructorParameters<typeof ContainerProbes>[0], answer: (kind: string) => boolean) {
  const clock = new FakeClock();
  const log: string[] = [];
  const calls: string[] = [];
  const probes = new ContainerProbes(
    spec,
    { podUid: "u", container: spec },
    0,
    async (probe): Promise<ProbeResult> => {
      const kind =
        probe === spec.startupProbe ? "startup" : probe === spec.livenessProbe ? "liveness" : "readiness";
      calls.push(`${clock.t}:${kind}`);
      return { ok: answer(kind), output: "nope" };
    },
    clock,
    {
      onChange: () => log.push("change"),
      onFailure: (k: ProbeKind) => log.push(`fail:${k}`),
      onKill: (k: ProbeKind) => log.push(`kill:${k}`),
    },
  );
  return { clock, log, calls, probes };
}

const exec = { exec: { command: ["true"] } };

describe("ContainerProbes", () => {
  it("gates liveness and readiness on the startup probe", async () => {
    let startupOk = false;
    const { clock, calls, probes, log } = setup(
      {
        name: "c",
        startupProbe: { ...exec, periodSeconds: 1, failureThreshold: 10 },
        livenessProbe: { ...exec, periodSeconds: 5 },
        readinessProbe: { ...exec, initialDelaySeconds: 3, periodSeconds: 2 },
      },
      (k) => k !== "startup" || startupOk,
    );
    expect(probes.started).toBe(false);
    await clock.advance(2500);
    expect(calls).toEqual(["0:startup", "1000:startup", "2000:startup"]);
    expect(probes.ready).toBe(false);
    startupOk = true;
    await clock.advance(1000);
    expect(probes.started).toBe(true);
    expect(log).toContain("change");
    await clock.advance(1000);
    // readiness's initial delay (3s after container start) has passed: it runs right away
    expect(calls.filter((c) => c.endsWith("readiness"))).toEqual(["3000:readiness"]);
    expect(probes.ready).toBe(true);
    expect(calls.filter((c) => c.endsWith("liveness"))).toEqual(["3000:liveness"]);
  });

  it("flips readiness after successThreshold / failureThreshold", async () => {
    let ok = true;
    const { clock, probes } = setup(
      { name: "c", readinessProbe: { ...exec, periodSeconds: 1, successThreshold: 2, failureThreshold: 2 } },
      () => ok,
    );
    await clock.advance(0);
    expect(probes.ready).toBe(false);
    await clock.advance(1000);
    expect(probes.ready).toBe(true);
    ok = false;
    await clock.advance(1000);
    expect(probes.ready).toBe(true);
    await clock.advance(1000);
    expect(probes.ready).toBe(false);
  });

  it("asks for one restart after failureThreshold liveness failures, then stops probing", async () => {
    const { clock, log, calls } = setup(
      { name: "c", livenessProbe: { ...exec, periodSeconds: 1, failureThreshold: 3 } },
      () => false,
    );
    await clock.advance(10_000);
    expect(log.filter((l) => l === "fail:liveness")).toHaveLength(3);
    expect(log.filter((l) => l.startsWith("kill"))).toEqual(["kill:liveness"]);
    expect(calls).toHaveLength(3);
  });
});
