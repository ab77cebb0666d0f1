/**
 * Slow link: 300 ms added to every chunk each way by the proxy (a satellite or congested cellular
 * link), while the desired state and the pod status keep changing. Deltas queue up behind each
 * other and acks arrive late; both views still converge with no lost or duplicated update.
 */
import { describe, expect, it, vi } from "vitest";
import { churningAgent } from "../../helpers/fault-rig.js";
import { hasKubectl, need } from "../../helpers/prereq.js";

describe.skipIf(!need(hasKubectl()))("edge fault: slow link", () => {
  it("300 ms latency each way converges with no lost or duplicated update", async () => {
    const { rig, ledger, proxy, a, churn } = await churningAgent({
      statusEveryMs: 100,
      churnEveryMs: 150,
      proxyLatencyMs: 300,
    });
    await vi.waitFor(() => expect(churn.steps).toBeGreaterThan(60), { timeout: 30_000, interval: 250 });
    expect(a.connected).toBe(true); // slow is not down: keepalive must not give up on it
    await rig.settle(a, churn, ledger);
    expect(proxy.accepted).toBe(1);
  }, 120_000);
});
