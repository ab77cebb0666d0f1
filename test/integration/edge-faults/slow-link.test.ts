/**
 * Slow link: 300 ms added to every chunk each way by the proxy (a satellite or congested cellular
 * link), while the desired state and the pod status keep changing. Deltas queue up behind each
 * other and acks arrive late; both views still converge with no lost or duplicated update.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { FaultRig } from "../../helpers/fault-rig.js";
import { hasKubectl, need } from "../../helpers/prereq.js";

let rig: FaultRig;
afterEach(async () => {
  await rig.cleanup();
});

describe.skipIf(!need(hasKubectl()))("edge fault: slow link", () => {
  it("300 ms latency each way converges with no lost or duplicated update", async () => {
    rig = new FaultRig();
    await rig.startHub();
    const ledger = rig.ledger();
    const proxy = await rig.proxy();
    proxy.setLatency(300);
    const a = await rig.agent(proxy);
    const churn = rig.churn(a.node, 150);
    a.startStatusChurn(100);
    await vi.waitFor(() => expect(churn.steps).toBeGreaterThan(60), { timeout: 30_000, interval: 250 });
    expect(a.connected).toBe(true); // slow is not down: keepalive must not give up on it
    await rig.settle(a, churn, ledger);
    expect(proxy.accepted).toBe(1);
  }, 120_000);
});
