/**
 * Flapping link: the proxy cuts the link and lets it through again every 2 s for a minute, while
 * the desired state and the pod status keep changing. Sessions start and die mid-delta,
 * mid-snapshot and mid-status; at the end both views converge with nothing lost or duplicated.
 */
import { describe, expect, it, vi } from "vitest";
import { churningAgent } from "../../helpers/fault-rig.js";
import { hasKubectl, need } from "../../helpers/prereq.js";

describe.skipIf(!need(hasKubectl()))("edge fault: flapping link", () => {
  it("down/up every 2 s for 60 s converges with no lost or duplicated update", async () => {
    const { rig, ledger, proxy, a, churn } = await churningAgent({ statusEveryMs: 150, churnEveryMs: 200 });
    let flips = 0;
    let connectedWhileUp = 0;
    const flapper = setInterval(() => {
      if (proxy.mode === "pass" && a.connected) connectedWhileUp++;
      proxy.setMode(proxy.mode === "pass" ? "cut" : "pass");
      flips++;
    }, 2_000);
    rig.defer(() => clearInterval(flapper));
    await vi.waitFor(() => expect(flips).toBeGreaterThanOrEqual(30), { timeout: 70_000, interval: 500 });
    clearInterval(flapper);
    proxy.setMode("pass");
    // the link really carried traffic in between: the agent was up in most "up" phases
    expect(connectedWhileUp).toBeGreaterThan(5);
    expect(proxy.accepted).toBeGreaterThan(10);
    await rig.settle(a, churn, ledger);
  }, 150_000);
});
