import type { Pod } from "kubernetes-types/core/v1";
import { describe, expect, it } from "vitest";
import { usageFromStats } from "../../../src/edge-agent/streams/metrics-collector.js";
import { cpuQuantity, MetricsStore, memoryQuantity } from "../../../src/hub/metrics/index.js";
import { execStatusMessage, parseLogQuery, pickContainer, podNode } from "../../../src/hub/streams/index.js";
import { silentLogger } from "../../../src/lib/logger.js";
import { parseMetricsReport } from "../../../src/transport/streams/index.js";

const pod = (containers: string[], init: string[] = [], annotations?: Record<string, string>): Pod => ({
  metadata: { name: "p", namespace: "default", ...(annotations ? { annotations } : {}) },
  spec: {
    containers: containers.map((name) => ({ name })),
    ...(init.length ? { initContainers: init.map((name) => ({ name })) } : {}),
  },
});

describe("container choice (upstream wording)", () => {
  it("takes the only container, or the named one", () => {
    expect(pickContainer(pod(["a"]), undefined)).toBe("a");
    expect(pickContainer(pod(["a", "b"], ["i"]), "i")).toBe("i");
  });
  it("asks for a name when there are several", () => {
    expect(() => pickContainer(pod(["a", "b"]), undefined)).toThrow(
      "a container name must be specified for pod p, choose one of: [a b]",
    );
    expect(() => pickContainer(pod(["a", "b"], ["i"]), undefined)).toThrow(
      "choose one of: [a b] or one of the init containers: [i]",
    );
  });
  it("honours the default-container annotation and rejects unknown names", () => {
    const p = pod(["a", "b"], [], { "kubectl.kubernetes.io/default-container": "b" });
    expect(pickContainer(p, undefined)).toBe("b");
    expect(() => pickContainer(p, "zz")).toThrow("container zz is not valid for pod p");
  });
  it("needs a node", () => {
    expect(() => podNode(pod(["a"]))).toThrow("pod p does not have a host assigned");
  });
});

describe("log query", () => {
  const now = new Date("2026-01-01T00:01:40Z");
  it("turns sinceSeconds and sinceTime into unix seconds", () => {
    expect(parseLogQuery(new URLSearchParams("sinceSeconds=40"), now).since).toBe(now.getTime() / 1000 - 40);
    expect(parseLogQuery(new URLSearchParams("sinceTime=2026-01-01T00:00:00Z"), now).since).toBe(
      Date.parse("2026-01-01T00:00:00Z") / 1000,
    );
    const q = parseLogQuery(new URLSearchParams("follow=true&tailLines=0&timestamps=1&container=c"), now);
    expect(q).toMatchObject({
      follow: true,
      tailLines: 0,
      timestamps: true,
      container: "c",
      previous: false,
    });
  });
  it("rejects what upstream rejects", () => {
    expect(() =>
      parseLogQuery(new URLSearchParams("sinceSeconds=1&sinceTime=2026-01-01T00:00:00Z"), now),
    ).toThrow("at most one of `sinceTime` or `sinceSeconds` may be specified");
    expect(() => parseLogQuery(new URLSearchParams("tailLines=-1"), now)).toThrow(/tailLines/);
    expect(() => parseLogQuery(new URLSearchParams("limitBytes=0"), now)).toThrow(/limitBytes/);
    expect(() => parseLogQuery(new URLSearchParams("sinceSeconds=x"), now)).toThrow(/not an integer/);
  });
});

describe("exec status", () => {
  it("maps exit codes to what kubectl reads", () => {
    expect(execStatusMessage({ exitCode: 0 }, ["true"])).toEqual({ metadata: {}, status: "Success" });
    const f = execStatusMessage({ exitCode: 3 }, ["sh", "-c", "exit 3"]);
    expect(f).toMatchObject({
      status: "Failure",
      reason: "NonZeroExitCode",
      details: { causes: [{ reason: "ExitCode", message: "3" }] },
    });
    expect(execStatusMessage({ error: "boom" }, [])).toMatchObject({ status: "Failure", message: "boom" });
  });
});

describe("metrics", () => {
  it("computes nanocores and working set from one Docker stats sample", () => {
    const u = usageFromStats({
      read: "2026-01-01T00:00:01.000Z",
      preread: "2026-01-01T00:00:00.000Z",
      cpu_stats: { cpu_usage: { total_usage: 1_500_000_000 } },
      precpu_stats: { cpu_usage: { total_usage: 1_000_000_000 } },
      memory_stats: { usage: 10 * 1024 * 1024, stats: { inactive_file: 2 * 1024 * 1024 } },
    });
    expect(u).toEqual({ cpuNanoCores: 500_000_000, memoryBytes: 8 * 1024 * 1024, windowSeconds: 1 });
    expect(
      usageFromStats({ memory_stats: { usage: 5, stats: { total_inactive_file: 9 } } }).memoryBytes,
    ).toBe(0);
  });
  it("formats quantities like metrics-server", () => {
    expect(cpuQuantity(1234567.4)).toBe("1234567n");
    expect(memoryQuantity(8 * 1024 * 1024)).toBe("8192Ki");
  });
  it("validates reports and serves only fresh ones", () => {
    expect(() => parseMetricsReport({ node: {}, pods: [] })).toThrow(/node.timestamp/);
    const report = parseMetricsReport({
      node: { timestamp: "t", windowSeconds: 15, usage: { cpuNanoCores: 1, memoryBytes: 2 } },
      pods: [{ namespace: "a", name: "p", uid: "u", timestamp: "t", windowSeconds: 1, containers: [] }],
    });
    let now = 0;
    const store = new MetricsStore({ logger: silentLogger(), now: () => now, maxAgeMs: 1000 });
    store.put("n1", report);
    expect(store.pods("a")).toHaveLength(1);
    expect(store.pods("b")).toHaveLength(0);
    now = 2000;
    expect(store.nodes()).toHaveLength(0);
  });
});
