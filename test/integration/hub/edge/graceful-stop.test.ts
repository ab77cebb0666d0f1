/**
 * A hub that stops writes what it holds in memory before its store closes: renewals coalesced
 * since the last lease flush reach the Lease, and nothing fails with "the store is stopped".
 * (The store used to follow the hub's abort signal and close first, so every stop lost these
 * writes and logged a failure per node.)
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, it, vi } from "vitest";
import { refs } from "../../../../src/client/client.js";
import { builtinResources } from "../../../../src/hub/apiserver/builtin-resources.js";
import { ObjectStore } from "../../../../src/hub/apiserver/object-store.js";
import { ResourceRegistry } from "../../../../src/hub/apiserver/registry.js";
import { LEASE_NAMESPACE } from "../../../../src/hub/edge/heartbeats.js";
import { SqliteBackend } from "../../../../src/hub/store/index.js";
import { joinSimAgent } from "../../../helpers/edge-agent-sim.js";
import { startHub } from "../../../helpers/hub.js";

const WAIT = { timeout: 20_000, interval: 50 };

async function storedRenewTime(dataDir: string, node: string): Promise<string | undefined> {
  const backend = new SqliteBackend({ path: join(dataDir, "state.db"), compactIntervalMs: 0 });
  await backend.start();
  try {
    const leases = new ResourceRegistry(builtinResources()).byKind("coordination.k8s.io", "Lease")!;
    const lease = await new ObjectStore({ backend }).get(leases, LEASE_NAMESPACE, node);
    return (lease?.spec as { renewTime?: string } | undefined)?.renewTime;
  } finally {
    await backend.stop();
  }
}

describe("hub stop", () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it("writes renewals coalesced in memory before the store closes", async () => {
    const warnings: string[] = [];
    const logger = pino({ level: "warn" }, { write: (line: string) => void warnings.push(line) });
    // no flush of its own during the test: only stop() can write the later renewals
    const h = await startHub({ leaseFlushIntervalMs: 3_600_000, logger });
    let stopped = false;
    cleanup.push(() => (stopped ? Promise.resolve() : h.stop()));
    const a = await joinSimAgent(h.hub, h.dataDir, "gs", { heartbeatMs: 100 });
    const node = a.node;
    cleanup.push(() => a.stop());
    const renew = vi.spyOn(h.hub.edgeService.heartbeats, "renew");
    await a.start();

    // the first renewal is written at once (the Lease exists right after join)
    const c = h.hub.client!;
    let first: string | undefined;
    await vi.waitFor(async () => {
      const lease = await c.get(refs.leases, LEASE_NAMESPACE, node);
      first = (lease?.spec as { renewTime?: string } | undefined)?.renewTime;
      expect(first).toBeTruthy();
    }, WAIT);
    // later heartbeats only move the renewal time in memory
    const seen = renew.mock.calls.filter(([n]) => n === node).length;
    await vi.waitFor(
      () => expect(renew.mock.calls.filter(([n]) => n === node).length).toBeGreaterThan(seen + 1),
      WAIT,
    );

    // the agent stays connected: its link going down first would (rightly) drop the renewal
    await h.stop({ keepData: true });
    stopped = true;
    cleanup.push(async () => rmSync(h.dataDir, { recursive: true, force: true }));

    const last = await storedRenewTime(h.dataDir, node);
    expect(last).toBeTruthy();
    expect(Date.parse(last!)).toBeGreaterThan(Date.parse(first!));
    expect(warnings.filter((l) => l.includes("store is stopped"))).toEqual([]);
  });
});
