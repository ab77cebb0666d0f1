/**
 * Link cut for 30 s: the proxy between a real agent and a real hub resets every connection and
 * refuses new ones while the hub keeps changing the node's pods and ConfigMaps and the agent
 * keeps reporting pod status into its outbox. When the link returns both views converge, with
 * nothing lost and nothing applied or written twice.
 */
import { describe, expect, it, vi } from "vitest";
import { agentView } from "../../helpers/fault-agent.js";
import { churningAgent } from "../../helpers/fault-rig.js";
import { hasKubectl, need } from "../../helpers/prereq.js";

describe.skipIf(!need(hasKubectl()))("edge fault: link cut", () => {
  it("a 30 s cut with changes on both ends converges with no lost or duplicated update", async () => {
    const { rig, ledger, proxy, a, churn } = await churningAgent({ statusEveryMs: 300 });
    await vi.waitFor(() => expect(churn.steps).toBeGreaterThan(3), { timeout: 10_000 });

    proxy.setMode("cut");
    await vi.waitFor(() => expect(a.connected).toBe(false), { timeout: 5_000 });
    const during = agentView(a.dataDir, rig.ns, a.node);
    const stepsAtCut = churn.steps;
    const tries = proxy.accepted;
    await new Promise((r) => setTimeout(r, 30_000)); // the outage is the spec: 30 s
    expect(churn.steps).toBeGreaterThan(stepsAtCut + 10); // the hub kept changing things
    expect(proxy.accepted).toBeGreaterThan(tries + 3); // the agent kept retrying (backoff capped)
    // offline: the agent's cache changed only by what arrived before the cut
    expect(agentView(a.dataDir, rig.ns, a.node)).toEqual(during);
    expect(a.agent?.pendingStatus()).toBeGreaterThan(0);

    proxy.setMode("pass");
    await rig.settle(a, churn, ledger);
  }, 120_000);
});
