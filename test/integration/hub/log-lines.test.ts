/**
 * The hub's log lines are JSON with one value per key: a component that hands its logger to
 * its parts hands it on as it came, and each part names itself, so no line carries two
 * `component` (or `node`) keys. A line with duplicate keys is ambiguous to log shippers (JSON
 * parsers keep one of the two, which one depends on the tool). The edge link was the case:
 * the hub bound component "edge" and every part of it bound its own on top.
 */
import { pino } from "pino";
import { afterAll, describe, expect, it, vi } from "vitest";
import { refs } from "../../../src/client/client.js";
import { joinSimAgent } from "../../helpers/edge-agent-sim.js";
import { startHub } from "../../helpers/hub.js";

const WAIT = { timeout: 20_000, interval: 50 };

describe("hub log lines", () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it("name one component each, with a connected agent, its sync and its status", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "debug" }, { write: (line: string) => void lines.push(line) });
    const h = await startHub({ logger, leaseFlushIntervalMs: 200 });
    cleanup.push(() => h.stop());
    const a = await joinSimAgent(h.hub, h.dataDir, "log");
    const node = a.node;
    cleanup.push(() => a.stop());
    await a.start();
    const c = h.hub.client!;
    await c.create(refs.pods, "default", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: node },
      spec: { nodeName: node, containers: [{ name: "c", image: "busybox" }] },
    });
    await vi.waitFor(() => expect(a.keys()).toContain(`core/pods/default/${node}`), WAIT);
    // the edge link's parts have spoken: broker, desired index, sync hub, heartbeats
    const components = () => new Set(lines.map((l) => (JSON.parse(l) as { component?: string }).component));
    await vi.waitFor(() => {
      for (const part of ["mqtt-broker", "desired-index", "edge"]) expect(components()).toContain(part);
    }, WAIT);

    const duplicated = lines.filter(
      (l) => (l.match(/"component":/g) ?? []).length > 1 || (l.match(/"node":/g) ?? []).length > 1,
    );
    expect(duplicated).toEqual([]);
  });
});
