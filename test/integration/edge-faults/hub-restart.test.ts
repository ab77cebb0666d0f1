/**
 * Hub restart: the hub is stopped and started again on the same data dir and ports, twice,
 * while the desired state keeps changing whenever the hub is up and the agent keeps reporting
 * pod status (into its outbox while the hub is down). The agent reconnects on its own,
 * resyncs (a snapshot, since the hub's change history is in memory) and both views converge
 * with nothing lost or applied twice — status that was in flight when the hub stopped included.
 */
import { describe, expect, it, vi } from "vitest";
import { churningAgent } from "../../helpers/fault-rig.js";
import { hasKubectl, need } from "../../helpers/prereq.js";

describe.skipIf(!need(hasKubectl()))("edge fault: hub restart", () => {
  it("converges after two hub restarts with no lost or duplicated update", async () => {
    const { rig, ledger, proxy, a, churn } = await churningAgent({ statusEveryMs: 200 });
    for (let round = 0; round < 2; round++) {
      const steps = churn.steps;
      await vi.waitFor(() => expect(churn.steps).toBeGreaterThan(steps + 8), { timeout: 45_000 });
      const accepted = proxy.accepted;
      await rig.hub.stop();
      await vi.waitFor(() => expect(a.connected).toBe(false), { timeout: 20_000 });
      // status keeps being reported while the hub is down and waits in the outbox (coalesced
      // per pod, so its size need not grow: count the reports instead)
      const reports = a.reports;
      await vi.waitFor(
        () => {
          expect(a.reports).toBeGreaterThan(reports + 3);
          expect(a.agent?.pendingStatus()).toBeGreaterThan(0);
        },
        { timeout: 20_000 },
      );
      await rig.hub.start();
      await vi.waitFor(() => expect(a.connected).toBe(true), { timeout: 45_000 });
      expect(proxy.accepted).toBeGreaterThan(accepted); // a new connection, to the new hub
    }
    await rig.settle(a, churn, ledger);
  }, 240_000);
});
