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
  it("renews the lease every 5 min and sends node status only on change or after an hour", async () => {
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
    vi.advanceTimersByTime(3_300_000); // 11 beats, nothing changed
    expect(sent).toEqual(Array(11).fill("lease/pi"));
    sent.length = 0;
    vi.advanceTimersByTime(300_000); // an hour since the last status
    expect(sent).toEqual(["lease/pi", "node/pi"]);
    sent.length = 0;
    hb.updateFacts({ ...FACTS, containerRuntimeVersion: "docker://24.0.7" });
    expect(sent).toEqual(["lease/pi", "node/pi"]);
    hb.stop();
    sent.length = 0;
    vi.advanceTimersByTime(3_600_000);
    expect(sent).toEqual([]);
  });

  it("maps Node's architecture names to Go's", () => {
    expect(goArch("x64")).toBe("amd64");
    expect(goArch("arm64")).toBe("arm64");
    expect(goArch("arm")).toBe("arm");
  });
});
