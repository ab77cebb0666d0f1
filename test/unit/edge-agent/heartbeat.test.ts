import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { NodeHeartbeat } from "../../../src/edge-agent/heartbeat.js";
import type { NodeFacts } from "../../../src/edge-agent/node-facts.js";
import { goArch } from "../../../src/edge-agent/node-facts.js";
import { silentLogger } from "../../../src/lib/logger.js";

const FACTS: NodeFacts = {
  architecture: "arm64",
  operatingSystem: "linux",
  kernelVersion: "6.1",
  osImage: "Debian",
  containerRuntimeVersion: "docker://unknown",
  cpu: 4,
  memoryBytes: 4 * 1024 ** 3,
  ephemeralStorageBytes: 1024 ** 3,
  pods: 110,
  machineID: "m",
  bootID: "b",
  hostname: "pi",
};

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-01-01T00:00:00Z") });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("NodeHeartbeat", () => {
  it("reports status and lease at start, on change and about hourly, nothing in between", async () => {
    const sent: string[] = [];
    const last = new Map<string, unknown>();
    const hb = new NodeHeartbeat({
      node: "pi",
      nodeIP: "192.168.1.20",
      facts: FACTS,
      report: (key, status) => {
        sent.push(key);
        last.set(key, status);
      },
      logger: silentLogger(),
      random: () => 0, // no jitter: the refresh comes after exactly an hour
    });
    await hb.start();
    expect(sent).toEqual(["lease/pi", "node/pi"]);
    expect(last.get("node/pi")).toMatchObject({
      capacity: { cpu: "4", memory: "4194304Ki", pods: "110", "ephemeral-storage": "1048576Ki" },
      addresses: [
        { type: "InternalIP", address: "192.168.1.20" },
        { type: "Hostname", address: "pi" },
      ],
      nodeInfo: { architecture: "arm64", bootID: "b" },
      conditions: [{ type: "Ready", status: "True", reason: "KubeletReady" }],
    });
    expect(last.get("lease/pi")).toEqual({
      holderIdentity: "pi",
      leaseDurationSeconds: 40,
      renewTime: "2026-01-01T00:00:00.000000Z",
    });
    sent.length = 0;
    vi.advanceTimersByTime(3_300_000); // 11 checks, nothing changed: nothing on the wire
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(300_000); // an hour since the last report
    expect(sent).toEqual(["lease/pi", "node/pi"]);
    expect(last.get("lease/pi")).toMatchObject({ renewTime: "2026-01-01T01:00:00.000000Z" });
    sent.length = 0;
    hb.updateFacts({ ...FACTS, containerRuntimeVersion: "docker://24.0.7" });
    expect(sent).toEqual(["lease/pi", "node/pi"]);
    hb.stop();
    sent.length = 0;
    vi.advanceTimersByTime(3_600_000);
    expect(sent).toEqual([]);
  });

  it("jitters the hourly refresh so a fleet booted together drifts apart", async () => {
    const at: number[] = [];
    const hb = new NodeHeartbeat({
      node: "pi",
      nodeIP: "192.168.1.20",
      facts: FACTS,
      report: (key) => key.startsWith("node/") && at.push(Date.now()),
      logger: silentLogger(),
      random: () => 0.99, // refresh due after 1 h × (1 − 0.25 × 0.99) ≈ 45.2 min → the 50-min check
    });
    await hb.start();
    vi.advanceTimersByTime(3_600_000);
    hb.stop();
    const start = new Date("2026-01-01T00:00:00Z").getTime();
    expect(at.map((t) => (t - start) / 60_000)).toEqual([0, 50]);
  });

  it("maps Node's architecture names to Go's", () => {
    expect(goArch("x64")).toBe("amd64");
    expect(goArch("arm64")).toBe("arm64");
    expect(goArch("arm")).toBe("arm");
  });
});
