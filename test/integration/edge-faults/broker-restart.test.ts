/**
 * Broker restart: only the hub's embedded MQTT broker is stopped and started again on the same
 * port (the API server, store and sync engine stay up), twice, while the desired state keeps
 * changing and the agent keeps reporting status. Every link drops with the broker; the agent
 * reconnects and resyncs from its watermark (a delta: the hub's history survived) and both
 * views converge with no lost or duplicated update.
 */
import { describe, expect, it, vi } from "vitest";
import { churningAgent } from "../../helpers/fault-rig.js";
import { hasKubectl, need } from "../../helpers/prereq.js";

describe.skipIf(!need(hasKubectl()))("edge fault: broker restart", () => {
  it("converges after two broker restarts with no lost or duplicated update", async () => {
    const { rig, ledger, proxy, a, churn } = await churningAgent({ statusEveryMs: 200 });
    for (let round = 0; round < 2; round++) {
      const steps = churn.steps;
      await vi.waitFor(() => expect(churn.steps).toBeGreaterThan(steps + 8), { timeout: 45_000 });
      const accepted = proxy.accepted;
      let sawDown = false;
      const probe = setInterval(() => {
        sawDown ||= !a.connected;
      }, 20);
      await rig.hub.restartBroker(3_000); // the hub keeps serving (and churning) meanwhile
      clearInterval(probe);
      expect(sawDown).toBe(true);
      await vi.waitFor(() => expect(a.connected).toBe(true), { timeout: 45_000 });
      expect(proxy.accepted).toBeGreaterThan(accepted);
    }
    await rig.settle(a, churn, ledger);
  }, 240_000);
});
